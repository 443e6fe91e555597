import HTTPTestSupport
import HTTPTransport
import TLS
import Testing

/// One CA and the certificates a test server and client need, made fresh per test.
struct TestPKI {
    let authority: CertificateAuthority
    let server: IssuedCertificate
    let client: IssuedCertificate

    init(serverDNSNames: [String] = ["localhost"], serverIPs: [String] = ["127.0.0.1"]) throws {
        authority = try CertificateAuthority.generate(commonName: "transport-test-ca")
        server = try authority.issueServerCertificate(commonName: "loopback", dnsNames: serverDNSNames, ipAddresses: serverIPs)
        client = try authority.issueClientCertificate(commonName: "alice", organizations: ["medsearch:operators"])
    }

    var caPEM: [UInt8] { Array(authority.certificatePEM.utf8) }
}

@Suite(.timeLimit(.minutes(2)))
struct HTTPTransportTLSTests {
    @Test func send_overTLS_trustingTheIssuingCA_succeedsAndReusesTheConnection() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server), respond: echo)
        let transport = HTTPTransport(configuration: .init(tls: TLSConfiguration(certificateAuthorityPEM: pki.caPEM)))
        for index in 0..<3 {
            let response = try await transport.send(HTTPRequest(method: "POST", url: server.baseURL + "/s/\(index)", body: [1, 2, 3]))
            #expect(response.status == 200)
            #expect(response.body == [1, 2, 3])
        }
        #expect(server.snapshot.accepted == 1)
        try await server.stop()
    }

    @Test func send_overTLS_trustingAnotherCA_failsWithTLSFailure() async throws {
        let pki = try TestPKI()
        let stranger = try CertificateAuthority.generate(commonName: "someone-else")
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server), respond: echo)
        let transport = HTTPTransport(
            configuration: .init(tls: TLSConfiguration(certificateAuthorityPEM: Array(stranger.certificatePEM.utf8))))
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: server.baseURL + "/"))
        }
        #expect(error?.kind == .tlsFailure)
        #expect(server.snapshot.requests.isEmpty)
        try await server.stop()
    }

    @Test func send_overTLS_withSystemTrustOnly_rejectsAPrivateCA() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server), respond: echo)
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await HTTPTransport().send(HTTPRequest(url: server.baseURL + "/"))
        }
        #expect(error?.kind == .tlsFailure)
        try await server.stop()
    }

    @Test func send_overTLS_withInsecureSkipVerify_acceptsAnUnknownCA() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server), respond: echo)
        let response = try await HTTPTransport().send(
            HTTPRequest(url: server.baseURL + "/insecure", tls: TLSConfiguration(insecureSkipVerify: true)))
        #expect(response.status == 200)
        #expect(response.headers["X-URI"] == "/insecure")
        try await server.stop()
    }

    @Test func send_withClientCertificate_serverSeesItsIdentity() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackHTTPServer(
            tls: ServerTLSConfiguration(serving: pki.server, clientCertificateAuthority: pki.authority, clientCertificateMode: .required),
            respond: echo)
        let tls = TLSConfiguration(
            certificateAuthorityPEM: pki.caPEM, clientCertificatePEM: Array(pki.client.certificatePEM.utf8),
            clientKeyPEM: Array(pki.client.privateKeyPEM.utf8))
        let response = try await HTTPTransport().send(HTTPRequest(url: server.baseURL + "/whoami", tls: tls))
        #expect(response.status == 200)
        #expect(server.snapshot.requests.first?.clientCertificateCommonName == "alice")
        try await server.stop()
    }

    @Test func send_withoutRequiredClientCertificate_failsBelowHTTP() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackHTTPServer(
            tls: ServerTLSConfiguration(serving: pki.server, clientCertificateAuthority: pki.authority, clientCertificateMode: .required),
            respond: echo)
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await HTTPTransport().send(
                HTTPRequest(url: server.baseURL + "/", tls: TLSConfiguration(certificateAuthorityPEM: pki.caPEM)))
        }
        #expect(error != nil)
        #expect(server.snapshot.requests.isEmpty)
        try await server.stop()
    }

    @Test func send_withServerNameOverride_verifiesAgainstThatName() async throws {
        // The certificate names only the in-cluster DNS name, not the loopback address dialled.
        let pki = try TestPKI(serverDNSNames: ["kubernetes.default.svc"], serverIPs: [])
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server), respond: echo)
        let transport = HTTPTransport()
        let mismatch = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(
                HTTPRequest(url: server.baseURL + "/", tls: TLSConfiguration(certificateAuthorityPEM: pki.caPEM)))
        }
        #expect(mismatch?.kind == .tlsFailure)
        let response = try await transport.send(
            HTTPRequest(
                url: server.baseURL + "/named",
                tls: TLSConfiguration(certificateAuthorityPEM: pki.caPEM, serverNameOverride: "kubernetes.default.svc")))
        #expect(response.status == 200)
        #expect(response.headers["X-URI"] == "/named")
        try await server.stop()
    }

    @Test func stream_overTLS_deliversLargeBodyWithBoundedBuffer() async throws {
        let pki = try TestPKI()
        let total = 8 * 1024 * 1024
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: pki.server)) { _ in
            .streamed(total: total, chunkSize: 64 * 1024)
        }
        let limit = 128 * 1024
        let transport = HTTPTransport(configuration: .init(tls: TLSConfiguration(certificateAuthorityPEM: pki.caPEM), streamBufferLimit: limit))
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/big"))
        var received = 0
        for try await chunk in response.body {
            received += chunk.count
            if received % (1 << 20) < chunk.count { try await Task.sleep(for: .milliseconds(2)) }
        }
        #expect(received == total)
        #expect(transport.peakBufferedBodyBytes <= limit + 16 * 1024)
        try await server.stop()
    }
}
