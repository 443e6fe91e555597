import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TLS

/// A request as the loopback server received it.
public struct ReceivedRequest: Sendable {
    /// HTTP method as sent.
    public var method: String
    /// Path and query as sent.
    public var uri: String
    /// Header fields in arrival order.
    public var headers: [(String, String)]
    /// The whole request body.
    public var body: [UInt8]
    /// Common name of the verified client certificate, when TLS carried one.
    public var clientCertificateCommonName: String? = nil

    /// A request as it would arrive, for tests that build one directly.
    public init(method: String, uri: String, headers: [(String, String)], body: [UInt8], clientCertificateCommonName: String? = nil) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.clientCertificateCommonName = clientCertificateCommonName
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// How the loopback server answers one request.
public enum ScriptedResponse: Sendable {
    /// A Content-Length response.
    case full(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
    /// Chunked body of `total` bytes, each write waiting for the previous one to flush so
    /// the server itself respects TCP back-pressure.
    case streamed(total: Int, chunkSize: Int)
    /// Chunked body made of these pieces, sent in order, then ended.
    case chunks(status: Int, headers: [(String, String)] = [], [[UInt8]])
    /// Never answers; the connection stays open until the client leaves.
    case hang
    /// Closes the connection without a byte of response, as a server going away does.
    case closeWithoutAnswer
    /// Chunked body produced piece by piece (index 0, 1, … until nil), each piece
    /// written only after the previous one was flushed.
    case generated(status: Int, next: @Sendable (Int) -> [UInt8]?)
}

/// An HTTP/1.1 server on 127.0.0.1 with an ephemeral port, answering from a script and
/// recording what it saw: connections accepted and closed, requests, streamed bytes.
public final class LoopbackHTTPServer: Sendable {
    /// What the server has seen so far.
    public struct Record: Sendable {
        /// Connections accepted.
        public var accepted = 0
        /// Connections closed.
        public var closed = 0
        /// Requests received, in order (empty when `keepsRequests` is false).
        public var requests: [ReceivedRequest] = []
        /// Requests received, counted even when they are not kept.
        public var requestCount = 0
        /// Body bytes of `.streamed` and `.generated` responses flushed to clients.
        public var streamedBytes = 0

        /// An empty record.
        public init() {}
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The record, for tests that read or change it under its lock.
    public let record = Mutex(Record())
    private let waiters = Mutex<[(predicate: @Sendable (Record) -> Bool, continuation: CheckedContinuation<Void, Never>)]>([])

    /// The bound ephemeral port.
    public var port: Int { channel.localAddress!.port! }
    /// Whether connections are TLS.
    public let usesTLS: Bool
    /// "http(s)://127.0.0.1:<port>".
    public var baseURL: String { "\(usesTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// False keeps only a count of requests, for long benchmark runs.
    public let keepsRequests: Bool

    /// Binds 127.0.0.1 on an ephemeral port and answers every request with `respond`.
    /// - Parameter tls: when set, connections are TLS (OpenSSL, HTTP/1.1 over ALPN).
    public init(
        tls: ServerTLSConfiguration? = nil, keepsRequests: Bool = true,
        respond: @escaping @Sendable (ReceivedRequest) -> ScriptedResponse
    ) async throws {
        self.keepsRequests = keepsRequests
        let tlsContext = try tls.map { try ServerTLSContext(configuration: $0) }
        usesTLS = tls != nil
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = ServerBox()
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    box.server?.update { $0.accepted += 1 }
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: tlsContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        ScriptedHandler(respond: respond, events: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.set(self)
    }

    /// Closes the listener and shuts its event loop down.
    public func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    /// Changes the record and wakes the waiters it now satisfies.
    public func update(_ change: (inout Record) -> Void) {
        let snapshot = record.withLock { record in
            change(&record)
            return record
        }
        let ready = waiters.withLock { waiters in
            var ready: [CheckedContinuation<Void, Never>] = []
            waiters.removeAll { waiter in
                guard waiter.predicate(snapshot) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Suspends until the record satisfies `predicate` (at once if it already does).
    public func waitUntil(_ predicate: @escaping @Sendable (Record) -> Bool) async {
        await withCheckedContinuation { continuation in
            let satisfied = waiters.withLock { waiters in
                if predicate(record.withLock { $0 }) { return true }
                waiters.append((predicate, continuation))
                return false
            }
            if satisfied { continuation.resume() }
        }
    }

    /// A copy of the record.
    public var snapshot: Record { record.withLock { $0 } }
}

/// Lets channel handlers reach the server object created after the bootstrap.
final class ServerBox: Sendable {
    private let reference = Mutex<LoopbackHTTPServer?>(nil)
    var server: LoopbackHTTPServer? { reference.withLock { $0 } }
    func set(_ server: LoopbackHTTPServer) { reference.withLock { $0 = server } }
}

private final class ScriptedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: @Sendable (ReceivedRequest) -> ScriptedResponse
    let events: ServerBox
    var current: ReceivedRequest?
    var peerCommonName: String?

    init(respond: @escaping @Sendable (ReceivedRequest) -> ScriptedResponse, events: ServerBox) {
        self.respond = respond
        self.events = events
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let handshake = event as? TLSHandshakeCompleted { peerCommonName = handshake.peer?.commonName }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.server?.update { $0.closed += 1 }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            current = ReceivedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: [],
                clientCertificateCommonName: peerCommonName)
        case .body(var buffer):
            current?.body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let request = current else { return }
            current = nil
            if let server = events.server {
                server.update { record in
                    record.requestCount += 1
                    if server.keepsRequests { record.requests.append(request) }
                }
            }
            answer(respond(request), context: context, method: request.method)
        }
    }

    private func answer(_ response: ScriptedResponse, context: ChannelHandlerContext, method: String) {
        switch response {
        case .full(let status, let extra, let body):
            var headers = HTTPHeaders(extra)
            headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
            if !body.isEmpty && method != "HEAD" {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .chunks(let status, let extra, let pieces):
            var headers = HTTPHeaders(extra)
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
            for piece in pieces {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: piece)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .streamed(let total, let chunkSize):
            let headers = HTTPHeaders([("Transfer-Encoding", "chunked")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            writeStream(context: context, remaining: total, chunk: ByteBuffer(repeating: 0x61, count: chunkSize))
        case .hang:
            break
        case .closeWithoutAnswer:
            context.close(promise: nil)
        case .generated(let status, let next):
            let headers = HTTPHeaders([("Transfer-Encoding", "chunked"), ("Content-Type", "application/json")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
            writeGenerated(context: context, index: 0, next: next)
        }
    }

    private func writeGenerated(context: ChannelHandlerContext, index: Int, next: @escaping @Sendable (Int) -> [UInt8]?) {
        guard let piece = next(index) else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let events = self.events
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: piece))))).assumeIsolated().whenSuccess {
            events.server?.update { $0.streamedBytes += piece.count }
            context.eventLoop.assumeIsolated().execute {
                self.writeGenerated(context: context, index: index + 1, next: next)
            }
        }
    }

    private func writeStream(context: ChannelHandlerContext, remaining: Int, chunk: ByteBuffer) {
        guard remaining > 0 else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let piece = chunk.getSlice(at: chunk.readerIndex, length: min(remaining, chunk.readableBytes))!
        let events = self.events
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(piece)))).assumeIsolated().whenSuccess {
            events.server?.update { $0.streamedBytes += piece.readableBytes }
            // Through the loop rather than directly: writes that complete at once would
            // otherwise recurse once per chunk and overflow the stack.
            context.eventLoop.assumeIsolated().execute {
                self.writeStream(context: context, remaining: remaining - piece.readableBytes, chunk: chunk)
            }
        }
    }
}
