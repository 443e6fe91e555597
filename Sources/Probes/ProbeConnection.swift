import Foundation
import NIOCore
import NIOPosix
import TLS

/// Thrown inside a probe to end it with a failure; the probe turns it into a `ProbeResult`.
struct ProbeAbort: Error {
    let failure: ProbeFailure

    init(_ stage: ProbeStage, _ reason: String, _ message: String, serverCode: String? = nil) {
        failure = ProbeFailure(stage: stage, reason: reason, message: message, serverCode: serverCode)
    }
}

/// One probe's TCP connection: bytes in through an async stream, bytes out through the channel,
/// TLS added in front when the protocol asks for it.
///
/// Guarantees: cancelling the task that awaits on the connection closes the channel, so no
/// await here outlives a probe's deadline; `close()` is idempotent.
final class ProbeConnection: Sendable {
    let channel: any Channel
    private let inbound: AsyncThrowingStream<ByteBuffer, any Error>

    private init(channel: any Channel, inbound: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.channel = channel
        self.inbound = inbound
    }

    /// Connects to `endpoint`, mapping socket errors to probe failures of stage `.connect`.
    static func connect(
        to endpoint: ProbeEndpointOverrides.Endpoint, timeout: Duration, group: any EventLoopGroup
    ) async throws(ProbeAbort) -> ProbeConnection {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let milliseconds = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(milliseconds))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundStreamHandler(continuation: continuation))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            continuation.onTermination = { _ in channel.close(promise: nil) }
            return ProbeConnection(channel: channel, inbound: stream)
        } catch {
            continuation.finish()
            throw connectFailure(error, endpoint: endpoint)
        }
    }

    private static func connectFailure(_ error: any Error, endpoint: ProbeEndpointOverrides.Endpoint) -> ProbeAbort {
        var errors: [any Error] = [error]
        if let connection = error as? NIOConnectionError {
            errors = connection.connectionErrors.map(\.error)
            if errors.isEmpty {
                return ProbeAbort(.connect, ProbeFailure.Reason.nameResolutionFailed, "could not resolve \(endpoint.host)")
            }
        }
        for error in errors {
            if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
                return ProbeAbort(.connect, ProbeFailure.Reason.connectionRefused, "\(endpoint) refused the connection")
            }
            if let channel = error as? ChannelError, case .connectTimeout = channel {
                return ProbeAbort(.connect, ProbeFailure.Reason.timeout, "connecting to \(endpoint) timed out")
            }
        }
        return ProbeAbort(.connect, ProbeFailure.Reason.connectionFailed, "could not connect to \(endpoint): \(errors.first.map { "\($0)" } ?? "unknown error")")
    }

    /// A reader over this connection's inbound bytes; make one per probe run.
    func makeReader() -> ProbeByteReader {
        ProbeByteReader(iterator: inbound.makeAsyncIterator())
    }

    /// Sends `bytes` (encrypted if TLS is up) and waits until they are written.
    func send(_ bytes: [UInt8], stage: ProbeStage) async throws(ProbeAbort) {
        let channel = self.channel
        do {
            try await withTaskCancellationHandler {
                try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            throw ProbeAbort(stage, ProbeFailure.Reason.connectionClosed, "could not send to the server: the connection is closed")
        }
    }

    /// Puts TLS in front of the connection and waits for the handshake.
    func startTLS(context: ClientTLSContext, serverName: String) async throws(ProbeAbort) {
        let channel = self.channel
        do {
            let handshake = try await channel.eventLoop.submit {
                let handler = OpenSSLClientHandler(context: context, serverName: serverName)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
                guard let completed = handler.handshakeCompleted else {
                    throw TLSError(.handshake, "the TLS handler did not start")
                }
                return completed
            }.get()
            try await withTaskCancellationHandler {
                try await handshake.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch let error as TLSError {
            throw ProbeAbort(.tls, ProbeFailure.Reason.tlsHandshakeFailed, error.description)
        } catch {
            throw ProbeAbort(.tls, ProbeFailure.Reason.tlsHandshakeFailed, "the connection closed during the TLS handshake")
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Buffers a connection's inbound bytes and hands them out by count or by line.
///
/// Caveats: not Sendable; one probe task owns it.
struct ProbeByteReader {
    private var iterator: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
    private(set) var buffer = ByteBuffer()
    /// A server that streams without end must not grow memory without bound.
    static let maximumBufferedBytes = 1 << 20

    init(iterator: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator) {
        self.iterator = iterator
    }

    var bufferedByteCount: Int { buffer.readableBytes }

    /// Reads exactly `count` bytes.
    mutating func readBytes(_ count: Int, stage: ProbeStage) async throws(ProbeAbort) -> ByteBuffer {
        guard count <= Self.maximumBufferedBytes else {
            throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "the server announced a \(count)-byte message")
        }
        while buffer.readableBytes < count { try await fill(stage: stage) }
        return buffer.readSlice(length: count)!
    }

    /// Reads up to and including CRLF, returning the line without it.
    mutating func readLine(stage: ProbeStage) async throws(ProbeAbort) -> [UInt8] {
        var searchedUpTo = 0
        while true {
            let view = buffer.readableBytesView
            if let index = view.dropFirst(searchedUpTo).firstIndex(of: UInt8(ascii: "\n")),
                index > view.startIndex, view[index - 1] == UInt8(ascii: "\r")
            {
                let lineLength = index - view.startIndex - 1
                let line = buffer.readBytes(length: lineLength)!
                buffer.moveReaderIndex(forwardBy: 2)
                return line
            }
            searchedUpTo = max(0, view.count - 1)
            guard buffer.readableBytes < Self.maximumBufferedBytes else {
                throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "the server sent an over-long line")
            }
            try await fill(stage: stage)
        }
    }

    private mutating func fill(stage: ProbeStage) async throws(ProbeAbort) {
        let next: ByteBuffer?
        do {
            next = try await iterator.next()
        } catch let error as TLSError {
            throw ProbeAbort(stage, ProbeFailure.Reason.connectionClosed, "the TLS connection failed: \(error.detail)")
        } catch is InboundLimitExceeded {
            throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "the server sent more than \(InboundStreamHandler.maximumInboundBytes) bytes")
        } catch {
            throw ProbeAbort(stage, ProbeFailure.Reason.connectionClosed, "the connection failed: \(type(of: error))")
        }
        guard var chunk = next else {
            if Task.isCancelled {
                throw ProbeAbort(stage, ProbeFailure.Reason.cancelled, "the probe was cancelled")
            }
            throw ProbeAbort(stage, ProbeFailure.Reason.connectionClosed, "the server closed the connection")
        }
        buffer.discardReadBytes()
        buffer.writeBuffer(&chunk)
    }
}

/// Feeds a channel's inbound bytes into an async stream; errors and closure end the stream.
///
/// Guarantees: a connection delivers at most `maximumInboundBytes` in total, then fails. A
/// probe exchanges a few kilobytes, so this bounds the stream's buffer without back-pressure
/// against a server that floods.
private final class InboundStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let maximumInboundBytes = 4 << 20

    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private var receivedBytes = 0

    init(continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let chunk = unwrapInboundIn(data)
        receivedBytes += chunk.readableBytes
        guard receivedBytes <= Self.maximumInboundBytes else {
            continuation.finish(throwing: InboundLimitExceeded())
            context.close(promise: nil)
            return
        }
        continuation.yield(chunk)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        continuation.finish()
    }
}

private struct InboundLimitExceeded: Error {}

/// Runs `body` with a deadline: when `timeout` passes first, the body's task is cancelled (which
/// closes its connection) and `onTimeout` answers instead.
func withProbeDeadline<Result: Sendable>(
    _ timeout: Duration,
    onTimeout: @escaping @Sendable () -> Result,
    _ body: @escaping @Sendable () async -> Result
) async -> Result {
    await withTaskGroup(of: Result?.self) { group in
        group.addTask { await body() }
        group.addTask {
            // Cancellation (the body finished first) ends the sleep early; that is not a timeout.
            do { try await Task.sleep(for: timeout) } catch { return nil }
            return onTimeout()
        }
        var answer: Result? = nil
        while answer == nil, let next = await group.next() {
            answer = next
        }
        group.cancelAll()
        return answer ?? onTimeout()
    }
}
