import Foundation
import NIOCore
import NIOPosix
import TLS

/// Whether a probe speaks TLS, and whom it trusts when it does.
public enum ProbeTLSMode: Sendable, Equatable {
    /// Plaintext; only for loopback tests and demos.
    case disabled
    /// TLS is mandatory: a server that refuses it fails the probe with `TLSNotSupported`.
    /// A nil `serverName` means "verify against the configured host" (the original one, even
    /// when an endpoint override redirects the connection).
    case required(ClientTLSConfiguration)
}

/// How to reach and log in to a PostgreSQL server.
public struct PostgreSQLProbeConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    /// Default 5432.
    public var port: Int
    public var user: String
    public var password: String
    /// Default "postgres".
    public var database: String
    /// Default `.required(ClientTLSConfiguration())` (system trust): RDS serves TLS.
    public var tls: ProbeTLSMode
    /// The whole probe's deadline, connect to terminate. Default 10 seconds.
    public var timeout: Duration
    /// Default none.
    public var endpointOverrides: ProbeEndpointOverrides

    public init(
        host: String, port: Int = 5432, user: String, password: String, database: String = "postgres",
        tls: ProbeTLSMode = .required(ClientTLSConfiguration()), timeout: Duration = .seconds(10),
        endpointOverrides: ProbeEndpointOverrides = ProbeEndpointOverrides()
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.timeout = timeout
        self.endpointOverrides = endpointOverrides
    }

    public var description: String {
        "PostgreSQLProbeConfiguration(\(user)@\(host):\(port)/\(database), password redacted, tls: \(tls == .disabled ? "disabled" : "required"), timeout: \(timeout))"
    }
}

/// Checks a PostgreSQL server the way an application connects: TCP, SSLRequest and TLS,
/// startup, SCRAM-SHA-256 (MD5 and cleartext as fallbacks), `SELECT 1`, Terminate.
///
/// Guarantees: the SCRAM server signature is verified; bytes the server sends after 'S' but
/// before the TLS handshake are rejected (they could be injected by a man in the middle);
/// authentication failures carry the SQLSTATE (28P01 invalid_password, 28000
/// invalid_authorization_specification); messages never contain the password.
/// Caveats: with `.disabled` TLS a server asking for cleartext gets the password in plaintext,
/// which is why TLS is the default; GSSAPI, SSPI and SCRAM channel binding are not supported.
public struct PostgreSQLProbe: DataPlaneProbe {
    public let configuration: PostgreSQLProbeConfiguration
    private let group: any EventLoopGroup

    public init(configuration: PostgreSQLProbeConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    public var target: ProbeTarget { ProbeTarget(kind: .postgreSQL, host: configuration.host, port: configuration.port) }

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

        var encrypted = false
        if case .required(let tlsConfiguration) = configuration.tls {
            progress.begin(.tls)
            try await negotiateTLS(connection, &reader, tlsConfiguration)
            encrypted = true
        }

        progress.begin(.auth)
        try await connection.send(PostgreSQLWire.startup(parameters: [
            ("user", configuration.user),
            ("database", configuration.database),
            ("application_name", "medsearch-operator"),
        ]), stage: .auth)
        try await authenticate(connection, &reader, encrypted: encrypted)

        progress.begin(.query)
        try await connection.send(PostgreSQLWire.query("SELECT 1"), stage: .query)
        try await expectSelectOne(&reader)
        // Terminate lets the server log a clean disconnect instead of an unexpected EOF.
        try? await connection.send(PostgreSQLWire.terminate(), stage: .query)
    }

    private func negotiateTLS(
        _ connection: ProbeConnection, _ reader: inout ProbeByteReader, _ tlsConfiguration: ClientTLSConfiguration
    ) async throws(ProbeAbort) {
        try await connection.send(PostgreSQLWire.sslRequest(), stage: .tls)
        var answer = try await reader.readBytes(1, stage: .tls)
        switch answer.readInteger(as: UInt8.self) {
        case UInt8(ascii: "S"):
            guard reader.bufferedByteCount == 0 else {
                throw ProbeAbort(.tls, ProbeFailure.Reason.protocolViolation, "the server sent unencrypted data after agreeing to TLS")
            }
        case UInt8(ascii: "N"):
            throw ProbeAbort(.tls, ProbeFailure.Reason.tlsNotSupported, "the server refused TLS (SSLRequest answered 'N') but TLS is required")
        case UInt8(ascii: "E"):
            throw ProbeAbort(.tls, ProbeFailure.Reason.tlsNotSupported, "the server does not understand SSLRequest")
        default:
            throw ProbeAbort(.tls, ProbeFailure.Reason.protocolViolation, "unexpected answer to SSLRequest")
        }
        let context: ClientTLSContext
        do {
            context = try ClientTLSContext(configuration: tlsConfiguration)
        } catch {
            throw ProbeAbort(.tls, ProbeFailure.Reason.configurationInvalid, error.description)
        }
        try await connection.startTLS(context: context, serverName: tlsConfiguration.serverName ?? configuration.host)
    }

    private func authenticate(_ connection: ProbeConnection, _ reader: inout ProbeByteReader, encrypted: Bool) async throws(ProbeAbort) {
        var scram: SCRAMSHA256Client? = nil
        var authenticated = false
        while true {
            var message = try await reader.readPostgreSQLMessage(stage: .auth)
            switch message.typeCharacter {
            case "R":
                guard let code = message.body.readInteger(as: Int32.self) else {
                    throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "empty authentication request")
                }
                switch code {
                case 0:
                    if scram != nil, !authenticated {
                        // SASLFinal must come before AuthenticationOk; skipping it skips server verification.
                        throw ProbeAbort(.auth, ProbeFailure.Reason.serverAuthenticationFailed, "the server accepted the login without proving it knows the password")
                    }
                    authenticated = true
                case 3:
                    try await connection.send(PostgreSQLWire.password(configuration.password), stage: .auth)
                case 5:
                    guard let salt = message.body.readBytes(length: 4) else {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "MD5 request without a salt")
                    }
                    try await connection.send(PostgreSQLWire.password(try md5Response(salt: salt)), stage: .auth)
                case 10:
                    var mechanisms: [String] = []
                    while let name = PostgreSQLWire.readCString(&message.body), !name.isEmpty { mechanisms.append(name) }
                    guard mechanisms.contains("SCRAM-SHA-256") else {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.unsupportedAuthentication, "the server offers only \(mechanisms.joined(separator: ", "))")
                    }
                    let client: SCRAMSHA256Client
                    do { client = try SCRAMSHA256Client(username: "", password: configuration.password) } catch {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.configurationInvalid, "could not generate a SCRAM nonce")
                    }
                    scram = client
                    try await connection.send(PostgreSQLWire.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage), stage: .auth)
                case 11:
                    guard var client = scram else {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "SASLContinue without SASL")
                    }
                    let serverFirst = message.body.readString(length: message.body.readableBytes) ?? ""
                    let final: String
                    do { final = try client.clientFinalMessage(serverFirst: serverFirst) } catch {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.serverAuthenticationFailed, error.description)
                    }
                    scram = client
                    try await connection.send(PostgreSQLWire.saslResponse(final), stage: .auth)
                case 12:
                    guard let client = scram else {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "SASLFinal without SASL")
                    }
                    let serverFinal = message.body.readString(length: message.body.readableBytes) ?? ""
                    do { try client.verifyServerFinal(serverFinal) } catch {
                        throw ProbeAbort(.auth, ProbeFailure.Reason.serverAuthenticationFailed, error.description)
                    }
                    authenticated = true
                default:
                    throw ProbeAbort(.auth, ProbeFailure.Reason.unsupportedAuthentication, "the server asks for authentication method \(code), which the probe does not support")
                }
            case "E":
                throw serverError(message.body, stage: .auth)
            case "Z":
                guard authenticated else {
                    throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "ReadyForQuery before authentication")
                }
                return
            case "S", "K", "N", "v":
                continue  // ParameterStatus, BackendKeyData, notices, protocol negotiation
            default:
                throw ProbeAbort(.auth, ProbeFailure.Reason.protocolViolation, "unexpected message '\(message.typeCharacter)' during startup")
            }
        }
    }

    private func md5Response(salt: [UInt8]) throws(ProbeAbort) -> String {
        do {
            let inner = try MD5.hash(Array((configuration.password + configuration.user).utf8)).hexEncodedString
            return "md5" + (try MD5.hash(Array(inner.utf8) + salt).hexEncodedString)
        } catch {
            throw ProbeAbort(.auth, ProbeFailure.Reason.unsupportedAuthentication, "the server asks for MD5, which this system's OpenSSL does not provide")
        }
    }

    private func expectSelectOne(_ reader: inout ProbeByteReader) async throws(ProbeAbort) {
        var value: String? = nil
        var failure: ProbeAbort? = nil
        while true {
            var message = try await reader.readPostgreSQLMessage(stage: .query)
            switch message.typeCharacter {
            case "D":
                // DataRow: Int16 column count, then Int32 length and bytes per column.
                if message.body.readInteger(as: Int16.self) == 1, let length = message.body.readInteger(as: Int32.self), length >= 0 {
                    value = message.body.readString(length: Int(length))
                }
            case "E":
                failure = serverError(message.body, stage: .query)
            case "Z":
                if let failure { throw failure }
                guard value == "1" else {
                    throw ProbeAbort(.query, ProbeFailure.Reason.queryFailed, "SELECT 1 did not return 1")
                }
                return
            default:
                continue  // RowDescription, CommandComplete, notices, ParameterStatus
            }
        }
    }

    private func serverError(_ body: ByteBuffer, stage: ProbeStage) -> ProbeAbort {
        let fields = PostgreSQLErrorFields(body)
        // Class 28 is invalid authorization; 3D000 (no such database) also means the login is wrong.
        let reason = fields.code.hasPrefix("28") || fields.code == "3D000"
            ? ProbeFailure.Reason.authenticationFailed
            : (stage == .query ? ProbeFailure.Reason.queryFailed : ProbeFailure.Reason.serverError)
        return ProbeAbort(stage, reason, "\(fields.severity) \(fields.code): \(redacting(configuration.password, in: fields.message))", serverCode: fields.code)
    }
}
