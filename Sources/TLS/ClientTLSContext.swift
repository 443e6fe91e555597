import COpenSSL

/// Whom a TLS client trusts and which name it expects the server to prove.
public struct ClientTLSConfiguration: Sendable, Equatable {
    /// Where the client's trust comes from.
    public enum Trust: Sendable, Equatable {
        /// The operating system's CA bundle (OpenSSL's default verify paths).
        case systemDefault
        /// Only these CAs (PEM, one or more certificates), e.g. a cloud provider's RDS bundle.
        case certificateAuthorities(pem: String)
        /// No verification at all. Only for local demos: anyone on the path can impersonate the server.
        case insecureSkipVerification
    }

    /// Default `.systemDefault`.
    public var trust: Trust
    /// The name sent as SNI and checked against the certificate's subjectAltNames (an IP
    /// address is checked against IP SANs and not sent as SNI). Nil: no hostname check, which
    /// only makes sense with `.insecureSkipVerification`; the handler can override it per connection.
    public var serverName: String?
    /// ALPN protocols to offer, in preference order. Default none: data-store protocols don't use ALPN.
    public var applicationProtocols: [String]

    public init(trust: Trust = .systemDefault, serverName: String? = nil, applicationProtocols: [String] = []) {
        self.trust = trust
        self.serverName = serverName
        self.applicationProtocols = applicationProtocols
    }
}

/// An OpenSSL client context (SSL_CTX) shared by every connection's `OpenSSLClientHandler`.
///
/// Guarantees: TLS 1.2 is the minimum version; renegotiation and compression are off; unless
/// trust is `.insecureSkipVerification`, the server's chain must verify (SSL_VERIFY_PEER).
/// Caveats: immutable after init, which is what makes sharing it across event loops safe.
public final class ClientTLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let configuration: ClientTLSConfiguration

    public init(configuration: ClientTLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .fromQueue(.contextSetup, "could not create an SSL_CTX")
        }
        self.pointer = context
        self.configuration = configuration
        // From here on deinit frees the context, so failures below may simply throw.

        guard copenssl_ssl_ctx_set_min_proto_tls12(context) == 1 else {
            throw .fromQueue(.contextSetup, "could not require TLS 1.2 or later")
        }
        _ = copenssl_ssl_ctx_set_options(context, copenssl_op_no_renegotiation() | copenssl_op_no_compression())

        switch configuration.trust {
        case .systemDefault:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .fromQueue(.contextSetup, "could not load the system CA store")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .certificateAuthorities(let pem):
            let authorities = try Certificate.chain(pemRepresentation: pem)
            ERR_clear_error()
            guard let store = SSL_CTX_get_cert_store(context) else {
                throw .fromQueue(.contextSetup, "the context has no certificate store")
            }
            for authority in authorities {
                guard X509_STORE_add_cert(store, authority.pointer) == 1 else {
                    throw .fromQueue(.contextSetup, "could not trust a CA certificate")
                }
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .insecureSkipVerification:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }

        if !configuration.applicationProtocols.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.applicationProtocols {
                let bytes = Array(name.utf8)
                guard !bytes.isEmpty, bytes.count <= 255 else {
                    throw TLSError(.invalidArgument, "ALPN protocol names must be 1...255 bytes long")
                }
                wire.append(UInt8(bytes.count))
                wire.append(contentsOf: bytes)
            }
            // Unlike nearly every other OpenSSL call, this one returns 0 on success.
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                throw .fromQueue(.contextSetup, "could not set the ALPN protocols")
            }
        }
    }

    deinit {
        SSL_CTX_free(pointer)
    }
}
