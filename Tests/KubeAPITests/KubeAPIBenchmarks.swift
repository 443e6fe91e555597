import Foundation
import HTTPTestSupport
import HTTPTransport
import JSON
import KubeConfig
@testable import KubeAPI
import Testing

/// Figures for BENCHMARKS.md, not assertions about speed: run with
/// `MEDSEARCH_BENCH=1 swift test --filter KubeAPIBenchmarks` (add `-c release` for release figures).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MEDSEARCH_BENCH"] == "1"))
struct KubeAPIBenchmarks {
    private func report(_ name: String, _ value: Double, _ unit: String) {
        print("BENCH \(name): \(String(format: "%.1f", value)) \(unit)")
    }

    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func benchmark_watchDecoderThroughput() throws {
        let frame = JSONValue.object([
            "type": "MODIFIED",
            "object": ["metadata": ["name": "x", "resourceVersion": "1", "labels": ["a": "b"]], "data": ["k": .string(String(repeating: "v", count: 2000))]],
        ]).serializedBytes() + [0x0A]
        let body = Array(repeating: frame, count: 20_000).flatMap { $0 }
        var decoder = WatchEventDecoder()
        let clock = ContinuousClock()
        var events = 0
        let elapsed = try clock.measure {
            var offset = 0
            while offset < body.count {
                let end = min(offset + 16 * 1024, body.count)
                events += try decoder.feed(body[offset..<end]).count
                offset = end
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report("watch decoder", Double(body.count) / seconds / 1e6, "MB/s")
        report("watch decoder", Double(events) / seconds, "events/s")
        // The share of that spent in the JSON parser, for comparison.
        let parseOnly = try clock.measure {
            for _ in 0..<20_000 { _ = try JSONValue.parse(frame) }
        }
        let parseSeconds = Double(parseOnly.components.seconds) + Double(parseOnly.components.attoseconds) / 1e18
        report("JSON parse alone", Double(body.count) / parseSeconds / 1e6, "MB/s")
    }

    @Test func benchmark_sequentialAndConcurrentGets() async throws {
        let body = JSONValue.object(["kind": "ConfigMap", "metadata": ["name": "c"]]).serializedBytes()
        let server = try await LoopbackHTTPServer(keepsRequests: false) { _ in
            .full(status: 200, headers: [("Content-Type", "application/json")], body: body)
        }
        let client = KubernetesAPIClient(connection: ClusterConnection(server: server.baseURL, origin: "bench"))
        let clock = ContinuousClock()
        let count = Int(ProcessInfo.processInfo.environment["MEDSEARCH_BENCH_REQUESTS"] ?? "") ?? 2000
        // Warm up so pools and caches exist before the memory baseline.
        for _ in 0..<200 { _ = try await client.get(.configMaps, namespace: "n", name: "c") }
        let baseline = residentBytes()
        let sequential = try await clock.measure {
            for _ in 0..<count { _ = try await client.get(.configMaps, namespace: "n", name: "c") }
        }
        let concurrent = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for _ in stride(from: worker, to: count, by: 16) { _ = try await client.get(.configMaps, namespace: "n", name: "c") }
                    }
                }
                try await group.waitForAll()
            }
        }
        func perSecond(_ duration: Duration) -> Double {
            Double(count) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
        report("sequential GET", perSecond(sequential), "requests/s")
        report("16-way concurrent GET", perSecond(concurrent), "requests/s")
        report("connections accepted", Double(server.snapshot.accepted), "")
        report("resident growth over \(2 * count) requests", Double(residentBytes() - baseline) / 1e6, "MB")
        try await server.stop()
    }

    @Test func benchmark_slowWatchConsumerResidentMemory() async throws {
        let eventCount = 100_000
        let server = try await LoopbackHTTPServer { _ in
            .generated(status: 200) { index in
                guard index < eventCount else { return nil }
                return Array(#"{"type":"MODIFIED","object":{"metadata":{"name":"n","resourceVersion":"\#(index + 1)"},"data":{"x":"\#(String(repeating: "p", count: 900))"}}}"#.utf8) + [0x0A]
            }
        }
        let transport = HTTPTransport()
        let client = KubernetesAPIClient(connection: ClusterConnection(server: server.baseURL, origin: "bench"), transport: transport)
        let baseline = residentBytes()
        var peak = baseline
        var count = 0
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            for try await _ in try await client.watch(.configMaps, namespace: "n", options: WatchOptions()) {
                count += 1
                if count % 1000 == 0 {
                    peak = max(peak, residentBytes())
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report("watch end to end (slowed consumer)", Double(count) / seconds, "events/s")
        report("watch resident growth over ~100 MB streamed", Double(peak - baseline) / 1e6, "MB")
        report("transport peak buffered body", Double(transport.peakBufferedBodyBytes) / 1024, "KiB")
        try await server.stop()
    }
}
