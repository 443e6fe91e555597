import Foundation
import Synchronization

/// Hands out the credentials for each request, caching what is expensive to obtain.
///
/// Guarantees: a token file is re-read when it changes (service-account tokens rotate);
/// exec-plugin credentials are cached until their `expirationTimestamp`; `invalidate()`
/// (called after a 401) forces the next call to obtain fresh credentials.
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
    let cache = Mutex<CachedCredentials?>(nil)

    struct CachedCredentials: Sendable {
        var credentials: RequestCredentials
        var validUntil: Date?
        var fileModification: Date?
    }

    public init(source: Source) {
        self.source = source
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
            let now = Date()
            if let cached = cache.withLock({ $0 }), let until = cached.validUntil, until > now {
                return cached.credentials
            }
            let result = try await ExecCredentialRunner.run(config)
            cache.withLock { $0 = CachedCredentials(credentials: result.credentials, validUntil: result.expiration) }
            return result.credentials
        }
    }

    /// Drops cached credentials so the next request obtains new ones.
    public func invalidate() {
        cache.withLock { $0 = nil }
    }

    func tokenFileCredentials(path: String) throws -> RequestCredentials {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
        if let cached = cache.withLock({ $0 }), cached.fileModification == modified, modified != nil {
            return cached.credentials
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(file: path, context: nil, field: "tokenFile", problem: "cannot read the token file")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let credentials = RequestCredentials(authorizationHeader: "Bearer \(token)")
        cache.withLock { $0 = CachedCredentials(credentials: credentials, validUntil: nil, fileModification: modified) }
        return credentials
    }
}
