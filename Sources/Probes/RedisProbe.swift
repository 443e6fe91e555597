import Foundation
import NIOCore
import NIOPosix
import TLS

/// How to reach and log in to a Redis (or ElastiCache / Valkey) server.
public struct RedisProbeConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    /// Default 6379.
    public var port: Int
    /// An ACL user (Redis 6+); nil sends the one-argument `AUTH password` form.
    public var username: String?
    /// Nil sends no AUTH (a server without requirepass).
    public var password: String?
    /// Default `.disabled`; ElastiCache with in-transit encryption needs `.required`.
    public var tls: ProbeTLSMode
    /// The whole probe's deadline. Default 10 seconds.
    public var timeout: Duration
    /// Default none.
    public var endpointOverrides: ProbeEndpointOverrides

    public init(
        host: String, port: Int = 6379, username: String? = nil, password: String? = nil,
        tls: ProbeTLSMode = .disabled, timeout: Duration = .seconds(10),
        endpointOverrides: ProbeEndpointOverrides = ProbeEndpointOverrides()
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout = timeout
        self.endpointOverrides = endpointOverrides
    }

    public var description: String {
        "RedisProbeConfiguration(\(username ?? "default")@\(host):\(port), password \(password == nil ? "none" : "redacted"), tls: \(tls == .disabled ? "disabled" : "required"), timeout: \(timeout))"
    }
}

/// Checks a Redis server: TCP, optional TLS, `AUTH [username] password`, `PING` → `+PONG`,
/// all in RESP2 (no HELLO), so it works with every Redis since 6 and with ElastiCache.
///
/// Guarantees: error replies become typed failures (`-WRONGPASS` → AuthenticationFailed,
/// `-NOAUTH` → AuthenticationRequired) carrying the error prefix as `serverCode`; messages
/// never contain the password.
public struct RedisProbe: DataPlaneProbe {
    public let configuration: RedisProbeConfiguration
    private let group: any EventLoopGroup

    public init(configuration: RedisProbeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    public var target: ProbeTarget { ProbeTarget(kind: .redis, host: configuration.host, port: configuration.port) }

    public func probe() async -> ProbeResult {
        await runStagedProbe(target, timeout: configuration.timeout, secret: configuration.password) { [self] progress throws(ProbeAbort) in
            try await run(progress)
        }
    }

    private func run(_ progress: ProbeProgress) async throws(ProbeAbort) {
        let endpoint = configuration.endpointOverrides.resolve(host: configuration.host, port: configuration.port)
        let connection = try await ProbeConnection.connect(
            to: endpoint, timeout: progress.remaining(of: configuration.timeout), group: group)
        defer { connection.close() }
        var reader = connection.makeReader()

        if case .required(let tlsConfiguration) = configuration.tls {
            progress.begin(.tls)
            let context: ClientTLSContext
            do {
                context = try ClientTLSContext(configuration: tlsConfiguration)
            } catch {
                throw ProbeAbort(.tls, ProbeFailure.Reason.configurationInvalid, error.description)
            }
            try await connection.startTLS(context: context, serverName: tlsConfiguration.serverName ?? configuration.host)
        }

        if let password = configuration.password {
            progress.begin(.auth)
            let arguments = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            try await connection.send(RESP.command(arguments), stage: .auth)
            let reply = try await reader.readRESPReply(stage: .auth)
            if case .error(let text) = reply { throw failure(forError: text, stage: .auth) }
            guard reply == .simpleString("OK") else {
                throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "AUTH was not answered with +OK")
            }
        }

        progress.begin(.query)
        try await connection.send(RESP.command(["PING"]), stage: .query)
        let reply = try await reader.readRESPReply(stage: .query)
        if case .error(let text) = reply { throw failure(forError: text, stage: .query) }
        guard reply == .simpleString("PONG") else {
            throw ProbeAbort(.query, ProbeFailure.Reason.protocolViolation, "PING was not answered with +PONG")
        }
        // QUIT is deprecated since Redis 7.2; closing the socket is the documented way out.
    }

    private func failure(forError text: String, stage: ProbeStage) -> ProbeAbort {
        let code = String(text.prefix { $0 != " " })
        let reason = switch code {
        case "WRONGPASS": ProbeFailure.Reason.authenticationFailed
        case "NOAUTH": ProbeFailure.Reason.authenticationRequired
        case "NOPERM": ProbeFailure.Reason.authenticationFailed
        default: stage == .auth ? ProbeFailure.Reason.authenticationFailed : ProbeFailure.Reason.serverError
        }
        return ProbeAbort(stage, reason, "Redis answered -\(redacting(configuration.password ?? "", in: text))", serverCode: code)
    }
}

/// The parts of RESP2 the probe speaks.
enum RESP {
    /// A reply the probe understands; bulk and array replies are read but only their shape kept.
    enum Reply: Equatable {
        case simpleString(String)
        case error(String)
        case integer(Int64)
        case bulkString([UInt8]?)
        case array(count: Int)
    }

    /// A command as an array of bulk strings, which is binary-safe for any password.
    static func command(_ arguments: [String]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            let utf8 = Array(argument.utf8)
            bytes += Array("$\(utf8.count)\r\n".utf8) + utf8 + [13, 10]
        }
        return bytes
    }
}

extension ProbeByteReader {
    /// Reads one RESP2 reply (an array's elements are not read: the probe never asks for one).
    mutating func readRESPReply(stage: ProbeStage) async throws(ProbeAbort) -> RESP.Reply {
        let line = try await readLine(stage: stage)
        guard let kind = line.first else {
            throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "empty RESP reply")
        }
        let text = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"): return .simpleString(text)
        case UInt8(ascii: "-"): return .error(text)
        case UInt8(ascii: ":"):
            guard let value = Int64(text) else { break }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(text), length >= -1 else { break }
            if length == -1 { return .bulkString(nil) }
            var body = try await readBytes(length + 2, stage: stage)
            return .bulkString(body.readBytes(length: length))
        case UInt8(ascii: "*"):
            guard let count = Int(text) else { break }
            return .array(count: count)
        default: break
        }
        throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "the server's reply is not RESP")
    }
}
