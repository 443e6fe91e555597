import COpenSSL
import NIOCore

/// Who the client proved to be with its certificate.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The subject commonName (Kubernetes: the user name); empty if the certificate has none.
    public let commonName: String
    /// Every subject organizationName, in order (Kubernetes: the groups).
    public let organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }

    public var description: String { "CN=\(commonName) O=\(organizations)" }
}

/// Fired through the pipeline as a user inbound event once the handshake succeeds, before any
/// request bytes, so the HTTP layer can authenticate client-certificate users.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The verified client certificate's identity; nil when the client sent none.
    public let peer: PeerIdentity?
    /// The ALPN protocol agreed on, if the client used ALPN.
    public let negotiatedProtocol: String?
    /// "TLSv1.2" or "TLSv1.3".
    public let protocolVersion: String
}

/// Terminates TLS for one server connection with OpenSSL over a pair of memory BIOs.
///
/// Put it first in a server child pipeline, before the HTTP handlers:
/// `try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: tls))`.
///
/// Guarantees: plaintext written before the handshake finishes is queued and sent after it, in
/// order; large writes are encrypted in bounded slices so ciphertext is not buffered whole;
/// closing sends close_notify before the socket closes; a peer's close_notify is answered and
/// the connection closed; any TLS failure is fired as `errorCaught(TLSError)` and closes the
/// connection. The SSL object is freed in `handlerRemoved`.
/// Caveats: not thread-safe (like every channel handler it lives on its channel's event loop);
/// half-closure is not supported: a close_notify from the peer closes the whole connection.
public final class OpenSSLServerHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case waitingForHandler
        case handshaking
        case active
        /// Our close_notify is on its way; the socket closes when it is written or times out.
        case closing
        case closed
    }

    /// Plaintext bytes handed to SSL_write at a time: one TLS record holds 16 KiB, so this is
    /// four records, enough to amortise calls without buffering a whole large body as ciphertext.
    private static let writeSliceSize = 64 * 1024
    /// Plaintext bytes gathered before passing a read on, for the same reason.
    private static let readChunkSize = 64 * 1024

    private let tlsContext: ServerTLSContext
    private let handshakeTimeout: TimeAmount
    private let closeTimeout: TimeAmount
    private var state = State.waitingForHandler
    private var ssl: OpaquePointer?
    private var readBIO: OpaquePointer?
    private var writeBIO: OpaquePointer?
    private var bufferedWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushRequestedDuringHandshake = false
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?

    /// The verified client certificate's identity once the handshake is done; nil before that
    /// and when the client sent no certificate.
    public private(set) var peerIdentity: PeerIdentity?
    /// The ALPN protocol agreed on, once the handshake is done.
    public private(set) var negotiatedProtocol: String?
    /// Whether the handshake has completed.
    public var isHandshakeComplete: Bool { state == .active }

    /// - Parameters:
    ///   - context: the shared server context.
    ///   - handshakeTimeout: how long a client may take to finish the handshake before the
    ///     connection is dropped, so idle sockets cannot pile up. Default 10 seconds.
    ///   - closeTimeout: how long to wait for our close_notify to be written before closing the
    ///     socket regardless (a peer that stopped reading must not hold it open). Default 5 seconds.
    public init(context: ServerTLSContext, handshakeTimeout: TimeAmount = .seconds(10), closeTimeout: TimeAmount = .seconds(5)) {
        self.tlsContext = context
        self.handshakeTimeout = handshakeTimeout
        self.closeTimeout = closeTimeout
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        ERR_clear_error()
        guard let ssl = SSL_new(tlsContext.pointer) else {
            fail(context, .fromQueue(.connection, "could not create an SSL object"))
            return
        }
        guard let readBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            fail(context, .fromQueue(.connection, "could not create a memory BIO"))
            return
        }
        guard let writeBIO = BIO_new(BIO_s_mem()) else {
            BIO_free(readBIO)
            SSL_free(ssl)
            fail(context, .fromQueue(.connection, "could not create a memory BIO"))
            return
        }
        // An empty read BIO must mean "wait for more" (WANT_READ), not end of stream.
        _ = copenssl_bio_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL object now owns and frees both BIOs
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        state = .handshaking
        if context.channel.isActive { startHandshakeTimer(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        handshakeTimer = nil
        closeTimer = nil
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        if let ssl { SSL_free(ssl) }
        ssl = nil
        readBIO = nil
        writeBIO = nil
        state = .closed
    }

    public func channelActive(context: ChannelHandlerContext) {
        if state == .handshaking { startHandshakeTimer(context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        if let closePromise {
            self.closePromise = nil
            closePromise.succeed()
        }
        context.fireChannelInactive()
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

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    private func continueHandshake(_ context: ChannelHandlerContext) {
        guard let ssl else { return }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .active
            handshakeTimer?.cancel()
            handshakeTimer = nil
            recordPeer(ssl)
            writeCiphertext(context, promise: nil, flush: true)  // e.g. TLS 1.3 session tickets
            context.fireUserInboundEventTriggered(TLSHandshakeCompleted(
                peer: peerIdentity, negotiatedProtocol: negotiatedProtocol,
                protocolVersion: String(cString: SSL_get_version(ssl))))
            sendBufferedWrites(context)
            return
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            writeCiphertext(context, promise: nil, flush: true)
        default:
            fail(context, .fromQueue(.handshake, handshakeFailureDetail(ssl)))
        }
    }

    private func handshakeFailureDetail(_ ssl: OpaquePointer) -> String {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            return "client certificate rejected: \(String(cString: X509_verify_cert_error_string(verification)))"
        }
        return "handshake failed"
    }

    private func recordPeer(_ ssl: OpaquePointer) {
        if let certificate = SSL_get0_peer_certificate(ssl), SSL_get_verify_result(ssl) == X509_V_OK,
            let name = X509_get_subject_name(certificate)
        {
            peerIdentity = PeerIdentity(
                commonName: nameValues(name, nid: NID_commonName).first ?? "",
                organizations: nameValues(name, nid: NID_organizationName))
        }
        var selected: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &selected, &length)
        if let selected, length > 0 {
            negotiatedProtocol = String(decoding: UnsafeBufferPointer(start: selected, count: Int(length)), as: UTF8.self)
        }
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
                    // The next handler may write or close synchronously; the loop condition
                    // re-checks state and the SSL object after it returns.
                    context.fireChannelRead(wrapInboundOut(plaintext))
                    plaintext = context.channel.allocator.buffer(capacity: Self.readChunkSize)
                }
                continue
            }
            let error = SSL_get_error(ssl, result)
            // Read OpenSSL's error queue now: the handlers the plaintext is passed to run on
            // this thread and may use OpenSSL themselves.
            let failure = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_ZERO_RETURN
                ? nil : TLSError.fromQueue(.connection, "could not decrypt received records")
            if plaintext.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(plaintext))
            }
            // Passing the plaintext on may have closed the connection.
            guard state == .active else { return }
            if let failure {
                fail(context, failure)
            } else if error == SSL_ERROR_ZERO_RETURN {
                // The client sent close_notify: answer it and close, as HTTP/1.1 has no use for
                // a half-closed TLS stream.
                beginClose(context, promise: nil)
            } else {
                // TLS 1.3 post-handshake messages (KeyUpdate) may have produced output.
                writeCiphertext(context, promise: nil, flush: true)
            }
            return
        }
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
            // Our close is already under way; complete this caller's promise with it.
            if let promise {
                if let closePromise {
                    closePromise.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case (_, .waitingForHandler), (_, .handshaking), (_, .closed):
            state = .closed
            failBufferedWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        }
    }

    private func encrypt(_ context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard plaintext.readableBytes > 0 else {
            // Keep ordering for empty writes: the promise completes after what precedes it.
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
            // A memory BIO never pushes back, so SSL_write either takes the slice whole or fails.
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

    /// Moves everything OpenSSL wrote to the write BIO onto the channel.
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

    /// Sends close_notify and closes the socket once it is written (or after `closeTimeout`).
    private func beginClose(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard state == .active, let ssl else {
            state = .closed
            context.close(promise: promise)
            return
        }
        state = .closing
        closePromise = promise
        ERR_clear_error()
        // 0 means "our close_notify is queued, the peer's not yet seen": all a closing side needs.
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

    /// Reports `error` up the pipeline, sends any alert OpenSSL produced, and closes.
    private func fail(_ context: ChannelHandlerContext, _ error: TLSError) {
        guard state != .closed else { return }
        state = .closed
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        failBufferedWrites(error)
        // The alert (e.g. "certificate required") tells the client why; send it before closing.
        writeCiphertext(context, promise: nil, flush: true)
        context.fireErrorCaught(error)
        // A close already under way completes with this one.
        let promise = closePromise
        closePromise = nil
        context.close(mode: .all, promise: promise)
    }

    private func startHandshakeTimer(_ context: ChannelHandlerContext) {
        guard handshakeTimer == nil else { return }
        let loop = context.eventLoop.assumeIsolated()
        handshakeTimer = loop.scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, self.state == .handshaking else { return }
            self.fail(context, TLSError(.handshake, "the client did not finish the handshake in time"))
        }
    }
}

@available(*, unavailable)
extension OpenSSLServerHandler: Sendable {}
