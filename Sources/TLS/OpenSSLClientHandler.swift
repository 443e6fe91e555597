import COpenSSL
import NIOCore

/// Runs the client side of TLS for one connection with OpenSSL over a pair of memory BIOs.
///
/// Add it first in a client pipeline, either before connecting or later on a live plaintext
/// connection (PostgreSQL's SSLRequest upgrade): the handshake starts as soon as the handler
/// is in an active channel. `handshakeCompleted` succeeds when the server is verified and
/// fails with a `TLSError` of kind `.handshake` otherwise.
///
/// Guarantees: plaintext written before the handshake finishes is queued and sent after it, in
/// order; the server name is sent as SNI (unless it is an IP address) and checked against the
/// certificate with OpenSSL's hostname matching; any TLS failure is fired as
/// `errorCaught(TLSError)` and closes the connection; closing sends close_notify first;
/// `handshakeCompleted` is always completed, at the latest when the handler is removed.
/// Caveats: not thread-safe (it lives on its channel's event loop); half-closure is not
/// supported: the peer's close_notify closes the whole connection.
public final class OpenSSLClientHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let tlsContext: ClientTLSContext
    private let serverName: String?
    private let records: OpenSSLRecordLayer
    private var handshakeStarted = false
    /// Nil once completed, so it is completed exactly once.
    private var handshakePromise: EventLoopPromise<Void>?
    private var handshakeFuture: EventLoopFuture<Void>?

    /// Completes when the handshake does; available once the handler is in a pipeline.
    public var handshakeCompleted: EventLoopFuture<Void>? { handshakeFuture }
    /// "TLSv1.2" or "TLSv1.3" once the handshake is done.
    public private(set) var protocolVersion: String?
    /// The ALPN protocol the server picked, if any.
    public private(set) var negotiatedProtocol: String?

    /// - Parameters:
    ///   - context: the shared client context.
    ///   - serverName: overrides the context's `serverName` for this connection (the same
    ///     context serves many hosts).
    ///   - closeTimeout: how long to wait for our close_notify to be written before closing
    ///     the socket regardless. Default 5 seconds.
    public init(context: ClientTLSContext, serverName: String? = nil, closeTimeout: TimeAmount = .seconds(5)) {
        self.tlsContext = context
        self.serverName = serverName ?? context.configuration.serverName
        self.records = OpenSSLRecordLayer(closeTimeout: closeTimeout)
        records.failureObserver = { [weak self] error in self?.finishHandshake(failure: error) }
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        handshakePromise = promise
        handshakeFuture = promise.futureResult
        do throws(TLSError) {
            let ssl = try records.open(tlsContext.pointer)
            SSL_set_connect_state(ssl)
            try configureServerName(ssl)
        } catch {
            records.fail(context, error)
            return
        }
        records.beginHandshaking()
        if context.channel.isActive { startHandshake(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        records.abandon()
        finishHandshake(failure: ChannelError.ioOnClosedChannel)
        records.free()
    }

    public func channelActive(context: ChannelHandlerContext) {
        if records.state == .handshaking { startHandshake(context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if records.state == .handshaking {
            finishHandshake(failure: TLSError(.handshake, "the server closed the connection during the handshake"))
        }
        records.connectionClosed()
        context.fireChannelInactive()
    }

    private func configureServerName(_ ssl: OpaquePointer) throws(TLSError) {
        guard let serverName, !serverName.isEmpty else { return }
        let isAddress = Self.isIPAddress(serverName)
        ERR_clear_error()
        if !isAddress {
            guard copenssl_ssl_set_tlsext_host_name(ssl, serverName) == 1 else {
                throw .fromQueue(.contextSetup, "could not set the SNI server name")
            }
        }
        guard tlsContext.configuration.trust != .insecureSkipVerification else { return }
        guard let parameters = SSL_get0_param(ssl) else {
            throw .fromQueue(.contextSetup, "the SSL object has no verification parameters")
        }
        let accepted = isAddress
            ? X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName)
            : X509_VERIFY_PARAM_set1_host(parameters, serverName, 0)
        guard accepted == 1 else {
            throw .fromQueue(.invalidArgument, "could not expect the server name \"\(serverName)\"")
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        // inet_pton via OpenSSL's own parser keeps the rules identical to the check itself.
        guard let octets = a2i_IPADDRESS(text) else { return false }
        ASN1_OCTET_STRING_free(octets)
        return true
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard records.receive(context, unwrapInboundIn(data)) else { return }
        if records.state == .handshaking { continueHandshake(context) }
        if records.state == .active { records.readPlaintext(context) }
    }

    private func startHandshake(_ context: ChannelHandlerContext) {
        guard !handshakeStarted else { return }
        handshakeStarted = true
        continueHandshake(context)
    }

    private func continueHandshake(_ context: ChannelHandlerContext) {
        guard handshakeStarted, records.advanceHandshake(context, peerRole: "server"),
            let ssl = records.ssl
        else { return }
        protocolVersion = String(cString: SSL_get_version(ssl))
        negotiatedProtocol = records.selectedProtocol()
        records.writeCiphertext(context, promise: nil, flush: true)
        finishHandshake(failure: nil)
        context.fireUserInboundEventTriggered(TLSHandshakeCompleted(
            peer: nil, negotiatedProtocol: negotiatedProtocol, protocolVersion: protocolVersion ?? ""))
        records.sendBufferedWrites(context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        records.write(context, unwrapOutboundIn(data), promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        records.flush(context)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Closing mid-handshake settles the handshake before the record layer drops the socket.
        if mode != .input && records.state == .handshaking {
            finishHandshake(failure: ChannelError.ioOnClosedChannel)
        }
        records.close(context, mode: mode, promise: promise)
    }

    private func finishHandshake(failure: (any Error)?) {
        guard let promise = handshakePromise else { return }
        handshakePromise = nil
        if let failure { promise.fail(failure) } else { promise.succeed() }
    }
}

@available(*, unavailable)
extension OpenSSLClientHandler: Sendable {}
