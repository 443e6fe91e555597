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

    private enum State {
        case waitingForHandler
        case handshaking
        case active
        case closing
        case closed
    }

    private static let readChunkSize = 64 * 1024
    private static let writeSliceSize = 64 * 1024

    private let tlsContext: ClientTLSContext
    private let serverName: String?
    private let closeTimeout: TimeAmount
    private var state = State.waitingForHandler
    private var handshakeStarted = false
    private var ssl: OpaquePointer?
    private var writeBIO: OpaquePointer?
    private var readBIO: OpaquePointer?
    private var bufferedWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushRequestedDuringHandshake = false
    /// Nil once completed, so it is completed exactly once.
    private var handshakePromise: EventLoopPromise<Void>?
    private var handshakeFuture: EventLoopFuture<Void>?
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?

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
        self.closeTimeout = closeTimeout
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        handshakePromise = promise
        handshakeFuture = promise.futureResult
        ERR_clear_error()
        guard let ssl = SSL_new(tlsContext.pointer) else {
            fail(context, .fromQueue(.connection, "could not create an SSL object"))
            return
        }
        self.ssl = ssl
        guard let readBIO = BIO_new(BIO_s_mem()) else {
            fail(context, .fromQueue(.connection, "could not create a memory BIO"))
            return
        }
        guard let writeBIO = BIO_new(BIO_s_mem()) else {
            BIO_free(readBIO)
            fail(context, .fromQueue(.connection, "could not create a memory BIO"))
            return
        }
        // An empty read BIO must mean "wait for more" (WANT_READ), not end of stream.
        _ = copenssl_bio_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL object now owns and frees both BIOs
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        SSL_set_connect_state(ssl)
        do throws(TLSError) {
            try configureServerName(ssl)
        } catch {
            fail(context, error)
            return
        }
        state = .handshaking
        if context.channel.isActive { startHandshake(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        closeTimer = nil
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        finishHandshake(failure: ChannelError.ioOnClosedChannel)
        if let ssl { SSL_free(ssl) }
        ssl = nil
        readBIO = nil
        writeBIO = nil
        state = .closed
    }

    public func channelActive(context: ChannelHandlerContext) {
        if state == .handshaking { startHandshake(context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if state == .handshaking {
            finishHandshake(failure: TLSError(.handshake, "the server closed the connection during the handshake"))
        }
        state = .closed
        closeTimer?.cancel()
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        if let closePromise {
            self.closePromise = nil
            closePromise.succeed()
        }
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
        guard state == .handshaking || state == .active, let readBIO else { return }
        let ciphertext = unwrapInboundIn(data)
        let accepted = ciphertext.withUnsafeReadableBytes { bytes in
            bytes.isEmpty ? 0 : BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
        }
        guard accepted == ciphertext.readableBytes else {
            fail(context, .fromQueue(.connection, "could not buffer received bytes"))
            return
        }
        if state == .handshaking { continueHandshake(context) }
        if state == .active { readPlaintext(context) }
    }

    private func startHandshake(_ context: ChannelHandlerContext) {
        guard !handshakeStarted else { return }
        handshakeStarted = true
        continueHandshake(context)
    }

    private func continueHandshake(_ context: ChannelHandlerContext) {
        guard let ssl, handshakeStarted else { return }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .active
            protocolVersion = String(cString: SSL_get_version(ssl))
            var selected: UnsafePointer<UInt8>? = nil
            var length: UInt32 = 0
            SSL_get0_alpn_selected(ssl, &selected, &length)
            if let selected, length > 0 {
                negotiatedProtocol = String(decoding: UnsafeBufferPointer(start: selected, count: Int(length)), as: UTF8.self)
            }
            writeCiphertext(context, promise: nil, flush: true)
            finishHandshake(failure: nil)
            context.fireUserInboundEventTriggered(TLSHandshakeCompleted(
                peer: nil, negotiatedProtocol: negotiatedProtocol, protocolVersion: protocolVersion ?? ""))
            sendBufferedWrites(context)
            return
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            writeCiphertext(context, promise: nil, flush: true)
        default:
            let detail = handshakeFailureDetail(ssl)
            fail(context, .fromQueue(.handshake, detail))
        }
    }

    private func handshakeFailureDetail(_ ssl: OpaquePointer) -> String {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            return "server certificate rejected: \(String(cString: X509_verify_cert_error_string(verification)))"
        }
        return "handshake failed"
    }

    private func readPlaintext(_ context: ChannelHandlerContext) {
        var plaintext = context.channel.allocator.buffer(capacity: Self.readChunkSize)
        while state == .active, let ssl {
            ERR_clear_error()
            var result: Int32 = 0
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { space in
                result = SSL_read(ssl, space.baseAddress, Int32(clamping: space.count))
                return result > 0 ? Int(result) : 0
            }
            if result > 0 {
                if plaintext.readableBytes >= Self.readChunkSize {
                    context.fireChannelRead(wrapInboundOut(plaintext))
                    plaintext = context.channel.allocator.buffer(capacity: Self.readChunkSize)
                }
                continue
            }
            let error = SSL_get_error(ssl, result)
            // Read the error queue before passing plaintext on: the next handlers run on this
            // thread and may use OpenSSL themselves.
            let failure = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_ZERO_RETURN
                ? nil : TLSError.fromQueue(.connection, "could not decrypt received records")
            if plaintext.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(plaintext))
            }
            guard state == .active else { return }
            if let failure {
                fail(context, failure)
            } else if error == SSL_ERROR_ZERO_RETURN {
                beginClose(context, promise: nil)
            } else {
                // TLS 1.3 post-handshake messages (KeyUpdate) may have produced output.
                writeCiphertext(context, promise: nil, flush: true)
            }
            return
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .waitingForHandler, .handshaking:
            bufferedWrites.append((plaintext, promise))
        case .active:
            encrypt(context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .waitingForHandler, .handshaking:
            flushRequestedDuringHandshake = true
        case .active, .closing, .closed:
            context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch (mode, state) {
        case (.input, _):
            context.close(mode: mode, promise: promise)
        case (_, .active):
            beginClose(context, promise: promise)
        case (_, .closing):
            if let promise {
                if let closePromise {
                    closePromise.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case (_, .waitingForHandler), (_, .handshaking), (_, .closed):
            if state == .handshaking {
                finishHandshake(failure: ChannelError.ioOnClosedChannel)
            }
            state = .closed
            failBufferedWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        }
    }

    private func encrypt(_ context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard plaintext.readableBytes > 0 else {
            context.write(wrapOutboundOut(plaintext), promise: promise)
            return
        }
        var remaining = plaintext
        while let slice = remaining.readSlice(length: min(Self.writeSliceSize, remaining.readableBytes)) {
            guard state == .active, let ssl else {
                promise?.fail(ChannelError.ioOnClosedChannel)
                return
            }
            ERR_clear_error()
            let written = slice.withUnsafeReadableBytes { bytes in
                SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
            }
            // A memory BIO never pushes back, so SSL_write takes the slice whole or fails.
            guard written == Int32(slice.readableBytes) else {
                let error = TLSError.fromQueue(.connection, "could not encrypt outgoing data")
                promise?.fail(error)
                fail(context, error)
                return
            }
            writeCiphertext(context, promise: remaining.readableBytes == 0 ? promise : nil, flush: false)
            if remaining.readableBytes == 0 { break }
        }
    }

    private func writeCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        guard let writeBIO else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let pending = Int(copenssl_bio_pending(writeBIO))
        if pending > 0 {
            var ciphertext = context.channel.allocator.buffer(capacity: pending)
            ciphertext.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
                Int(max(0, BIO_read(writeBIO, space.baseAddress, Int32(pending))))
            }
            context.write(wrapOutboundOut(ciphertext), promise: promise)
        } else if let promise {
            promise.succeed()
        }
        if flush { context.flush() }
    }

    private func sendBufferedWrites(_ context: ChannelHandlerContext) {
        let writes = bufferedWrites
        bufferedWrites = []
        for (plaintext, promise) in writes {
            if state == .active {
                encrypt(context, plaintext, promise: promise)
            } else {
                promise?.fail(ChannelError.ioOnClosedChannel)
            }
        }
        if flushRequestedDuringHandshake {
            flushRequestedDuringHandshake = false
            context.flush()
        }
    }

    private func failBufferedWrites(_ error: any Error) {
        let writes = bufferedWrites
        bufferedWrites = []
        flushRequestedDuringHandshake = false
        for (_, promise) in writes { promise?.fail(error) }
    }

    // MARK: closing and failure

    private func beginClose(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard state == .active, let ssl else {
            state = .closed
            context.close(promise: promise)
            return
        }
        state = .closing
        closePromise = promise
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
        let written = context.eventLoop.makePromise(of: Void.self)
        writeCiphertext(context, promise: written, flush: true)
        let loop = context.eventLoop.assumeIsolated()
        closeTimer = loop.scheduleTask(in: closeTimeout) { [weak self] in
            self?.finishClose(context)
        }
        written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            self?.finishClose(context)
        }
    }

    private func finishClose(_ context: ChannelHandlerContext) {
        closeTimer?.cancel()
        closeTimer = nil
        let promise = closePromise
        closePromise = nil
        guard state == .closing else {
            promise?.succeed()
            return
        }
        state = .closed
        context.close(mode: .all, promise: promise)
    }

    private func finishHandshake(failure: (any Error)?) {
        guard let promise = handshakePromise else { return }
        handshakePromise = nil
        if let failure { promise.fail(failure) } else { promise.succeed() }
    }

    /// Reports `error` up the pipeline and to `handshakeCompleted`, sends any alert, and closes.
    private func fail(_ context: ChannelHandlerContext, _ error: TLSError) {
        guard state != .closed else { return }
        state = .closed
        closeTimer?.cancel()
        failBufferedWrites(error)
        writeCiphertext(context, promise: nil, flush: true)
        finishHandshake(failure: error)
        context.fireErrorCaught(error)
        let promise = closePromise
        closePromise = nil
        context.close(mode: .all, promise: promise)
    }
}

@available(*, unavailable)
extension OpenSSLClientHandler: Sendable {}
