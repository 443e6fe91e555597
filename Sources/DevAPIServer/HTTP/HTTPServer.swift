import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TLS

/// The NIO listener: accepts connections, assembles requests (bounded), and writes responses
/// and watch streams with back-pressure.
///
/// Guarantees: a request body over `maxBodyBytes` is answered 413 and the connection closed
/// without buffering the excess; watch events are written one at a time and each write waits
/// for the socket to drain (NIO writability), so a slow client costs at most the store's
/// bounded subscription buffer.
final class HTTPServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    static let maxBodyBytes = 3 * 1024 * 1024
    /// How long a watch past its deadline may stay blocked on a client that does not read.
    static let stalledWriteGrace: Duration = .seconds(5)

    let router: APIRouter
    let resources: ResourceRequestHandler
    let faults: FaultInjector
    let logger: Logger

    init(router: APIRouter, resources: ResourceRequestHandler, faults: FaultInjector, logger: Logger) {
        self.router = router
        self.resources = resources
        self.faults = faults
        self.logger = logger
    }

    static func bind(host: String, port: Int, group: MultiThreadedEventLoopGroup, tls: ServerTLSContext?) async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: tls))
                        try channel.pipeline.syncOperations.addHandler(PeerIdentityRecorder())
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    func serve(_ listener: NIOAsyncChannel<Connection, Never>) async throws {
        try await listener.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await self.handle(connection) }
                }
            }
        }
    }

    private func peerInfo(_ channel: Channel) async -> PeerInfo {
        let loopback: Bool
        switch channel.remoteAddress {
        case .unixDomainSocket?: loopback = true
        case let address?:
            let ip = address.ipAddress ?? ""
            loopback = ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
        case nil: loopback = false
        }
        let identity = try? await channel.pipeline.handler(type: PeerIdentityRecorder.self).map { $0.identity }.get()
        return PeerInfo(isLoopback: loopback, certificateCommonName: identity?.commonName, certificateOrganizations: identity?.organizations ?? [])
    }

    private func handle(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                var peer: PeerInfo?
                for try await part in inbound {
                    switch part {
                    case .head(let newHead):
                        head = newHead
                        body = []
                        tooLarge = false
                        if let length = newHead.headers.first(name: "content-length").flatMap(Int.init), length > Self.maxBodyBytes {
                            tooLarge = true
                        }
                        // libcurl (the operator's transport) waits a full second for "100 Continue"
                        // before sending a large body; answer at once, or refuse before the upload.
                        if newHead.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                            if tooLarge {
                                head = nil
                                _ = try await self.write(.failure(APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(Self.maxBodyBytes)")),
                                                         for: newHead, keepAlive: false, outbound: outbound, channel: connection.channel)
                                return
                            }
                            try await outbound.write(.head(HTTPResponseHead(version: newHead.version, status: .continue)))
                        }
                    case .body(let chunk):
                        guard !tooLarge else { continue }
                        if body.count + chunk.readableBytes > Self.maxBodyBytes {
                            tooLarge = true
                            body = []
                        } else {
                            body.append(contentsOf: chunk.readableBytesView)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        if peer == nil { peer = await self.peerInfo(connection.channel) }
                        let keepAlive = requestHead.isKeepAlive && !tooLarge
                        let response: APIResponse
                        if tooLarge {
                            response = .failure(APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(Self.maxBodyBytes)"))
                        } else {
                            let request = APIRequest(
                                method: requestHead.method.rawValue, uri: requestHead.uri,
                                headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
                            body = []
                            response = await self.answer(request, peer: peer!)
                            // Path only: query strings and bodies stay out of logs.
                            self.logger.trace("request", metadata: ["method": "\(request.method)", "path": "\(request.path)"])
                        }
                        let keepGoing = try await self.write(response, for: requestHead, keepAlive: keepAlive, outbound: outbound, channel: connection.channel)
                        if !keepGoing { return }
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ request: APIRequest, peer: PeerInfo) async -> APIResponse {
        let response = await router.respond(to: request, peer: peer)
        guard case .deferred(let path, let type) = response else { return response }
        if request.method == "GET", request.query["watch"] == "true" || request.query["watch"] == "1", faults.takeForcedGone() {
            let gone = APIError(code: 410, reason: "Expired", message: "too old resource version: \(request.query["resourceVersion"] ?? "0") (injected fault)")
            return .watch(WatchStreamSource(subscription: nil, timeout: .zero, leadingLines: [WatchStreamSource.errorEvent(gone)], table: nil))
        }
        return await resources.respond(to: request, path: path, type: type)
    }

    /// Writes one response; returns false when the connection must close afterwards.
    private func write(_ response: APIResponse, for request: HTTPRequestHead, keepAlive: Bool, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: Channel) async throws -> Bool {
        switch response {
        case .complete(let status, let contentType, let body, let extra):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            for (name, value) in extra { headers.add(name: name, value: value) }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: status), headers: headers)))
            if request.method != .HEAD, !body.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            }
            try await outbound.write(.end(nil))
            return keepAlive
        case .deferred:
            // The router never lets this escape `answer`; treat it as the bug it would be.
            return try await write(.failure(APIError(code: 500, reason: "InternalError", message: "Internal error occurred: unrouted request")), for: request, keepAlive: false, outbound: outbound, channel: channel)
        case .watch(let source):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Cache-Control", value: "no-cache, private")
            headers.add(name: "Transfer-Encoding", value: "chunked")
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers)))
            for line in source.leadingLines {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: line))))
            }
            guard let subscription = source.subscription else {
                try await outbound.write(.end(nil))
                return keepAlive
            }
            let cut = faults.watchCut
            let ending = try await stream(subscription, source: source, cutAfter: cut, outbound: outbound, channel: channel)
            if ending == .cut {
                faults.recordWatchCut()
                // An abrupt close without the terminating chunk is what a dropped connection looks like to the client.
                return false
            }
            try await outbound.write(.end(nil))
            return keepAlive
        }
    }

    private enum StreamEnding: Sendable { case finished, cut }

    private func stream(_ subscription: WatchSubscription, source: WatchStreamSource, cutAfter: Duration?, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: Channel) async throws -> StreamEnding {
        let limit = cutAfter.map { min($0, source.timeout) } ?? source.timeout
        let isCut = cutAfter != nil && cutAfter! < source.timeout
        let deadlinePassed = DeadlineFlag()
        // A client that disconnects during a quiet period must not keep its watcher registered.
        // (A callback, not an awaited future: EventLoopFuture.get() ignores task cancellation.)
        channel.closeFuture.whenComplete { _ in subscription.cancel() }
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The server-side timeout (or an injected cut) ends the stream.
                    try await Task.sleep(for: limit)
                    deadlinePassed.set()
                    subscription.cancel()
                    // A client that stopped reading leaves our write suspended on back-pressure,
                    // so ending the subscription alone would never finish the stream: close it.
                    try await Task.sleep(for: Self.stalledWriteGrace)
                    channel.close(promise: nil)
                }
                defer { group.cancelAll() }
                for try await event in subscription {
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: source.line(for: event)))))
                }
                subscription.cancel()
            }
        } onCancel: {
            subscription.cancel()
        }
        return isCut && deadlinePassed.isSet ? .cut : .finished
    }
}

/// Set once by the deadline task, read after the stream ends.
private final class DeadlineFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Remembers the verified client certificate identity announced by `OpenSSLServerHandler`.
final class PeerIdentityRecorder: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // @unchecked: written and read only on the channel's event loop (reads go through pipeline.handler(type:)).
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private(set) var identity: PeerIdentity?

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted { identity = completed.peer }
        context.fireUserInboundEventTriggered(event)
    }
}
