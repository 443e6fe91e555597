import HTTPTestSupport
import HTTPTransport
import JSON
import KubeConfig
@testable import KubeAPI
import TLS
import Testing

@Suite(.timeLimit(.minutes(2)))
struct KubernetesAPIClientTLSTests {
    let authority: CertificateAuthority
    let serverCertificate: IssuedCertificate

    init() throws {
        authority = try CertificateAuthority.generate(commonName: "kubeapi-test-ca")
        serverCertificate = try authority.issueServerCertificate(
            commonName: "apiserver", dnsNames: ["kubernetes.default.svc"], ipAddresses: ["127.0.0.1"])
    }

    private func whoami(_ request: ReceivedRequest) -> ScriptedResponse {
        let user: JSONValue = request.clientCertificateCommonName.map(JSONValue.string) ?? .null
        let token: JSONValue = request.header("Authorization").map(JSONValue.string) ?? .null
        let body: JSONValue = ["kind": "ConfigMap", "metadata": ["name": "whoami"], "data": ["user": user, "authorization": token]]
        return .full(status: 200, headers: [("Content-Type", "application/json")], body: body.serializedBytes())
    }

    @Test func get_overTLSWithBearerToken_verifiesServerAndSendsToken() async throws {
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: serverCertificate), respond: whoami)
        let connection = ClusterConnection(
            server: server.baseURL, certificateAuthorityPEM: Array(authority.certificatePEM.utf8),
            credentials: CredentialProvider(source: .fixed(RequestCredentials(authorizationHeader: "Bearer tls-token"))),
            origin: "test")
        let answer = try await KubernetesAPIClient(connection: connection).get(ConfigMap.self, namespace: "n", name: "whoami")
        #expect(answer.data["authorization"] == "Bearer tls-token")
        #expect(answer.data["user"] == nil)
        try await server.stop()
    }

    @Test func manyRequests_overTLS_reuseOneConnection() async throws {
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: serverCertificate), respond: whoami)
        let connection = ClusterConnection(
            server: server.baseURL, certificateAuthorityPEM: Array(authority.certificatePEM.utf8),
            credentials: CredentialProvider(source: .fixed(RequestCredentials(authorizationHeader: "Bearer tls-token"))),
            origin: "test")
        let client = KubernetesAPIClient(connection: connection)
        for _ in 0..<10 { _ = try await client.get(.configMaps, namespace: "n", name: "whoami") }
        #expect(server.snapshot.requests.count == 10)
        #expect(server.snapshot.accepted == 1)
        try await server.stop()
    }

    @Test func get_overTLSWithClientCertificate_authenticatesAsItsCommonName() async throws {
        let client = try authority.issueClientCertificate(commonName: "system:medsearch-operator", organizations: ["system:masters"])
        let server = try await LoopbackHTTPServer(
            tls: ServerTLSConfiguration(serving: serverCertificate, clientCertificateAuthority: authority, clientCertificateMode: .optional),
            respond: whoami)
        let connection = ClusterConnection(
            server: server.baseURL, tlsServerName: "kubernetes.default.svc",
            certificateAuthorityPEM: Array(authority.certificatePEM.utf8),
            credentials: CredentialProvider(
                source: .fixed(
                    RequestCredentials(
                        clientCertificatePEM: Array(client.certificatePEM.utf8), clientKeyPEM: Array(client.privateKeyPEM.utf8)))),
            origin: "test")
        let answer = try await KubernetesAPIClient(connection: connection).get(ConfigMap.self, namespace: "n", name: "whoami")
        #expect(answer.data["user"] == "system:medsearch-operator")
        #expect(answer.data["authorization"] == nil)
        try await server.stop()
    }

    @Test func list_throughTLSServerName_keepsEncodedPathAndQueryIntact() async throws {
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: serverCertificate)) { _ in
            .full(status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"kind":"List","items":[],"metadata":{}}"#.utf8))
        }
        let connection = ClusterConnection(
            server: server.baseURL, tlsServerName: "kubernetes.default.svc",
            certificateAuthorityPEM: Array(authority.certificatePEM.utf8), origin: "test")
        _ = try await KubernetesAPIClient(connection: connection)
            .list(.serviceAccounts, namespace: "a:b", options: ListOptions(labelSelector: "x in (1,2)"))
        let request = try #require(server.snapshot.requests.first)
        #expect(request.uri == "/api/v1/namespaces/a%3Ab/serviceaccounts?labelSelector=x%20in%20%281%2C2%29")
        #expect(request.header("Host") == "kubernetes.default.svc:\(server.port)")
        try await server.stop()
    }

    @Test func get_overTLSWithUntrustedServer_failsAsTransportFailure() async throws {
        let server = try await LoopbackHTTPServer(tls: ServerTLSConfiguration(serving: serverCertificate), respond: whoami)
        let other = try CertificateAuthority.generate(commonName: "other")
        let connection = ClusterConnection(
            server: server.baseURL, certificateAuthorityPEM: Array(other.certificatePEM.utf8), origin: "test")
        let error = await #expect(throws: KubeAPIError.self) {
            _ = try await KubernetesAPIClient(connection: connection).get(.configMaps, namespace: "n", name: "x")
        }
        #expect(error?.kind == .transportFailure)
        #expect(error?.transportError?.kind == .tlsFailure)
        #expect(server.snapshot.requests.isEmpty)
        try await server.stop()
    }
}
