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

/// A port on 127.0.0.1 that refuses connections for as long as the value lives: the socket is
/// bound (so no other test can take the port) but never listens, so connects get a RST.
final class ClosedLoopbackPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw IOError(errnoCode: errno, reason: "bind")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
