import ChildProcess
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TLS

/// A loopback TLS client built from OpenSSLClientHandler: connects, writes one request before
/// the handshake has finished (so queued writes are exercised), and collects every decrypted
/// byte until the server closes.
struct ClientTestExchange {
    /// Nil when the handshake succeeded.
    let handshakeError: (any Error)?
    let response: String
    let protocolVersion: String?

    static func run(
        port: Int, context: ClientTLSContext, serverName: String? = nil, request: String
    ) async throws -> ClientTestExchange {
        let collected = LockedValue(ByteBuffer())
        let version = LockedValue<String?>(nil)
        let handshake = LockedValue<EventLoopFuture<Void>?>(nil)
        let finished = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let tls = OpenSSLClientHandler(context: context, serverName: serverName)
                    try sync.addHandler(tls)
                    handshake.withLock { $0 = tls.handshakeCompleted }
                    try sync.addHandler(CollectingHandler(collected: collected, version: version, finished: finished))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        // Written straight away: the handler must hold it until the handshake is done.
        channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        var handshakeError: (any Error)? = nil
        do { try await handshake.withLock({ $0 })!.get() } catch { handshakeError = error }
        try? await finished.futureResult.get()
        return ClientTestExchange(
            handshakeError: handshakeError,
            response: collected.withLock { String(buffer: $0) },
            protocolVersion: version.withLock { $0 })
    }
}

private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let collected: LockedValue<ByteBuffer>
    private let version: LockedValue<String?>
    private let finished: EventLoopPromise<Void>

    init(collected: LockedValue<ByteBuffer>, version: LockedValue<String?>, finished: EventLoopPromise<Void>) {
        self.collected = collected
        self.version = version
        self.finished = finished
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            version.withLock { $0 = completed.protocolVersion }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        collected.withLock { $0.writeBuffer(&chunk) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finished.succeed()
        context.fireChannelInactive()
    }
}

/// Records the first bytes a client sends (its ClientHello) and then hangs up.
final class ClientHelloRecorder: Sendable {
    let port: Int
    private let channel: any Channel
    private let received: LockedValue<[UInt8]>

    init() async throws {
        let received = LockedValue<[UInt8]>([])
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HelloHandler(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.received = received
    }

    var bytes: [UInt8] { received.withLock { $0 } }

    func shutdown() async throws { try await channel.close() }
}

private final class HelloHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let received: LockedValue<[UInt8]>

    init(received: LockedValue<[UInt8]>) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let chunk = unwrapInboundIn(data)
        received.withLock { $0 += chunk.readableBytesView }
        context.close(promise: nil)
    }
}

/// `openssl s_server` on a loopback port, killed (SIGKILL: children inherit a mask that blocks
/// SIGTERM) when the test is done.
final class OpenSSLTestServer: Sendable {
    let port: Int
    private let process: Process

    init(arguments: [String], scratch: ScratchDirectory) async throws {
        for _ in 0..<5 {
            let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = probe.localAddress?.port ?? 0
            try await probe.close()
            let output = scratch.path("s_server-\(port).out")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opensslPath)
            process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)"] + arguments
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.runSerialized()
            try handle.close()
            // s_server prints ACCEPT once it listens; a lost race for the port makes it exit.
            for _ in 0..<100 where process.isRunning {
                if let text = try? String(contentsOfFile: output, encoding: .utf8), text.contains("ACCEPT") {
                    self.port = port
                    self.process = process
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "openssl s_server did not start"])
    }

    func stop() {
        // Foundation reaps the child once it is gone.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A mutex-guarded value that closures and handlers can share by reference.
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    @discardableResult
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
