/// What a Kubernetes client needs to reach one API server as one user: the resolved
/// result of a kubeconfig context or of in-cluster configuration.
///
/// Guarantees: every file reference in the source kubeconfig has already been resolved
/// relative to the file that named it; TLS material is carried as PEM bytes so the
/// transport never needs temporary files.
public struct ClusterConnection: Sendable {
    /// Base URL of the API server, e.g. `https://127.0.0.1:6443` (no trailing slash).
    public var server: String
    /// Overrides the name checked against the server certificate (kubeconfig `tls-server-name`).
    public var tlsServerName: String?
    public var insecureSkipTLSVerify: Bool
    /// Kubeconfig `proxy-url` (http, https or socks5), if any; nil means connect directly.
    public var proxyURL: String?
    /// PEM of the CA bundle that signs the server certificate; nil means the system trust store.
    public var certificateAuthorityPEM: [UInt8]?
    /// Default namespace of the context ("default" when the context names none).
    public var namespace: String
    /// Where request credentials come from; asked before every request (it caches).
    public var credentials: CredentialProvider
    /// For messages: "context prod-eks in /home/me/.kube/config", or "in-cluster".
    public var origin: String

    public init(
        server: String,
        tlsServerName: String? = nil,
        insecureSkipTLSVerify: Bool = false,
        certificateAuthorityPEM: [UInt8]? = nil,
        namespace: String = "default",
        credentials: CredentialProvider = CredentialProvider(source: .none),
        origin: String
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.namespace = namespace
        self.credentials = credentials
        self.origin = origin
    }
}

/// The credentials to attach to one request.
///
/// Caveats: `description` never prints the token, password or key.
public struct RequestCredentials: Sendable, Equatable, CustomStringConvertible {
    /// Full value of the `Authorization` header ("Bearer …" or "Basic …"), if any.
    public var authorizationHeader: String?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(authorizationHeader: String? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil) {
        self.authorizationHeader = authorizationHeader
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    public var description: String {
        var parts: [String] = []
        if let header = authorizationHeader { parts.append(header.hasPrefix("Basic") ? "basic auth" : "bearer token") }
        if clientCertificatePEM != nil { parts.append("client certificate") }
        return parts.isEmpty ? "anonymous" : parts.joined(separator: " + ")
    }
}
