import Foundation
import Synchronization

/// Hands out the credentials for each request, caching what is expensive to obtain.
///
/// Guarantees: a token file is re-read on every call (service-account tokens rotate, and
/// the read is a few microseconds); exec-plugin credentials are cached until shortly before
/// their `expirationTimestamp` (or until `invalidate()` when they carry none), and concurrent
/// callers share one plugin run; `invalidate()` (called after a 401) forces the next call
/// to obtain fresh credentials.
public final class CredentialProvider: Sendable {
    public enum Source: Sendable {
        case none
        case fixed(RequestCredentials)
        /// Bearer token read from a file, e.g. the projected service-account token.
        case tokenFile(path: String)
        /// A client.authentication.k8s.io exec plugin such as `aws eks get-token`.
        case exec(ExecCredentialConfig)
    }

    public let source: Source
    /// Client certificate and key sent along with a `.tokenFile` token.
    public let clientCertificate: RequestCredentials
    let cache = Mutex<CachedCredentials?>(nil)
    let pluginRun = Mutex<Task<(credentials: RequestCredentials, expiration: Date?), any Error>?>(nil)

    struct CachedCredentials: Sendable {
        var credentials: RequestCredentials
        var validUntil: Date?
    }

    public init(source: Source, clientCertificate: RequestCredentials = RequestCredentials()) {
        self.source = source
        self.clientCertificate = clientCertificate
    }

    public func credentials() async throws -> RequestCredentials {
        switch source {
        case .none:
            return RequestCredentials()
        case .fixed(let credentials):
            return credentials
        case .tokenFile(let path):
            return try tokenFileCredentials(path: path)
        case .exec(let config):
            if let cached = cache.withLock({ $0 }), cached.validUntil.map({ $0 > Date() }) ?? true {
                return cached.credentials
            }
            let run = pluginRun.withLock { running in
                if let running { return running }
                let started = Task { try await ExecCredentialRunner.run(config) }
                running = started
                return started
            }
            let result: (credentials: RequestCredentials, expiration: Date?)
            do {
                result = try await run.value
            } catch {
                pluginRun.withLock { if $0 == run { $0 = nil } }
                throw error
            }
            let validUntil = result.expiration.map { Self.refreshTime(expiration: $0, now: Date()) }
            // The first waiter to finish stores the result and retires the run (lock order:
            // pluginRun, then cache; nothing takes them the other way round).
            pluginRun.withLock { running in
                guard running == run else { return }
                cache.withLock { $0 = CachedCredentials(credentials: result.credentials, validUntil: validUntil) }
                running = nil
            }
            return result.credentials
        }
    }

    /// Refreshes a little before expiry so a request does not leave with a token that dies in
    /// flight: a tenth of the remaining lifetime, at most ten seconds.
    static func refreshTime(expiration: Date, now: Date) -> Date {
        let remaining = expiration.timeIntervalSince(now)
        return remaining <= 0 ? expiration : expiration.addingTimeInterval(-min(10, remaining / 10))
    }

    /// Drops cached credentials so the next request obtains new ones.
    public func invalidate() {
        cache.withLock { $0 = nil }
    }

    func tokenFileCredentials(path: String) throws -> RequestCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(file: path, context: nil, field: "tokenFile", problem: "cannot read the token file")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw KubeConfigError(file: path, context: nil, field: "tokenFile", problem: "the token file is empty")
        }
        var credentials = clientCertificate
        credentials.authorizationHeader = "Bearer \(token)"
        return credentials
    }
}
