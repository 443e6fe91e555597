import Foundation
import NIOCore
import NIOPosix

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released).
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, or `attempts` tries pass,
/// or `alive` turns false (the server meant to listen there has exited).
func waitUntilAccepting(port: Int, attempts: Int = 200, while alive: () -> Bool = { true }) async -> Bool {
    for _ in 0..<attempts where alive() {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(200))
            .connect(host: "127.0.0.1", port: port).get()
        {
            try? await channel.close()
            return true
        }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}
