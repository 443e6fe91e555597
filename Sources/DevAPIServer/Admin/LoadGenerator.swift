import Foundation
import JSON
import NIOCore
import NIOHTTP1
import NIOPosix

/// Drives simple writes (ConfigMap creates) at a plain-HTTP dev server over keep-alive
/// connections, for the throughput numbers in BENCHMARKS.md.
///
/// Caveats: one request in flight per connection (no pipelining), as client-go does; the
/// numbers include this client's own CPU when it shares the machine with the server.
public struct DevAPIServerLoadGenerator: Sendable {
    public var host = "127.0.0.1"
    public var port: Int
    public var connections = 16
    public var namespace = "default"
    /// Labels and data small enough that the request, not the payload, dominates.
    public var namePrefix = "bench"

    public init(port: Int) { self.port = port }

    public struct Report: Sendable, CustomStringConvertible {
        public var writes: Int
        public var failures: Int
        public var seconds: Double
        public var writesPerSecond: Double { Double(writes) / max(seconds, 1e-9) }
        public var description: String {
            String(format: "%d writes (%d failed) in %.2f s = %.0f writes/s", writes, failures, seconds, writesPerSecond)
        }
    }

    /// Creates `count` ConfigMaps named `<prefix>-<offset+i>` and reports the rate.
    public func createConfigMaps(count: Int, offset: Int = 0) async throws -> Report {
        let group = MultiThreadedEventLoopGroup.singleton
        let start = ContinuousClock.now
        let perConnection = (count + connections - 1) / connections
        let failures = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for connection in 0..<connections {
                let first = offset + connection * perConnection
                let last = min(offset + count, first + perConnection)
                guard first < last else { continue }
                tasks.addTask { try await self.createRange(first..<last, group: group) }
            }
            return try await tasks.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Report(writes: count, failures: failures, seconds: seconds)
    }

    private func createRange(_ range: Range<Int>, group: MultiThreadedEventLoopGroup) async throws -> Int {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            var failures = 0
            for index in range {
                let body: JSONValue = [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": .string("\(namePrefix)-\(index)"), "labels": ["bench": "true"]],
                    "data": ["index": .string(String(index))],
                ]
                let bytes = body.serializedBytes()
                let headers = HTTPHeaders([("Host", host), ("Content-Type", "application/json"), ("Content-Length", String(bytes.count))])
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                try await outbound.write(.end(nil))
                loop: while let part = try await responses.next() {
                    switch part {
                    case .head(let head): if head.status != .created { failures += 1 }
                    case .body: continue
                    case .end: break loop
                    }
                }
            }
            return failures
        }
    }

    /// GETs `path` once and reports the status, body size and time taken (e.g. a 50,000-item list).
    public func fetch(_ path: String, accept: String = "application/json") async throws -> (status: Int, bytes: Int, seconds: Double) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        let start = ContinuousClock.now
        let (status, bytes) = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: HTTPHeaders([("Host", host), ("Accept", accept)]))))
            try await outbound.write(.end(nil))
            var status = 0, bytes = 0
            loop: for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let buffer): bytes += buffer.readableBytes
                case .end: break loop
                }
            }
            return (status, bytes)
        }
        let elapsed = ContinuousClock.now - start
        return (status, bytes, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
