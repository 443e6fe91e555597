import Foundation
import JSON
import KubeAPI
import Testing
@testable import ControllerRuntime

/// Figures for BENCHMARKS.md, not assertions about speed: run with
/// `scripts/bench-controller-runtime` (sets MEDSEARCH_BENCH=1).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MEDSEARCH_BENCH"] == "1"))
struct ControllerRuntimeBenchmarks {
    @Test func benchmark_watchEventToReconcileStartOnTheDevServer() async throws {
        try await withDevAPIServer { _, client in
            let informer = Informer(resource: .configMaps, client: client, transform: .strippedCompactJSON, namespaces: ["ns"], logger: .quiet)
            let created = Mutex<[String: ContinuousClock.Instant]>([:])
            let latencies = CallLog<Duration>()
            let controller = Controller(name: "bench", reconciler: ReconcilerFunction { key, _ in
                if let start = created.withLock({ $0.removeValue(forKey: key.name) }) {
                    await latencies.append(ContinuousClock.now - start)
                }
                return .done
            }, workers: 2, logger: .quiet)
            // Subscribers run in order: this one stamps the moment the informer has the event.
            informer.subscribe { change in
                if case .applied(let object, nil) = change { created.withLock { $0[object.key.name] = ContinuousClock.now } }
            }
            controller.watchPrimary(informer)
            let runs = [Task { try await informer.run() }, Task { try await controller.run() }]
            while !informer.hasSynced { await Task.yield() }
            let samples = 300
            for index in 0..<samples {
                let name = "cm-\(index)"
                _ = try await client.create(.configMaps, namespace: "ns", object: Fixture.configMap("ns", name))
            }
            await latencies.waitFor(count: samples)
            let sorted = await latencies.values.sorted()
            func percentile(_ p: Double) -> Duration { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print("BENCH watch→reconcile start over \(sorted.count) events: p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(sorted.last ?? .zero)")
            for run in runs { run.cancel() }
        }
    }
}

import Synchronization
