import COpenSSL

/// What a TLS server presents and whom it accepts.
public struct ServerTLSConfiguration: Sendable {
    /// How the server treats client certificates.
    public enum ClientCertificateMode: Sendable, Equatable {
        /// Never ask for one.
        case none
        /// Ask; accept connections without one, but a certificate that is offered must verify
        /// against `clientCertificateAuthorityPEM` (how kube-apiserver behaves).
        case optional
        /// Ask, and fail the handshake without a verified one.
        case required
    }

    /// Leaf certificate first, then any intermediates.
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    /// CAs that sign client certificates; required unless `clientCertificateMode` is `.none`.
    public var clientCertificateAuthorityPEM: String?
    /// Default `.none`.
    public var clientCertificateMode: ClientCertificateMode
    /// ALPN protocols in preference order. Default `["http/1.1"]`, because the pipeline behind
    /// the handler speaks HTTP/1.1 only; offering h2 would break clients that pick it.
    public var applicationProtocols: [String]

    public init(
        certificateChainPEM: String,
        privateKeyPEM: String,
        clientCertificateAuthorityPEM: String? = nil,
        clientCertificateMode: ClientCertificateMode = .none,
        applicationProtocols: [String] = ["http/1.1"]
    ) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCertificateAuthorityPEM = clientCertificateAuthorityPEM
        self.clientCertificateMode = clientCertificateMode
        self.applicationProtocols = applicationProtocols
    }

    /// A configuration serving `issued` (e.g. from `CertificateAuthority.issueServerCertificate`).
    public init(
        serving issued: IssuedCertificate,
        clientCertificateAuthority: CertificateAuthority? = nil,
        clientCertificateMode: ClientCertificateMode = .none
    ) {
        self.init(
            certificateChainPEM: issued.certificatePEM,
            privateKeyPEM: issued.privateKeyPEM,
            clientCertificateAuthorityPEM: clientCertificateAuthority?.certificatePEM,
            clientCertificateMode: clientCertificateMode)
    }
}

/// An OpenSSL server context (SSL_CTX): built once from a configuration and shared by every
/// connection's `OpenSSLServerHandler`.
///
/// Guarantees: TLS 1.2 is the minimum version; renegotiation and compression are off.
/// Caveats: the context is immutable after init, which is what makes sharing it across event
/// loops safe; to rotate certificates, build a new context for new connections.
public final class ServerTLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let configuration: ServerTLSConfiguration
    /// ALPN protocols in wire format (length-prefixed) plus a terminating zero length byte
    /// (names are never empty, so it cannot be mistaken for an entry); kept alive for the
    /// selection callback, which receives only this pointer.
    private let alpnWireFormat: UnsafeMutableBufferPointer<UInt8>

    public init(configuration: ServerTLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        let wire = try ServerTLSContext.alpnWireFormat(configuration.applicationProtocols)
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .fromQueue(.contextSetup, "could not create an SSL_CTX")
        }
        self.pointer = context
        self.configuration = configuration
        self.alpnWireFormat = .allocate(capacity: wire.count + 1)
        _ = alpnWireFormat.initialize(from: wire + [0])
        // From here on deinit frees both, so failures below may simply throw.

        guard copenssl_ssl_ctx_set_min_proto_tls12(context) == 1 else {
            throw .fromQueue(.contextSetup, "could not require TLS 1.2 or later")
        }
        _ = copenssl_ssl_ctx_set_options(
            context,
            copenssl_op_no_renegotiation() | copenssl_op_cipher_server_preference() | copenssl_op_no_compression())

        try useCertificateChain(configuration)
        try configureClientVerification(configuration)

        if !wire.isEmpty {
            SSL_CTX_set_alpn_select_cb(context, selectApplicationProtocol, UnsafeMutableRawPointer(alpnWireFormat.baseAddress))
        }
    }

    deinit {
        SSL_CTX_free(pointer)
        alpnWireFormat.deallocate()
    }

    /// Builds a context from an issued server certificate, for tests and development servers.
    public convenience init(
        serving issued: IssuedCertificate,
        clientCertificateAuthority: CertificateAuthority? = nil,
        clientCertificateMode: ServerTLSConfiguration.ClientCertificateMode = .none
    ) throws(TLSError) {
        try self.init(configuration: ServerTLSConfiguration(
            serving: issued, clientCertificateAuthority: clientCertificateAuthority,
            clientCertificateMode: clientCertificateMode))
    }

    private func useCertificateChain(_ configuration: ServerTLSConfiguration) throws(TLSError) {
        let chain = try Certificate.chain(pemRepresentation: configuration.certificateChainPEM)
        let key = try PrivateKey(pemRepresentation: configuration.privateKeyPEM)
        ERR_clear_error()
        guard SSL_CTX_use_certificate(pointer, chain[0].pointer) == 1 else {
            throw .fromQueue(.contextSetup, "could not use the server certificate")
        }
        for intermediate in chain.dropFirst() {
            guard copenssl_ssl_ctx_add1_chain_cert(pointer, intermediate.pointer) == 1 else {
                throw .fromQueue(.contextSetup, "could not add an intermediate certificate")
            }
        }
        guard SSL_CTX_use_PrivateKey(pointer, key.pointer) == 1 else {
            throw .fromQueue(.contextSetup, "could not use the private key")
        }
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            throw .fromQueue(.contextSetup, "the private key does not belong to the server certificate")
        }
    }

    private func configureClientVerification(_ configuration: ServerTLSConfiguration) throws(TLSError) {
        guard configuration.clientCertificateMode != .none else {
            SSL_CTX_set_verify(pointer, SSL_VERIFY_NONE, nil)
            return
        }
        guard let pem = configuration.clientCertificateAuthorityPEM else {
            throw TLSError(.contextSetup, "client certificates were requested but no client CA was given")
        }
        let authorities = try Certificate.chain(pemRepresentation: pem)
        ERR_clear_error()
        guard let store = SSL_CTX_get_cert_store(pointer) else {
            throw .fromQueue(.contextSetup, "the context has no certificate store")
        }
        for authority in authorities {
            // The store is the trust anchor; the CA list only tells clients which certificate to send.
            guard X509_STORE_add_cert(store, authority.pointer) == 1,
                SSL_CTX_add_client_CA(pointer, authority.pointer) == 1
            else {
                throw .fromQueue(.contextSetup, "could not trust a client CA certificate")
            }
        }
        var mode = SSL_VERIFY_PEER
        if configuration.clientCertificateMode == .required { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        SSL_CTX_set_verify(pointer, mode, nil)
        // Session resumption with client verification fails without a session id context.
        let sessionContext = Array("medsearch-tls".utf8)
        guard SSL_CTX_set_session_id_context(pointer, sessionContext, UInt32(sessionContext.count)) == 1 else {
            throw .fromQueue(.contextSetup, "could not set the session id context")
        }
    }

    private static func alpnWireFormat(_ protocols: [String]) throws(TLSError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else {
                throw TLSError(.invalidArgument, "ALPN protocol names must be 1...255 bytes long")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }
}

/// OpenSSL's ALPN callback: picks the first of our protocols the client offers. If there is
/// no overlap the server carries on without ALPN rather than failing the handshake, which is
/// what clients without ALPN support need.
private func selectApplicationProtocol(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?,
    _ clientProtocols: UnsafePointer<UInt8>?,
    _ clientLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let argument, let clientProtocols, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let server = argument.assumingMemoryBound(to: UInt8.self)
    // Walk our list in preference order and look each name up in the client's list.
    var serverIndex = 0
    while server[serverIndex] != 0 {
        let length = Int(server[serverIndex])
        let candidate = UnsafeBufferPointer(start: server + serverIndex + 1, count: length)
        var clientIndex = 0
        while clientIndex < Int(clientLength) {
            let clientEntryLength = Int(clientProtocols[clientIndex])
            if clientIndex + 1 + clientEntryLength > Int(clientLength) { break }
            let offered = UnsafeBufferPointer(start: clientProtocols + clientIndex + 1, count: clientEntryLength)
            if offered.elementsEqual(candidate) {
                out.pointee = UnsafePointer(server + serverIndex + 1)
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            clientIndex += 1 + clientEntryLength
        }
        serverIndex += 1 + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
