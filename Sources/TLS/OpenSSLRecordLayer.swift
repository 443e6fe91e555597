import COpenSSL
import NIOCore

/// The record pumping both TLS handlers share: one SSL object over a pair of memory BIOs.
///
/// The client and server handlers differ only in how the handshake starts and what they do
/// when it ends; the write path (writes held until the handshake, bounded SSL_write slices,
/// draining the write BIO onto the channel), the read path, close_notify and failure handling
/// live here once so a fix applies to both sides.
/// Not thread-safe: it belongs to one handler on one event loop.
final class OpenSSLRecordLayer {
    enum State {
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

    private let closeTimeout: TimeAmount
    private(set) var state = State.waitingForHandler
    private(set) var ssl: OpaquePointer?
    private var readBIO: OpaquePointer?
    private var writeBIO: OpaquePointer?
    private var bufferedWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushRequestedDuringHandshake = false
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?
    /// Runs once a failure is decided and its alert sent, before the error goes up the
    /// pipeline, so each handler can settle its own side (handshake promise, timers) in the
    /// same order as the error is seen.
    var failureObserver: ((TLSError) -> Void)?

    init(closeTimeout: TimeAmount) {
        self.closeTimeout = closeTimeout
    }

    // MARK: lifecycle

    /// Creates the SSL object and its BIOs; the caller then picks the connect or accept side.
    func open(_ sslContext: OpaquePointer) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let ssl = SSL_new(sslContext) else {
            throw .fromQueue(.connection, "could not create an SSL object")
        }
        guard let readBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .fromQueue(.connection, "could not create a memory BIO")
        }
        guard let writeBIO = BIO_new(BIO_s_mem()) else {
            BIO_free(readBIO)
            SSL_free(ssl)
            throw .fromQueue(.connection, "could not create a memory BIO")
        }
        // An empty read BIO must mean "wait for more" (WANT_READ), not end of stream.
        _ = copenssl_bio_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL object now owns and frees both BIOs
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        return ssl
    }

    /// Marks the SSL object configured, so records may flow.
    func beginHandshaking() {
        state = .handshaking
    }

    /// Stops the close timer and fails held writes, for a handler leaving its pipeline.
    func abandon() {
        closeTimer?.cancel()
        closeTimer = nil
        failBufferedWrites(ChannelError.ioOnClosedChannel)
    }

    /// Frees the SSL object (and with it both BIOs).
    func free() {
        if let ssl { SSL_free(ssl) }
        ssl = nil
        readBIO = nil
        writeBIO = nil
        state = .closed
    }

    /// The socket is gone: nothing more can be sent, and a pending close is complete.
    func connectionClosed() {
        state = .closed
        closeTimer?.cancel()
        failBufferedWrites(ChannelError.ioOnClosedChannel)
        if let closePromise {
            self.closePromise = nil
            closePromise.succeed()
        }
    }

    // MARK: inbound

    /// Hands received ciphertext to OpenSSL; false when it was ignored or could not be taken.
    func receive(_ context: ChannelHandlerContext, _ ciphertext: ByteBuffer) -> Bool {
        guard state == .handshaking || state == .active, let readBIO else { return false }
        let accepted = ciphertext.withUnsafeReadableBytes { bytes in
            bytes.isEmpty ? 0 : BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
        }
        guard accepted == ciphertext.readableBytes else {
            fail(context, .fromQueue(.connection, "could not buffer received bytes"))
            return false
        }
        return true
    }

    /// Runs the handshake as far as the received bytes allow; true when it has just finished,
    /// leaving the caller to record the result, send the final flight and release held writes
    /// (in that order, so nothing it triggers can encrypt ahead of the handshake's last bytes).
    /// `peerRole` names the other side in a verification failure ("server" or "client").
    func advanceHandshake(_ context: ChannelHandlerContext, peerRole: String) -> Bool {
        guard let ssl else { return false }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .active
            return true
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            writeCiphertext(context, promise: nil, flush: true)
        default:
            fail(context, .fromQueue(.handshake, handshakeFailureDetail(ssl, peerRole: peerRole)))
        }
        return false
    }

    private func handshakeFailureDetail(_ ssl: OpaquePointer, peerRole: String) -> String {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            return "\(peerRole) certificate rejected: \(String(cString: X509_verify_cert_error_string(verification)))"
        }
        return "handshake failed"
    }

    /// The ALPN protocol agreed on, if any.
    func selectedProtocol() -> String? {
        guard let ssl else { return nil }
        var selected: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &selected, &length)
        guard let selected, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: selected, count: Int(length)), as: UTF8.self)
    }

    /// Decrypts everything buffered and passes it up in chunks of up to `readChunkSize`.
    func readPlaintext(_ context: ChannelHandlerContext) {
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
                    context.fireChannelRead(NIOAny(plaintext))
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
                context.fireChannelRead(NIOAny(plaintext))
            }
            // Passing the plaintext on may have closed the connection.
            guard state == .active else { return }
            if let failure {
                fail(context, failure)
            } else if error == SSL_ERROR_ZERO_RETURN {
                // The peer sent close_notify: answer it and close, as neither side's protocols
                // here have a use for a half-closed TLS stream.
                beginClose(context, promise: nil)
            } else {
                // TLS 1.3 post-handshake messages (KeyUpdate) may have produced output.
                writeCiphertext(context, promise: nil, flush: true)
            }
            return
        }
    }

    // MARK: outbound

    func write(_ context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch state {
        case .waitingForHandler, .handshaking:
            bufferedWrites.append((plaintext, promise))
        case .active:
            encrypt(context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func flush(_ context: ChannelHandlerContext) {
        switch state {
        case .waitingForHandler, .handshaking:
            flushRequestedDuringHandshake = true
        case .active, .closing, .closed:
            context.flush()
        }
    }

    func close(_ context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
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
            context.write(NIOAny(plaintext), promise: promise)
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
    func writeCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
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
            context.write(NIOAny(ciphertext), promise: promise)
        } else if let promise {
            promise.succeed()
        }
        if flush { context.flush() }
    }

    /// Encrypts the writes held during the handshake, in order, and honours a flush asked for then.
    func sendBufferedWrites(_ context: ChannelHandlerContext) {
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
    func fail(_ context: ChannelHandlerContext, _ error: TLSError) {
        guard state != .closed else { return }
        state = .closed
        closeTimer?.cancel()
        failBufferedWrites(error)
        // The alert (e.g. "certificate required") tells the peer why; send it before closing.
        writeCiphertext(context, promise: nil, flush: true)
        failureObserver?(error)
        context.fireErrorCaught(error)
        // A close already under way completes with this one.
        let promise = closePromise
        closePromise = nil
        context.close(mode: .all, promise: promise)
    }
}

@available(*, unavailable)
extension OpenSSLRecordLayer: Sendable {}
