import Foundation
import JSON

/// Measures the store in-process (no HTTP): create throughput, list and watch-replay cost, and
/// memory per stored object. Called from a release build by the opt-in benchmark test
/// (`MEDSEARCH_STORE_BENCH=1`) or by a bench script; it asserts nothing.
public enum StoreBenchmark {
    /// What one run measured.
    public struct Result: Sendable, CustomStringConvertible {
        public var objects: Int
        public var createSeconds: Double
        public var updateSeconds: Double
        public var updates: Int
        public var listSeconds: Double
        public var pagedListSeconds: Double
        public var bytesHeld: Int
        /// Growth of the process's resident memory while the objects were created (Linux only; 0 elsewhere).
        public var residentGrowthBytes: Int

        public var createsPerSecond: Double { Double(objects) / createSeconds }
        public var updatesPerSecond: Double { Double(updates) / updateSeconds }

        public var description: String {
            func f(_ value: Double) -> String { String(format: "%.0f", value) }
            return """
                store benchmark: \(objects) ConfigMaps
                  creates: \(f(createsPerSecond))/s (\(String(format: "%.2f", createSeconds)) s)
                  updates: \(f(updatesPerSecond))/s (\(updates) in \(String(format: "%.2f", updateSeconds)) s)
                  full list: \(String(format: "%.1f", listSeconds * 1000)) ms; paged list (500/page): \(String(format: "%.1f", pagedListSeconds * 1000)) ms
                  bytes held: \(bytesHeld) (\(bytesHeld / max(1, objects)) per object); RSS growth: \(residentGrowthBytes / 1_048_576) MiB (\(residentGrowthBytes / max(1, objects)) per object)
                """
        }
    }

    public static func run(objects: Int = 50_000, updates: Int = 10_000) -> Result {
        let store = ObjectStore(configuration: StoreConfiguration(watchHistory: 10_000, bookmarkIntervalSeconds: nil))
        let key = ResourceKey(group: "", version: "v1", plural: "configmaps")
        let options = WriteOptions(fieldManager: "bench")
        let residentBefore = residentBytes()
        let clock = ContinuousClock()
        let createStart = clock.now
        for index in 0..<objects {
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string("object-\(index)"), "labels": ["app": "bench", "shard": .string(String(index % 16))]],
                "data": ["index": .string(String(index)), "payload": "a modest value of some sixty characters for each stored object"],
            ]
            _ = try? store.create(key, namespace: "default", body: body, options: options)
        }
        let createSeconds = seconds(clock.now - createStart)
        let residentAfter = residentBytes()

        let updateStart = clock.now
        let updateCount = min(updates, objects)
        for index in 0..<updateCount {
            let patch = Array(#"{"data":{"index":"updated-\#(index)"}}"#.utf8)
            _ = try? store.patch(key, namespace: "default", name: "object-\(index)", type: .merge, body: patch, options: options)
        }
        let updateSeconds = seconds(clock.now - updateStart)

        let listStart = clock.now
        let listed = (try? store.list(key, namespace: "default"))?.serializedList().count ?? 0
        let listSeconds = seconds(clock.now - listStart)
        precondition(listed > 0 || objects == 0)

        let pagedStart = clock.now
        var token: String?
        repeat {
            let page = try? store.list(key, namespace: "default", options: ListOptions(limit: 500, continueToken: token))
            token = page?.continueToken
        } while token != nil
        let pagedSeconds = seconds(clock.now - pagedStart)

        return Result(objects: objects, createSeconds: createSeconds, updateSeconds: updateSeconds, updates: updateCount,
                      listSeconds: listSeconds, pagedListSeconds: pagedSeconds, bytesHeld: store.statistics.bytesHeld,
                      residentGrowthBytes: max(0, residentAfter - residentBefore))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Resident set size from /proc/self/statm (pages × page size).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
