import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the loopback server received it.
public struct ReceivedRequest: Sendable {
    /// HTTP method as sent ("GET", "PUT").
    public var method: String
    /// Path and query as sent ("/latest/api/token", "/?Action=…").
    public var uri: String
    /// Header fields in arrival order.
    public var headers: [(name: String, value: String)]
    /// The whole request body.
    public var body: [UInt8]

    /// A request as it would arrive, for tests that feed handlers directly.
    public init(method: String, uri: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    /// The URI without its query.
    public var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
    /// The body decoded as UTF-8.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the loopback server answers.
public struct ScriptedResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// Header fields; Content-Length is added when missing.
    public var headers: [(name: String, value: String)] = []
    /// The whole response body.
    public var body: [UInt8] = []

    /// A response whose body is `body` in UTF-8.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = Array(body.utf8)
    }

    /// A response with a binary body.
    public init(status: Int, headers: [(name: String, value: String)], bytes: [UInt8]) {
        self.status = status
        self.headers = headers
        body = bytes
    }
}

/// An HTTP/1.1 server on 127.0.0.1 (ephemeral port) whose answers come from an async
/// closure; it records every request. Used for IMDS, container credentials, STS and as the
/// base of the fault proxy.
public final class LoopbackServer: Sendable {
    /// Produces the answer to one request.
    public typealias Responder = @Sendable (ReceivedRequest) async -> ScriptedResponse

    /// The bound ephemeral port.
    public let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let recorder: RequestRecorder

    /// "http://127.0.0.1:<port>".
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [ReceivedRequest] { recorder.log.withLock { $0 } }

    private init(port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, recorder: RequestRecorder) {
        self.port = port
        self.channel = channel
        self.group = group
        self.recorder = recorder
    }

    /// Binds 127.0.0.1 on an ephemeral port and answers every request with `respond`.
    public static func start(_ respond: @escaping Responder) async throws -> LoopbackServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = RequestRecorder()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponderHandler(respond: respond, record: { recorder.append($0) }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = LoopbackServer(
            port: channel.localAddress?.port ?? 0, channel: channel, group: group, recorder: recorder)
        return server
    }

    /// Closes the listener and shuts its event loop down.
    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class RequestRecorder: Sendable {
    let log = Mutex<[ReceivedRequest]>([])
    func append(_ request: ReceivedRequest) { log.withLock { $0.append(request) } }
}

private final class ResponderHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: LoopbackServer.Responder
    let record: @Sendable (ReceivedRequest) -> Void
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(respond: @escaping LoopbackServer.Responder, record: @escaping @Sendable (ReceivedRequest) -> Void) {
        self.respond = respond
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = ReceivedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body)
            record(request)
            let keepAlive = head.isKeepAlive
            let isHead = head.method == .HEAD
            let promise = context.eventLoop.makePromise(of: ScriptedResponse.self)
            let respond = self.respond
            promise.completeWithTask { await respond(request) }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let context = bound.value
                var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
                if !headers.contains(name: "Content-Length") {
                    headers.add(name: "Content-Length", value: String(response.body.count))
                }
                if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                let responseHead = HTTPResponseHead(
                    version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
                context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
                if !isHead && !response.body.isEmpty {
                    context.write(
                        self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))),
                        promise: nil)
                }
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { bound.value.close(promise: nil) }
                }
            }
            self.head = nil
        }
    }
}
