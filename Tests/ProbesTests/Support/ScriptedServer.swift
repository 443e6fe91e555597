import NIOCore
import NIOPosix
import Synchronization

/// A TCP server on 127.0.0.1 that answers by script, for failures real servers won't produce
/// on demand: refusing TLS, never answering, skipping protocol steps.
///
/// The script sees each connection's unconsumed bytes and a step counter; it consumes what it
/// understands and returns bytes to send, or nil to wait for more. Returning nil forever makes
/// a server that accepts and never answers.
final class ScriptedServer: Sendable {
    typealias Script = @Sendable (_ received: inout ByteBuffer, _ step: inout Int) -> [UInt8]?

    let port: Int
    private let channel: any Channel

    init(script: @escaping Script) async throws {
        let counter = Counter()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.increment()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptHandler(script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.counter = counter
    }

    private let counter: Counter

    /// How many connections the server accepted.
    var acceptedConnections: Int { counter.value }

    func shutdown() async throws {
        try await channel.close()
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: ScriptedServer.Script
    private var received = ByteBuffer()
    private var step = 0

    init(script: @escaping ScriptedServer.Script) { self.script = script }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        while let reply = script(&received, &step) {
            context.write(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil)
        }
        context.flush()
        received.discardReadBytes()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
