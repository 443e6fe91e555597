import Foundation
import HTTPTransport
import NIOCore
import NIOEmbedded
import Testing
import TLS

/// Everything a TLS end-to-end test needs: a CA, a server certificate for loopback, a running
/// server, and the CA written to disk for curl.
private struct Fixture {
    let scratch: ScratchDirectory
    let serverCA: CertificateAuthority
    let clientCA: CertificateAuthority
    let server: TestTLSServer
    let caFile: String

    init(clientCertificateMode: ServerTLSConfiguration.ClientCertificateMode = .none, fragmentInbound: Bool = false) async throws {
        scratch = try ScratchDirectory()
        serverCA = try CertificateAuthority.generate(commonName: "server CA")
        clientCA = try CertificateAuthority.generate(commonName: "client CA")
        let issued = try serverCA.issueServerCertificate(commonName: "test-server")
        let context = try ServerTLSContext(
            serving: issued,
            clientCertificateAuthority: clientCertificateMode == .none ? nil : clientCA,
            clientCertificateMode: clientCertificateMode)
        server = try await TestTLSServer(context: context, fragmentInbound: fragmentInbound)
        caFile = try scratch.write("ca.pem", serverCA.certificatePEM)
    }

    /// curl with the server CA trusted, HTTP/1.1, and no retries or progress output.
    func curl(_ arguments: [String]) async throws -> CommandResult {
        try await runCommand(curlPath, ["--silent", "--show-error", "--http1.1", "--cacert", caFile] + arguments, in: scratch)
    }

    func clientCertificateFiles(_ issued: IssuedCertificate) throws -> [String] {
        let name = UUID().uuidString
        return [
            "--cert", try scratch.write("\(name).crt", issued.certificatePEM),
            "--key", try scratch.write("\(name).key", issued.privateKeyPEM),
        ]
    }

    func shutdown() async throws {
        try await server.shutdown()
    }
}

@Suite(.serialized) struct OpenSSLServerHandlerTests {
    @Test func handshake_whenClientTrustsTheCA_servesTheRequestOverHTTP11ViaALPN() async throws {
        let fixture = try await Fixture()
        let result = try await fixture.curl(["--verbose", fixture.server.url("/hello")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "/hello")
        #expect(result.stderr.contains("ALPN: server accepted http/1.1"), "\(result)")
        let handshakes = fixture.server.observations.handshakes
        #expect(handshakes.count == 1)
        #expect(handshakes.first?.negotiatedProtocol == "http/1.1")
        #expect(handshakes.first?.protocolVersion == "TLSv1.3")
        #expect(handshakes.first?.peer == nil)
        try await fixture.shutdown()
    }

    @Test func handshake_whenClientConnectsByLocalhostOrIPv4Name_verifiesTheSAN() async throws {
        let fixture = try await Fixture()
        let port = fixture.server.port
        let byName = try await fixture.curl([
            "--resolve", "localhost:\(port):127.0.0.1", "https://localhost:\(port)/by-name",
        ])
        #expect(byName.status == 0 && byName.stdout == "/by-name", "\(byName)")
        let otherName = try await fixture.curl([
            "--resolve", "not-in-the-san.test:\(port):127.0.0.1", "https://not-in-the-san.test:\(port)/x",
        ])
        #expect(otherName.status == 60, "curl must refuse a name the SAN lacks: \(otherName)")
        try await fixture.shutdown()
    }

    @Test func handshake_whenClientTrustsADifferentCA_failsVerificationAndServesNothing() async throws {
        let fixture = try await Fixture()
        let strangerCA = try CertificateAuthority.generate(commonName: "stranger")
        let strangerFile = try fixture.scratch.write("stranger.pem", strangerCA.certificatePEM)
        let result = try await runCommand(
            curlPath, ["--silent", "--show-error", "--cacert", strangerFile, fixture.server.url("/secret")], in: fixture.scratch)
        #expect(result.status == 60, "\(result)")  // CURLE_PEER_FAILED_VERIFICATION
        #expect(fixture.server.observations.requests == 0)
        #expect(fixture.server.observations.handshakes.isEmpty)
        try await fixture.shutdown()
    }

    @Test func clientCertificate_whenSignedByTheClientCA_isReportedAsCNAndOrganizations() async throws {
        let fixture = try await Fixture(clientCertificateMode: .required)
        let alice = try fixture.clientCA.issueClientCertificate(commonName: "alice", organizations: ["system:masters", "devs"])
        let result = try await fixture.curl(
            try fixture.clientCertificateFiles(alice) + ["--include", fixture.server.url("/whoami")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasSuffix("CN=alice;O=system:masters,devs"), "\(result)")
        #expect(result.stdout.lowercased().contains("x-accessor-agrees: yes"), "the handler accessor must match the event")
        #expect(fixture.server.observations.handshakes.first?.peer == PeerIdentity(commonName: "alice", organizations: ["system:masters", "devs"]))
        try await fixture.shutdown()
    }

    @Test func clientCertificate_whenRequiredAndNonePresented_failsTheHandshake() async throws {
        let fixture = try await Fixture(clientCertificateMode: .required)
        let result = try await fixture.curl([fixture.server.url("/whoami")])
        #expect(result.status != 0, "\(result)")
        #expect(fixture.server.observations.requests == 0)
        #expect(await fixture.server.observations.eventuallyHasError(containing: "peer did not return a certificate"),
            "\(fixture.server.observations.errors)")
        try await fixture.shutdown()
    }

    @Test func clientCertificate_whenOptionalAndNonePresented_servesAnonymously() async throws {
        let fixture = try await Fixture(clientCertificateMode: .optional)
        let result = try await fixture.curl([fixture.server.url("/whoami")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "anonymous")
        try await fixture.shutdown()
    }

    @Test func clientCertificate_whenSignedByAnUntrustedCA_isRejectedEvenIfOptional() async throws {
        let fixture = try await Fixture(clientCertificateMode: .optional)
        let mallory = try fixture.serverCA.issueClientCertificate(commonName: "mallory", organizations: ["system:masters"])
        let result = try await fixture.curl(try fixture.clientCertificateFiles(mallory) + [fixture.server.url("/whoami")])
        #expect(result.status != 0, "\(result)")
        #expect(fixture.server.observations.requests == 0)
        #expect(await fixture.server.observations.eventuallyHasError(containing: "client certificate rejected"),
            "\(fixture.server.observations.errors)")
        try await fixture.shutdown()
    }

    @Test func clientCertificate_withoutClientAuthUsage_isRejectedEvenWhenSignedByTheClientCA() async throws {
        let fixture = try await Fixture(clientCertificateMode: .optional)
        // A server certificate carries serverAuth only; OpenSSL checks the purpose of client chains.
        let serverOnly = try fixture.clientCA.issueServerCertificate(commonName: "not-a-client")
        let result = try await fixture.curl(try fixture.clientCertificateFiles(serverOnly) + [fixture.server.url("/whoami")])
        #expect(result.status != 0, "\(result)")
        #expect(fixture.server.observations.requests == 0)
        try await fixture.shutdown()
    }

    @Test func inProcessLibcurlTransport_withClientCertificate_isIdentifiedAcrossConcurrentRequests() async throws {
        let fixture = try await Fixture(clientCertificateMode: .required)
        let bob = try fixture.clientCA.issueClientCertificate(commonName: "bob", organizations: ["viewers"])
        let transport = HTTPTransport(configuration: .init(tls: TLSConfiguration(
            certificateAuthorityPEM: Array(fixture.serverCA.certificatePEM.utf8),
            clientCertificatePEM: Array(bob.certificatePEM.utf8),
            clientKeyPEM: Array(bob.privateKeyPEM.utf8))))
        defer { transport.shutdown() }
        let url = fixture.server.url("/whoami")
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    let response = try await transport.send(HTTPRequest(url: url, timeout: .seconds(30)))
                    return "\(response.status) " + String(decoding: response.body, as: UTF8.self)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(bodies.count == 24)
        #expect(bodies.allSatisfy { $0 == "200 CN=bob;O=viewers" }, "\(Set(bodies))")
        #expect(fixture.server.observations.handshakes.allSatisfy { $0.peer?.commonName == "bob" })
        try await fixture.shutdown()
    }

    @Test func largeBody_of20MB_isEchoedIntact() async throws {
        let fixture = try await Fixture()
        var generator = SystemRandomNumberGenerator()
        let body = (0..<(20 * 1024 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        let input = fixture.scratch.path("in.bin")
        let output = fixture.scratch.path("out.bin")
        try Data(body).write(to: URL(fileURLWithPath: input))
        let result = try await fixture.curl([
            "-H", "Expect:", "--data-binary", "@\(input)", "-o", output, fixture.server.url("/echo"),
        ])
        #expect(result.status == 0, "\(result)")
        let echoed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(echoed.count == body.count)
        #expect(SHA256.hash(echoed) == SHA256.hash(body))
        try await fixture.shutdown()
    }

    @Test func recordsArrivingInPiecesOfAFewBytes_areReassembledForHandshakeAndBody() async throws {
        let fixture = try await Fixture(clientCertificateMode: .optional, fragmentInbound: true)
        let payload = String(repeating: "fragmented records ", count: 5000)
        let input = try fixture.scratch.write("payload.txt", payload)
        let result = try await fixture.curl(["-H", "Expect:", "--data-binary", "@\(input)", fixture.server.url("/echo")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == payload)
        try await fixture.shutdown()
    }

    @Test func keepAlive_whenManyRequestsShareAConnection_handshakesOnce() async throws {
        let fixture = try await Fixture()
        let result = try await fixture.curl([fixture.server.url("/k/[1-20]")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == (1...20).map { "/k/\($0)" }.joined())
        #expect(fixture.server.observations.handshakes.count == 1)
        #expect(fixture.server.observations.requests == 20)
        try await fixture.shutdown()
    }

    @Test func sequentialConnections_eachHandshakeAndAnswerCorrectly() async throws {
        let fixture = try await Fixture()
        let result = try await fixture.curl(["-H", "Connection: close", fixture.server.url("/s/[1-40]")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == (1...40).map { "/s/\($0)" }.joined())
        #expect(fixture.server.observations.handshakes.count == 40)
        try await fixture.shutdown()
    }

    @Test func concurrentConnections_fromParallelClients_allSucceed() async throws {
        let fixture = try await Fixture()
        let outputs = fixture.scratch.path("parallel")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let server = fixture.server
        let caFile = fixture.caFile
        // Four curl processes, each running 25 transfers 25 at a time on their own connections.
        let statuses = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for client in 1...4 {
                group.addTask {
                    let scratch = try ScratchDirectory()
                    return try await runCommand(curlPath, [
                        "--silent", "--show-error", "--http1.1", "--cacert", caFile, "--parallel", "--parallel-immediate",
                        "--parallel-max", "25", "-H", "Connection: close",
                        server.url("/c\(client)/[1-25]"), "-o", "\(outputs)/c\(client)_#1",
                    ], in: scratch)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in statuses { #expect(result.status == 0, "\(result)") }
        for client in 1...4 {
            for index in 1...25 {
                let text = try? String(contentsOfFile: "\(outputs)/c\(client)_\(index)", encoding: .utf8)
                #expect(text == "/c\(client)/\(index)")
            }
        }
        #expect(fixture.server.observations.handshakes.count == 100)
        #expect(fixture.server.observations.errors.isEmpty, "\(fixture.server.observations.errors)")
        try await fixture.shutdown()
    }

    @Test func closingAfterResponse_sendsCloseNotifyBeforeTheSocketCloses() async throws {
        let fixture = try await Fixture()
        // --ignore-content-length: curl reads until the server closes instead of stopping after
        // the body, so it always receives (and logs) the close_notify that precedes the close.
        let result = try await fixture.curl(["--verbose", "--ignore-content-length", "-H", "Connection: close", fixture.server.url("/bye")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("(IN), TLS alert, close notify"), "\(result)")
        try await fixture.shutdown()
    }

    @Test func tls12Client_isServed_butTLS11IsRefused() async throws {
        let fixture = try await Fixture()
        let tls12 = try await fixture.curl(["--tlsv1.2", "--tls-max", "1.2", fixture.server.url("/old")])
        #expect(tls12.status == 0 && tls12.stdout == "/old", "\(tls12)")
        #expect(fixture.server.observations.handshakes.first?.protocolVersion == "TLSv1.2")

        // Security level 0 lets this client offer TLS 1.1, so only the server's minimum can refuse it.
        let tls11 = try await runCommand(opensslPath, [
            "s_client", "-connect", "127.0.0.1:\(fixture.server.port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
        ], in: fixture.scratch)
        #expect(tls11.status != 0, "\(tls11)")
        #expect(await fixture.server.observations.eventuallyHasError(containing: "unsupported protocol"),
            "\(fixture.server.observations.errors)")
        try await fixture.shutdown()
    }
}

/// Handler behaviour that needs no real client, on virtual time.
@Suite struct OpenSSLServerHandlerEmbeddedTests {
    private func makeChannel(handshakeTimeout: TimeAmount = .seconds(10)) throws -> EmbeddedChannel {
        let ca = try CertificateAuthority.generate()
        let context = try ServerTLSContext(serving: try ca.issueServerCertificate(commonName: "embedded"))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: context, handshakeTimeout: handshakeTimeout))
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1), promise: nil)
        return channel
    }

    /// Runs the pipeline teardown an embedded loop only performs when asked, so the handler's
    /// `handlerRemoved` frees the SSL object (the leak checker would flag it otherwise).
    private func tearDown(_ channel: EmbeddedChannel) throws {
        if channel.isActive { _ = try channel.finish(acceptAlreadyClosed: true) }
        channel.embeddedEventLoop.run()
    }

    @Test func plaintextHTTPOnTheTLSPort_firesAHandshakeErrorAndCloses() throws {
        let channel = try makeChannel()
        let error = try #require(throws: TLSError.self) {
            try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        }
        #expect(error.kind == .handshake)
        #expect(error.openSSLErrors.contains { $0.contains("http request") })
        #expect(!channel.isActive)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try tearDown(channel)
    }

    @Test func malformedClientHello_isAnsweredWithAFatalAlertBeforeClosing() throws {
        let channel = try makeChannel()
        // A handshake record holding a ClientHello that claims zero bytes of body.
        let record: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]
        #expect(throws: TLSError.self) { try channel.writeInbound(ByteBuffer(bytes: record)) }
        #expect(!channel.isActive)
        let alert = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(alert.getInteger(at: alert.readerIndex, as: UInt8.self) == 21)  // record type "alert"
        #expect(alert.getInteger(at: alert.readerIndex + 5, as: UInt8.self) == 2)  // level "fatal"
        try tearDown(channel)
    }

    @Test func writesBeforeTheHandshake_areHeldAndFailedWhenTheConnectionCloses() throws {
        let channel = try makeChannel()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(string: "too early"), promise: promise)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "plaintext must never reach the wire")
        try tearDown(channel)
        #expect(throws: ChannelError.self) { try promise.futureResult.wait() }
    }

    @Test func clientThatNeverFinishesTheHandshake_isDisconnectedAfterTheTimeout() throws {
        let channel = try makeChannel(handshakeTimeout: .seconds(3))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        let error = try #require(throws: TLSError.self) { try channel.throwIfErrorCaught() }
        #expect(error.kind == .handshake)
        try tearDown(channel)
    }
}
