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

/// Cache memory figures for BENCHMARKS.md, not assertions about speed or size: run with
/// `scripts/bench-controller-runtime` (sets MEDSEARCH_BENCH=1).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MEDSEARCH_BENCH"] == "1"))
struct CacheMemoryBenchmarks {
    @Test func benchmark_cacheResidentMemoryFor40000Children() async throws {
        let count = 40_000
        let baseline = residentBytes()
        let informer = Informer(resource: .deployments, client: GeneratedDeployments(count: count), transform: .strippedCompactJSON, pageSize: 500, clock: ManualClock(), logger: .quiet)
        let run = Task { try await informer.run() }
        while !informer.hasSynced { await Task.yield() }
        let filled = residentBytes()
        let sample = informer.store.list().prefix(100)
        let bytesPerObject = sample.map(\.payload.bytes.count).reduce(0, +) / max(1, sample.count)
        print("BENCH cache: \(informer.store.count) cached Deployments; process RSS \(filled / 1_048_576) MiB (before listing \(baseline / 1_048_576) MiB, so the cache ≈ \((filled - baseline) / 1_048_576) MiB); stripped compact JSON ≈ \(bytesPerObject) B/object")
        #expect(informer.store.count == count)
        run.cancel()
    }

    @Test func benchmark_cacheResidentMemoryFor40000ChildSummaries() async throws {
        let count = 40_000
        let baseline = residentBytes()
        let informer = Informer(resource: .deployments, client: GeneratedDeployments(count: count), transform: .childSummary(statusFields: ["readyReplicas", "observedGeneration"]), pageSize: 500, clock: ManualClock(), logger: .quiet)
        let run = Task { try await informer.run() }
        while !informer.hasSynced { await Task.yield() }
        let filled = residentBytes()
        print("BENCH summary cache: \(informer.store.count) cached Deployment summaries; process RSS \(filled / 1_048_576) MiB (before listing \(baseline / 1_048_576) MiB, so the cache ≈ \((filled - baseline) / 1_048_576) MiB)")
        #expect(informer.store.count == count)
        run.cancel()
    }
}

/// Serves `count` realistic Deployments page by page, generated on demand so the test's own
/// data does not count against the cache.
struct GeneratedDeployments: ResourceClient {
    let count: Int

    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        let start = continueToken.flatMap(Int.init) ?? 0
        let end = min(count, start + (limit ?? count))
        return ObjectListPage(items: (start..<end).map(realisticDeployment), resourceVersion: "200000", continueToken: end < count ? String(end) : nil)
    }
    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        AsyncThrowingStream { _ in }
    }
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue { object }
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue { object }
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue { object }
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func delete(_ type: APIResource, namespace: String?, name: String) async throws {}
}
