import Foundation
import class HTTPTestSupport.ClosedLoopbackPort
import NIOCore
import Probes
import Testing
import TLS

/// Failures that need a misbehaving server: scripted loopback servers stand in for PostgreSQL and Redis.
@Suite struct ProbeFailureTests {
    static let secret = "s3cret-Pa55word"

    func postgreSQL(port: Int, tls: Bool = true, timeout: Duration = .seconds(10)) -> PostgreSQLProbe {
        PostgreSQLProbe(configuration: PostgreSQLProbeConfiguration(
            host: "127.0.0.1", port: port, user: "probe", password: Self.secret,
            tls: tls ? .required(ClientTLSConfiguration(trust: .insecureSkipVerification)) : .disabled,
            timeout: timeout))
    }

    @Test func postgreSQLProbe_whenServerRefusesTLS_failsClearlyInsteadOfFallingBackToPlaintext() async throws {
        let server = try await ScriptedServer { received, _ in
            guard received.readableBytes >= 8 else { return nil }
            received.moveReaderIndex(forwardBy: 8)
            return Array("N".utf8)
        }
        let result = await postgreSQL(port: server.port).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .tls)
        #expect(failure.reason == "TLSNotSupported")
        #expect(failure.message.contains("refused TLS"))
        try await server.shutdown()
    }

    @Test func postgreSQLProbe_whenServerSendsBytesAfterAgreeingToTLS_rejectsThemAsInjected() async throws {
        let server = try await ScriptedServer { received, _ in
            guard received.readableBytes >= 8 else { return nil }
            received.moveReaderIndex(forwardBy: 8)
            return Array("SR\0\0\0\u{8}\0\0\0\0".utf8)
        }
        let result = await postgreSQL(port: server.port).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .tls)
        #expect(failure.reason == "ProtocolViolation")
        try await server.shutdown()
    }

    @Test func postgreSQLProbe_whenServerSkipsTheSCRAMServerSignature_refusesTheLogin() async throws {
        // Startup → SASL offer; SASLInitialResponse → AuthenticationOk without SASLContinue/SASLFinal:
        // what a server impersonator that does not know the password would try.
        let server = try await ScriptedServer { received, step in
            guard let length = received.getInteger(at: received.readerIndex + (step == 0 ? 0 : 1), as: Int32.self),
                received.readableBytes >= Int(length) + (step == 0 ? 0 : 1)
            else { return nil }
            received.moveReaderIndex(forwardBy: Int(length) + (step == 0 ? 0 : 1))
            step += 1
            if step == 1 { return backendMessage("R", int32: 10, trailing: Array("SCRAM-SHA-256\0\0".utf8)) }
            return backendMessage("R", int32: 0) + backendMessage("Z", bytes: Array("I".utf8))
        }
        let result = await postgreSQL(port: server.port, tls: false).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .auth)
        #expect(failure.reason == "ServerAuthenticationFailed")
        try await server.shutdown()
    }

    @Test func postgreSQLProbe_whenServerAcceptsButNeverAnswers_timesOutInTheStageItWaitedIn() async throws {
        let server = try await ScriptedServer { _, _ in nil }
        // Long enough that a loaded machine still connects before the deadline, so the
        // deadline strikes while waiting for the answer to SSLRequest. The whole suite runs
        // in parallel on two cores, where a task can wait seconds to be resumed.
        let result = await postgreSQL(port: server.port, timeout: .seconds(6)).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.reason == "Timeout")
        #expect(failure.stage == .tls)
        #expect(server.acceptedConnections == 1)
        try await server.shutdown()
    }

    @Test func redisProbe_whenServerAcceptsButNeverAnswers_timesOut() async throws {
        let server = try await ScriptedServer { _, _ in nil }
        let probe = RedisProbe(configuration: RedisProbeConfiguration(
            host: "127.0.0.1", port: server.port, password: Self.secret, timeout: .seconds(6)))  // see above
        let result = await probe.probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.reason == "Timeout")
        #expect(failure.stage == .auth)
        try await server.shutdown()
    }

    @Test func probes_whenPortIsClosed_reportConnectionRefused() async throws {
        let closed = try ClosedLoopbackPort()
        let port = closed.port
        let postgres = await postgreSQL(port: port).probe()
        let redis = await RedisProbe(configuration: RedisProbeConfiguration(host: "127.0.0.1", port: port)).probe()
        for result in [postgres, redis] {
            let failure = try #require(result.failure, "\(result)")
            #expect(failure.stage == .connect)
            #expect(failure.reason == "ConnectionRefused")
        }
        withExtendedLifetime(closed) {}
    }

    @Test func redisProbe_whenServerEchoesThePasswordInAnError_redactsIt() async throws {
        let server = try await ScriptedServer { received, _ in
            guard received.readableBytesView.contains(UInt8(ascii: "\n")) else { return nil }
            received.moveReaderIndex(forwardBy: received.readableBytes)
            return Array("-ERR unknown password '\(Self.secret)'\r\n".utf8)
        }
        let result = await RedisProbe(configuration: RedisProbeConfiguration(
            host: "127.0.0.1", port: server.port, password: Self.secret)).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.reason == "AuthenticationFailed")
        #expect(!"\(result)".contains(Self.secret))
        #expect(failure.message.contains("[redacted]"))
        try await server.shutdown()
    }

    @Test func redisProbe_whenServerFloodsWithoutALineEnd_failsInsteadOfBufferingForever() async throws {
        let server = try await ScriptedServer { received, step in
            guard step == 0, received.readableBytes > 0 else { return nil }
            step += 1
            return [UInt8](repeating: UInt8(ascii: "+"), count: 6 << 20)
        }
        let result = await RedisProbe(configuration: RedisProbeConfiguration(
            host: "127.0.0.1", port: server.port, password: Self.secret)).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.reason == "ProtocolViolation")
        try await server.shutdown()
    }

    @Test func probe_whenTaskIsCancelled_endsPromptlyWithAFailure() async throws {
        let server = try await ScriptedServer { _, _ in nil }
        let probe = postgreSQL(port: server.port, timeout: .seconds(600))
        let task = Task { await probe.probe() }
        while server.acceptedConnections == 0 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        let result = await task.value
        #expect(!result.isHealthy)
        try await server.shutdown()
    }
}

/// A backend message: type, Int32 length, an optional Int32, then raw bytes.
func backendMessage(_ type: Character, int32: Int32? = nil, trailing: [UInt8] = [], bytes: [UInt8] = []) -> [UInt8] {
    var body = ByteBuffer()
    if let int32 { body.writeInteger(int32) }
    body.writeBytes(trailing)
    body.writeBytes(bytes)
    var message = ByteBuffer()
    message.writeInteger(type.asciiValue!)
    message.writeInteger(Int32(4 + body.readableBytes))
    message.writeBuffer(&body)
    return Array(message.readableBytesView)
}
