import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Named readiness checks for `/readyz`; `/healthz` only says the process serves HTTP.
public final class HealthChecks: Sendable {
    private let checks = Mutex<[(name: String, check: @Sendable () -> Bool)]>([])

    public init() {}

    /// Adds a readiness check, e.g. "informers synced".
    public func addReadinessCheck(_ name: String, _ check: @escaping @Sendable () -> Bool) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Names of the checks that fail right now; empty when ready.
    public func failingChecks() -> [String] {
        checks.withLock { $0 }.filter { !$0.check() }.map(\.name)
    }
}

/// A `host:port` as written in kubebuilder flags: `:8080` means every interface, `0` disables.
public struct BindAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a flag value; nil for `0` (disabled) or text that is not an address.
    public init?(flag: String) {
        if flag == "0" || flag.isEmpty { return nil }
        guard let colon = flag.lastIndex(of: ":"), let port = Int(flag[flag.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(flag[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}

/// The HTTP server for `/metrics`, `/healthz` and `/readyz` (SwiftNIO, HTTP/1.1).
///
/// Every replica runs it, leader or not. Guarantees: `start()` returns the bound port (use
/// port 0 in tests); the server closes on graceful shutdown. Caveats: plain HTTP only, like
/// controller-runtime's probe server; put metrics behind a NetworkPolicy.
public final class EndpointServer: ServiceLifecycle.Service, Sendable {
    public let address: BindAddress
    private let metrics: RuntimeMetrics?
    private let health: HealthChecks?
    private let logger: Logger
    private let channel = Mutex<(any Channel)?>(nil)

    /// Serves `/metrics` when `metrics` is given and the probes when `health` is given.
    public init(address: BindAddress, metrics: RuntimeMetrics? = nil, health: HealthChecks? = nil, logger: Logger) {
        self.address = address
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    /// Binds and starts serving; returns the port actually bound. Idempotent.
    @discardableResult
    public func start() async throws -> Int {
        if let bound = channel.withLock({ $0 }) { return bound.localAddress?.port ?? address.port }
        let routes = EndpointRoutes(metrics: metrics, health: health)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(EndpointHandler(routes: routes))
                }
            }
        let bound = try await bootstrap.bind(host: address.host, port: address.port).get()
        channel.withLock { $0 = bound }
        let port = bound.localAddress?.port ?? address.port
        logger.info("serving", metadata: ["address": "\(address.host):\(port)", "endpoints": "\(routes.paths.joined(separator: ","))"])
        return port
    }

    public func run() async throws {
        try await start()
        do {
            try await gracefulShutdown()
        } catch is CancellationError {
            // Cancelled rather than shut down gracefully: close all the same.
        }
        await stop()
    }

    /// Closes the listener.
    public func stop() async {
        guard let bound = channel.withLock({ c -> (any Channel)? in defer { c = nil }; return c }) else { return }
        do {
            try await bound.close()
        } catch {
            // Already closed (e.g. the event loop shut down first): nothing left to release.
            logger.debug("closing the listener failed", metadata: ["error": "\(error)"])
        }
    }
}

struct EndpointRoutes: Sendable {
    let metrics: RuntimeMetrics?
    let health: HealthChecks?

    var paths: [String] { (metrics != nil ? ["/metrics"] : []) + (health != nil ? ["/healthz", "/readyz"] : []) }

    func respond(to path: String) async -> (status: HTTPResponseStatus, contentType: String, body: String) {
        let path = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch path {
        case "/metrics" where metrics != nil:
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", await metrics!.render())
        case "/healthz" where health != nil, "/livez" where health != nil:
            return (.ok, "text/plain; charset=utf-8", "ok")
        case "/readyz" where health != nil:
            let failing = health!.failingChecks()
            if failing.isEmpty { return (.ok, "text/plain; charset=utf-8", "ok") }
            return (.serviceUnavailable, "text/plain; charset=utf-8", failing.map { "[-]\($0) failed" }.joined(separator: "\n") + "\nreadyz check failed")
        default:
            return (.notFound, "text/plain; charset=utf-8", "404 page not found")
        }
    }
}

private final class EndpointHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: EndpointRoutes
    private var head: HTTPRequestHead?

    init(routes: EndpointRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let routes = self.routes
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: (HTTPResponseStatus, String, String).self)
            promise.completeWithTask {
                if requestHead.method != .GET && requestHead.method != .HEAD {
                    return (.methodNotAllowed, "text/plain; charset=utf-8", "method not allowed")
                }
                let answer = await routes.respond(to: requestHead.uri)
                return (answer.status, answer.contentType, answer.body)
            }
            promise.futureResult.whenSuccess { status, contentType, body in
                let (handler, context) = loopBound.value
                handler.write(status: status, contentType: contentType, body: requestHead.method == .HEAD ? "" : body, keepAlive: requestHead.isKeepAlive, context: context)
            }
        }
    }

    private func write(status: HTTPResponseStatus, contentType: String, body: String, keepAlive: Bool, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
