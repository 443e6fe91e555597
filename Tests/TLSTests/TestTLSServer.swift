import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TLS

/// What the server under test saw, for assertions.
final class ServerObservations: Sendable {
    private let state = Mutex<(handshakes: [TLSHandshakeCompleted], errors: [String], requests: Int)>(([], [], 0))

    func recordHandshake(_ event: TLSHandshakeCompleted) { state.withLock { $0.handshakes.append(event) } }
    func recordError(_ error: any Error) { state.withLock { $0.errors.append(String(describing: error)) } }
    func recordRequest() { state.withLock { $0.requests += 1 } }

    var handshakes: [TLSHandshakeCompleted] { state.withLock { $0.handshakes } }
    var errors: [String] { state.withLock { $0.errors } }
    var requests: Int { state.withLock { $0.requests } }

    /// Whether an error containing `text` is recorded within `limit`. The client (a curl or
    /// openssl process) can report its failed handshake and exit before the server's event
    /// loop has processed the same failure, so the server's record may lag a little.
    func eventuallyHasError(containing text: String, within limit: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            if errors.contains(where: { $0.contains(text) }) { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A real HTTPS server on 127.0.0.1 with OpenSSLServerHandler first in each child pipeline,
/// exactly as the dev API server wires it.
///
/// Routes: `/whoami` answers with the client certificate identity ("anonymous" without one);
/// `/echo` answers with the request body; anything else answers with its own path.
final class TestTLSServer: Sendable {
    let port: Int
    let observations = ServerObservations()
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// - Parameter fragmentInbound: split every received ciphertext read into pieces of at
    ///   most 7 bytes before the TLS handler sees it, to exercise records arriving in parts.
    init(context: ServerTLSContext, fragmentInbound: Bool = false) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let observations = self.observations
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if fragmentInbound { try pipeline.addHandler(InboundFragmenter()) }
                        try pipeline.addHandler(OpenSSLServerHandler(context: context))
                        try pipeline.configureHTTPServerPipeline()
                        try pipeline.addHandler(RouteHandler(observations: observations))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        self.group = group
        port = channel.localAddress?.port ?? 0
    }

    func url(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Splits inbound bytes into tiny reads (1 to 7 bytes).
private final class InboundFragmenter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var nextSize = 1

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while let piece = buffer.readSlice(length: min(nextSize, buffer.readableBytes)), piece.readableBytes > 0 {
            nextSize = nextSize % 7 + 1
            context.fireChannelRead(wrapInboundOut(piece))
        }
    }
}

private final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let observations: ServerObservations
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var identityFromEvent: PeerIdentity?

    init(observations: ServerObservations) { self.observations = observations }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            identityFromEvent = completed.peer
            observations.recordHandshake(completed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        observations.recordError(error)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            observations.recordRequest()
            respond(context, to: head)
        }
    }

    private func respond(_ context: ChannelHandlerContext, to head: HTTPRequestHead) {
        var headers = HTTPHeaders()
        let responseBody: ByteBuffer
        switch head.uri {
        case "/whoami":
            let accessor = try? context.pipeline.syncOperations.handler(type: OpenSSLServerHandler.self).peerIdentity
            headers.add(name: "X-Accessor-Agrees", value: accessor == identityFromEvent ? "yes" : "no")
            let text = identityFromEvent.map { "CN=\($0.commonName);O=\($0.organizations.joined(separator: ","))" } ?? "anonymous"
            responseBody = ByteBuffer(string: text)
        case "/echo":
            responseBody = body
        default:
            responseBody = ByteBuffer(string: head.uri)
        }
        headers.add(name: "Content-Length", value: String(responseBody.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(responseBody))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
