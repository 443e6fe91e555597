import DevAPIServer
import Foundation
import Testing

/// Opt-in: `MEDSEARCH_STORE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter StorageBenchmark`.
/// Prints numbers; speed is never asserted in tests.
@Suite struct StorageBenchmarkTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MEDSEARCH_STORE_BENCH"] == "1"))
    func storeBenchmark_printsThroughputAndMemory() {
        let objects = Int(ProcessInfo.processInfo.environment["MEDSEARCH_STORE_BENCH_OBJECTS"] ?? "") ?? 50_000
        let result = StoreBenchmark.run(objects: objects)
        print(result)
        #expect(result.bytesHeld > 0)
    }
}
