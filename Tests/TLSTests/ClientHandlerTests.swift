import Foundation
import Testing
import TLS

@Suite struct ClientHandlerTests {
    static let request = "GET /from-client HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

    private func serverAndCA() async throws -> (TestTLSServer, CertificateAuthority) {
        let authority = try CertificateAuthority.generate(commonName: "client test CA")
        let issued = try authority.issueServerCertificate(commonName: "server", dnsNames: ["localhost", "db.client.test"])
        let server = try await TestTLSServer(context: ServerTLSContext(serving: issued))
        return (server, authority)
    }

    @Test func clientHandler_whenServerIsSignedByTrustedCA_handshakesAndSendsQueuedWrites() async throws {
        let (server, authority) = try await serverAndCA()
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: authority.certificatePEM), serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: Self.request)
        #expect(exchange.handshakeError == nil)
        #expect(exchange.response.hasPrefix("HTTP/1.1 200 OK"), "\(exchange.response)")
        #expect(exchange.response.hasSuffix("/from-client"))
        #expect(exchange.protocolVersion == "TLSv1.3")
        #expect(server.observations.requests == 1)
        try await server.shutdown()
    }

    @Test func clientHandler_whenServerNameIsAnIPAddress_checksTheIPSubjectAltName() async throws {
        let (server, authority) = try await serverAndCA()
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: authority.certificatePEM)))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, serverName: "127.0.0.1", request: Self.request)
        #expect(exchange.handshakeError == nil, "\(String(describing: exchange.handshakeError))")
        #expect(exchange.response.hasSuffix("/from-client"))
        try await server.shutdown()
    }

    @Test func clientHandler_whenCAIsUnknown_failsTheHandshakeNamingTheVerificationError() async throws {
        let (server, _) = try await serverAndCA()
        let stranger = try CertificateAuthority.generate(commonName: "stranger")
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: stranger.certificatePEM), serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: Self.request)
        let error = try #require(exchange.handshakeError as? TLSError)
        #expect(error.kind == .handshake)
        #expect(error.detail.contains("server certificate rejected"), "\(error)")
        #expect(exchange.response.isEmpty)
        #expect(server.observations.requests == 0)
        try await server.shutdown()
    }

    @Test func clientHandler_whenCertificateDoesNotNameTheServer_failsTheHandshake() async throws {
        let (server, authority) = try await serverAndCA()
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: authority.certificatePEM)))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, serverName: "other.client.test", request: Self.request)
        let error = try #require(exchange.handshakeError as? TLSError)
        #expect(error.detail.contains("hostname mismatch"), "\(error)")
        #expect(server.observations.requests == 0)
        try await server.shutdown()
    }

    @Test func clientHandler_withSystemTrust_rejectsAPrivateCA() async throws {
        let (server, _) = try await serverAndCA()
        let context = try ClientTLSContext(configuration: .init(trust: .systemDefault, serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: Self.request)
        #expect(exchange.handshakeError is TLSError)
        try await server.shutdown()
    }

    @Test func clientHandler_withInsecureSkipVerification_acceptsAnUntrustedServer() async throws {
        let (server, _) = try await serverAndCA()
        let context = try ClientTLSContext(configuration: .init(trust: .insecureSkipVerification, serverName: "anything.test"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: Self.request)
        #expect(exchange.handshakeError == nil)
        #expect(exchange.response.hasSuffix("/from-client"))
        try await server.shutdown()
    }

    @Test func clientHandler_sendsTheServerNameAsSNIButNeverAnIPAddress() async throws {
        let context = try ClientTLSContext(configuration: .init(trust: .insecureSkipVerification))
        let recorder = try await ClientHelloRecorder()
        _ = try await ClientTestExchange.run(port: recorder.port, context: context, serverName: "db.client.test", request: "")
        #expect(containsSequence(recorder.bytes, Array("db.client.test".utf8)))
        try await recorder.shutdown()

        let addressRecorder = try await ClientHelloRecorder()
        _ = try await ClientTestExchange.run(port: addressRecorder.port, context: context, serverName: "127.0.0.1", request: "")
        #expect(!addressRecorder.bytes.isEmpty)
        #expect(!containsSequence(addressRecorder.bytes, Array("127.0.0.1".utf8)))
        try await addressRecorder.shutdown()
    }

    @Test func clientHandler_againstOpenSSLSServerLimitedToTLS12_negotiatesTLS12() async throws {
        let scratch = try ScratchDirectory()
        let authority = try CertificateAuthority.generate(commonName: "s_server CA")
        let issued = try authority.issueServerCertificate(commonName: "s_server")
        let server = try await OpenSSLTestServer(arguments: [
            "-cert", try scratch.write("cert.pem", issued.certificatePEM),
            "-key", try scratch.write("key.pem", issued.privateKeyPEM),
            "-tls1_2", "-www",
        ], scratch: scratch)
        defer { server.stop() }
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: authority.certificatePEM), serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: "GET / HTTP/1.0\r\n\r\n")
        #expect(exchange.handshakeError == nil)
        #expect(exchange.protocolVersion == "TLSv1.2")
        // -www answers with a status page describing the session it negotiated.
        #expect(exchange.response.contains("TLSv1.2"), "\(exchange.response.prefix(500))")
    }

    @Test func clientHandler_againstOpenSSLSServerWithAnotherCA_failsTheHandshake() async throws {
        let scratch = try ScratchDirectory()
        let authority = try CertificateAuthority.generate(commonName: "s_server CA")
        let issued = try authority.issueServerCertificate(commonName: "s_server")
        let server = try await OpenSSLTestServer(arguments: [
            "-cert", try scratch.write("cert.pem", issued.certificatePEM),
            "-key", try scratch.write("key.pem", issued.privateKeyPEM),
            "-www",
        ], scratch: scratch)
        defer { server.stop() }
        let stranger = try CertificateAuthority.generate(commonName: "stranger")
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: stranger.certificatePEM), serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: "GET / HTTP/1.0\r\n\r\n")
        #expect((exchange.handshakeError as? TLSError)?.kind == .handshake)
    }

    @Test func clientHandler_whenServerSpeaksOnlyTLS11_refusesTheOldProtocol() async throws {
        let scratch = try ScratchDirectory()
        let authority = try CertificateAuthority.generate(commonName: "s_server CA")
        let issued = try authority.issueServerCertificate(commonName: "s_server")
        // SECLEVEL=0 lets OpenSSL 3 serve TLS 1.1 at all, so only the client's minimum can refuse.
        let server = try await OpenSSLTestServer(arguments: [
            "-cert", try scratch.write("cert.pem", issued.certificatePEM),
            "-key", try scratch.write("key.pem", issued.privateKeyPEM),
            "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-www",
        ], scratch: scratch)
        defer { server.stop() }
        let context = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: authority.certificatePEM), serverName: "localhost"))
        let exchange = try await ClientTestExchange.run(port: server.port, context: context, request: "GET / HTTP/1.0\r\n\r\n")
        let error = try #require(exchange.handshakeError as? TLSError)
        #expect(error.description.contains("protocol version"), "\(error)")
        #expect(exchange.response.isEmpty)
    }

    @Test func clientContext_whenCAPEMIsNotACertificate_failsToBuild() {
        #expect(throws: TLSError.self) {
            _ = try ClientTLSContext(configuration: .init(trust: .certificateAuthorities(pem: "not a certificate")))
        }
    }

    private func containsSequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}

@Suite struct PasswordDigestTests {
    // RFC 7914 section 11 (PBKDF2-HMAC-SHA256, c = 1): P = "passwd", S = "salt", dkLen = 64.
    @Test func pbkdf2_matchesRFC7914TestVector() throws {
        let key = try PBKDF2.sha256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, keyByteCount: 64)
        #expect(key.hexEncodedString == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    @Test func pbkdf2_whenIterationsAreZero_throws() {
        #expect(throws: TLSError.self) { _ = try PBKDF2.sha256(password: [1], salt: [2], iterations: 0) }
    }

    @Test func md5_matchesRFC1321TestVector() throws {
        #expect(try MD5.hash(Array("abc".utf8)).hexEncodedString == "900150983cd24fb0d6963f7d28e17f72")
        #expect(try MD5.hash([UInt8]()).hexEncodedString == "d41d8cd98f00b204e9800998ecf8427e")
    }
}
