import Foundation
import JSON
import KubeAPI
import Testing
@testable import ControllerRuntime

/// Resident set size of this process, from /proc/self/statm (Linux).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A child Deployment as the API server returns it, including the managedFields and
/// last-applied annotation the transform strips.
func realisticDeployment(_ index: Int) -> JSONValue {
    let name = "search-\(index)"
    return [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": [
            "name": .string(name), "namespace": .string("tenant-\(index % 200)"), "uid": .string(UUID().uuidString.lowercased()),
            "resourceVersion": .string(String(100_000 + index)), "generation": 3,
            "labels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": .string("platform-\(index / 6)"), "app.kubernetes.io/managed-by": "medsearch-operator"],
            "annotations": ["kubectl.kubernetes.io/last-applied-configuration": .string(String(repeating: "x", count: 1500)), "medsearch.io/desired-hash": "0123456789abcdef"],
            "ownerReferences": [["apiVersion": "platform.medsearch.io/v1alpha1", "kind": "MedicalSearchPlatform", "name": .string("platform-\(index / 6)"), "uid": .string(UUID().uuidString.lowercased()), "controller": true, "blockOwnerDeletion": true]],
            "managedFields": [["manager": "medsearch-operator", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:replicas": [:], "f:template": ["f:spec": ["f:containers": ["k:{\"name\":\"search\"}": [".": [:], "f:image": [:], "f:resources": [:]]]]]]]]],
        ],
        "spec": [
            "replicas": 2,
            "selector": ["matchLabels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": .string("platform-\(index / 6)")]],
            "template": [
                "metadata": ["labels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": .string("platform-\(index / 6)")]],
                "spec": ["containers": [["name": "search", "image": "registry.example/medsearch/search:1.4.2", "ports": [["containerPort": 8080, "protocol": "TCP"]],
                                         "resources": ["requests": ["cpu": "250m", "memory": "256Mi"], "limits": ["cpu": "1", "memory": "512Mi"]]]]],
            ],
        ],
        "status": ["replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 3],
    ]
}

/// Figures for BENCHMARKS.md, not assertions about speed: run with
/// `scripts/bench-controller-runtime` (sets MEDSEARCH_BENCH=1).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MEDSEARCH_BENCH"] == "1"))
struct ControllerRuntimeBenchmarks {
    @Test func benchmark_cacheResidentMemoryFor40000Children() async throws {
        let count = 40_000
        let baseline = residentBytes()
        let client = FakeResourceClient()
        // Objects are produced and dropped page by page, as a real list would stream them.
        let informer = Informer(resource: .deployments, client: client, transform: .strippedCompactJSON, pageSize: 500, clock: ManualClock(), logger: .quiet)
        var objects: [CachedObject<CompactJSON>] = []
        objects.reserveCapacity(count)
        for index in 0..<count {
            if let cached = ObjectTransform.strippedCompactJSON.project(realisticDeployment(index)) { objects.append(cached) }
        }
        _ = informer.store.replace(with: objects)
        objects = []
        let filled = residentBytes()
        let bytesPerObject = informer.store.list().prefix(100).map(\.payload.bytes.count).reduce(0, +) / 100
        print("BENCH cache: \(informer.store.count) cached Deployments; process RSS \(filled / 1_048_576) MiB (baseline \(baseline / 1_048_576) MiB, cache ≈ \((filled - baseline) / 1_048_576) MiB); stripped JSON ≈ \(bytesPerObject) B/object")
        #expect(informer.store.count == count)
    }

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
