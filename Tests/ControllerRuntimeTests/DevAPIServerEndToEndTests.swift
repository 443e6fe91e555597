import DevAPIServer
import HTTPTransport
import Foundation
import JSON
import KubeAPI
import KubeConfig
import Logging
import Synchronization
import Testing
@testable import ControllerRuntime

/// Wraps a real client to count writes and to cut open watches on demand, as a network
/// failure would, so missed-event scenarios are deterministic.
final class InterruptibleResourceClient: ResourceClient {
    let inner: any ResourceClient
    private struct State {
        var writes = 0
        var watches = 0
        var pumps: [(task: Task<Void, Never>, continuation: AsyncThrowingStream<ResourceWatchEvent, any Error>.Continuation)] = []
    }
    private let state = Mutex(State())

    init(_ inner: any ResourceClient) { self.inner = inner }

    var writes: Int { state.withLock { $0.writes } }
    var watchesOpened: Int { state.withLock { $0.watches } }

    /// Ends every open watch with a transport-like error.
    func cutWatches() {
        let pumps = state.withLock { s in defer { s.pumps = [] }; return s.pumps }
        for pump in pumps {
            // Error first: cancelling the pump first could end the stream normally, which an
            // informer rightly treats as a server timeout rather than a broken connection.
            pump.continuation.finish(throwing: ResourceClientError(statusCode: 0, reason: "ConnectionReset"))
            pump.task.cancel()
        }
    }

    private func countWrite() { state.withLock { $0.writes += 1 } }

    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        try await inner.list(type, namespace: namespace, limit: limit, continueToken: continueToken)
    }
    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        let upstream = try await inner.watch(type, namespace: namespace, resourceVersion: resourceVersion)
        let (stream, continuation) = AsyncThrowingStream<ResourceWatchEvent, any Error>.makeStream()
        let task = Task {
            do {
                for try await event in upstream { continuation.yield(event) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        // The consumer going away (informer cancelled) must close the upstream watch too.
        continuation.onTermination = { _ in task.cancel() }
        state.withLock { $0.watches += 1; $0.pumps.append((task, continuation)) }
        return stream
    }
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        try await inner.get(type, namespace: namespace, name: name)
    }
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        countWrite(); return try await inner.create(type, namespace: namespace, object: object)
    }
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue {
        countWrite(); return try await inner.replace(type, namespace: namespace, name: name, object: object)
    }
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue {
        countWrite(); return try await inner.apply(type, namespace: namespace, name: name, object: object, fieldManager: fieldManager, force: force)
    }
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue {
        countWrite(); return try await inner.jsonPatch(type, namespace: namespace, name: name, operations: operations)
    }
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue {
        countWrite(); return try await inner.mergePatch(type, namespace: namespace, name: name, patch: patch)
    }
    func delete(_ type: APIResource, namespace: String?, name: String) async throws {
        countWrite(); try await inner.delete(type, namespace: namespace, name: name)
    }
}

/// Runs `body` against a fresh in-process dev API server on loopback.
func withDevAPIServer<T>(restMetrics: RuntimeMetrics? = nil, _ body: (DevAPIServer, InterruptibleResourceClient) async throws -> T) async throws -> T {
    var configuration = DevAPIServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.threads = 1
    configuration.simulateWorkloads = false
    configuration.logger = .quiet
    let server = DevAPIServer(configuration: configuration)
    let endpoint = try await server.start()
    let transport = HTTPTransport(configuration: .init(observer: restMetrics.map { RESTClientMetricsObserver(metrics: $0) }))
    let kube = KubernetesAPIClient(connection: ClusterConnection(server: endpoint.baseURL, origin: "dev API server test"), transport: transport, logger: .quiet)
    let client = InterruptibleResourceClient(KubernetesResourceClient(client: kube))
    do {
        _ = try await client.inner.create(.namespaces, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ns"]])
        let result = try await body(server, client)
        client.cutWatches()
        await server.shutdown()
        return result
    } catch {
        client.cutWatches()
        await server.shutdown()
        throw error
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct DevAPIServerEndToEndTests {
    @Test func informer_onTheDevServer_whenAWatchBreaksAndTheServerAnswers410_relistsAndDeliversMissedDeletes() async throws {
        try await withDevAPIServer { server, client in
            for name in ["kept", "doomed"] {
                _ = try await client.create(.configMaps, namespace: "ns", object: Fixture.configMap("ns", name))
            }
            let clock = ManualClock()
            let metrics = RuntimeMetrics()
            let informer = Informer(resource: .configMaps, client: client, transform: .strippedCompactJSON, namespaces: ["ns"], clock: clock, metrics: metrics, logger: .quiet)
            let deletes = CallLog<String>()
            informer.subscribe { change in
                if case .deleted(let object) = change { await deletes.append(object.key.name) }
            }
            let run = Task { try await informer.run() }
            while client.watchesOpened < 1 { await Task.yield() }
            #expect(informer.hasSynced)
            #expect(informer.store.count == 2)

            client.cutWatches()
            await clock.waitForSleepers(count: 1)
            // While the informer is away: a delete it cannot see, and a 410 for its next watch.
            try await client.delete(.configMaps, namespace: "ns", name: "doomed")
            server.faults.configuration.forcedGoneWatches = 1
            clock.advance(by: .seconds(1))

            await deletes.waitFor(count: 1)
            #expect(await deletes.values == ["doomed"])
            #expect(informer.store.list().map(\.key.name) == ["kept"])
            #expect(server.faults.counts.forcedGone == 1)
            let text = await metrics.render()
            #expect(text.contains(#"medsearch_informer_relists_total{resource="configmaps"} 2"#))
            run.cancel()
            _ = await run.result
        }
    }

    @Test func controller_onTheDevServer_appliesChildrenAndANoOpResyncWritesNothing() async throws {
        try await withDevAPIServer { server, client in
            let clock = SystemRuntimeClock()
            let informer = Informer(resource: .configMaps, client: client, transform: .strippedCompactJSON, namespaces: ["ns"], clock: clock, logger: .quiet)
            let store = informer.store
            let applier = ChildApplier(client: client, fieldManager: "medsearch-operator")
            let outcomes = CallLog<ApplyOutcome>()
            // Primary: ConfigMaps labelled role=source; child: "<name>-copy" with the same data.
            let reconciler = ReconcilerFunction { key, _ in
                guard !key.name.hasSuffix("-copy"), let source = store.get(key) else { return .done }
                let owner = OwnerRef(apiVersion: "v1", kind: "ConfigMap", name: key.name, uid: source.metadata.uid, controller: true)
                let desired: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(key.name + "-copy"), "namespace": .string(key.namespace)], "data": source.payload.value["data"]]
                let live = store.get(ObjectKey(namespace: key.namespace, name: key.name + "-copy"))?.payload.value
                await outcomes.append(try await applier.apply(desired, as: .configMaps, live: live, controller: owner))
                return .done
            }
            let controller = Controller(name: "copier", reconciler: reconciler, workers: 2, clock: clock, logger: .quiet)
            controller.watchPrimary(informer)
            controller.watchOwned(informer, ownerKind: "ConfigMap")
            let informerRun = Task { try await informer.run() }
            let controllerRun = Task { try await controller.run() }

            _ = try await client.create(.configMaps, namespace: "ns", object: Fixture.configMap("ns", "source", data: ["greeting": "hello"]))
            await outcomes.waitFor(count: 1)
            #expect(await outcomes.values.first == .created)
            while store.get(ObjectKey(namespace: "ns", name: "source-copy")) == nil { await Task.yield() }
            // The child's own ADDED event re-runs the owner: that pass must find nothing to do.
            await outcomes.waitFor(count: 2)
            let writesBefore = client.writes
            for _ in 0..<20 { await controller.queue.add(ObjectKey(namespace: "ns", name: "source")) ; await controller.queue.add(ObjectKey(namespace: "ns", name: "source")) }
            let target = await outcomes.count + 1
            await outcomes.waitFor(count: target)
            #expect(await outcomes.values.dropFirst().allSatisfy { $0 == .unchanged })
            #expect(client.writes == writesBefore, "a no-op resync sends no write request")

            let copy = try await client.get(.configMaps, namespace: "ns", name: "source-copy")
            #expect(copy["data"] == ["greeting": "hello"])
            #expect(copy[path: ["metadata", "ownerReferences"]][0]["name"] == "source")
            // A full read carries managedFields, so the server's own apply model decides too.
            #expect(!copy[path: ["metadata", "managedFields"]].isNull)
            let source = try #require(store.get(ObjectKey(namespace: "ns", name: "source")))
            let owner = OwnerRef(apiVersion: "v1", kind: "ConfigMap", name: "source", uid: source.metadata.uid, controller: true)
            let desired: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "source-copy", "namespace": "ns"], "data": ["greeting": "hello"]]
            #expect(try await applier.apply(desired, as: .configMaps, live: copy, controller: owner) == .unchanged)
            var changed = desired
            changed["data"] = ["greeting": "bonjour"]
            #expect(applier.wouldChange(ChildApplier.prepare(changed, controller: owner), live: copy))
            controllerRun.cancel()
            informerRun.cancel()
            _ = await controllerRun.result
            _ = await informerRun.result
        }
    }

    @Test func restClientMetrics_countEveryRequestByMethodAndCode() async throws {
        let metrics = RuntimeMetrics()
        try await withDevAPIServer(restMetrics: metrics) { _, client in
            _ = try await client.create(.configMaps, namespace: "ns", object: Fixture.configMap("ns", "a"))
            await #expect(throws: ResourceClientError.self) { try await client.get(.configMaps, namespace: "ns", name: "missing") }
            let samples = parsePrometheusText(await metrics.render())
            #expect(samples[#"rest_client_requests_total{code="201",method="POST"}"#] == 2, "the namespace and the ConfigMap")
            #expect(samples[#"rest_client_requests_total{code="404",method="GET"}"#] == 1)
            #expect(samples[#"rest_client_request_duration_seconds_count{verb="GET"}"#] == 1)
        }
    }

    @Test func finalizer_onTheDevServer_addsCleansUpAndRemovesOnlyItsOwnEntry() async throws {
        try await withDevAPIServer { _, client in
            let finalizer = "platform.medsearch.io/cleanup"
            _ = try await client.create(.configMaps, namespace: "ns", object: Fixture.configMap("ns", "prod"))
            let guardian = FinalizerGuard(finalizer: finalizer, resource: .configMaps, client: client)
            func metadata() async throws -> CachedMetadata {
                try #require(CachedMetadata(object: try await client.get(.configMaps, namespace: "ns", name: "prod")))
            }
            _ = try await guardian.reconcile(try await metadata(), apply: { .done }, cleanup: { .done })
            _ = try await guardian.reconcile(try await metadata(), apply: { .done }, cleanup: { .done })
            #expect(try await metadata().finalizers == [finalizer])

            // Another controller's finalizer arrives after ours; deletion must wait for both.
            _ = try await client.jsonPatch(.configMaps, namespace: "ns", name: "prod", operations: [["op": "add", "path": "/metadata/finalizers/-", "value": "other.io/keep"]])
            try await client.delete(.configMaps, namespace: "ns", name: "prod")
            let deleting = try await metadata()
            #expect(deleting.isBeingDeleted)
            let cleaned = CallLog<Int>()
            _ = try await guardian.reconcile(deleting, apply: { Issue.record("no apply while deleting"); return .done }, cleanup: { await cleaned.append(1); return .done })
            #expect(await cleaned.count == 1)
            #expect(try await metadata().finalizers == ["other.io/keep"])

            _ = try await client.jsonPatch(.configMaps, namespace: "ns", name: "prod", operations: [["op": "remove", "path": "/metadata/finalizers/0"]])
            await #expect(throws: ResourceClientError.self) { try await client.get(.configMaps, namespace: "ns", name: "prod") }
        }
    }

    @Test func leaderElection_onTheDevServer_secondReplicaTakesOverAfterTheFirstReleases() async throws {
        try await withDevAPIServer { _, client in
            let clock = ManualClock()
            let key = ObjectKey(namespace: "ns", name: "medsearch-operator")
            let first = LeaderElector(lease: key, identity: "replica-1", client: client, clock: clock, logger: .quiet)
            let second = LeaderElector(lease: key, identity: "replica-2", client: client, clock: clock, logger: .quiet)
            let firstRun = Task { try await first.run() }
            try await first.gate.waitUntilLeading()
            let secondRun = Task { try await second.run() }
            await clock.waitForSleepers(count: 2)
            #expect(!second.isLeader)
            firstRun.cancel()
            try await firstRun.value
            let released = try await client.get(.leases, namespace: "ns", name: key.name)
            #expect(released[path: ["spec", "holderIdentity"]].isNull)
            #expect(released[path: ["spec", "leaseDurationSeconds"]] == 1)
            clock.advance(by: .seconds(2))
            try await second.gate.waitUntilLeading()
            let taken = try await client.get(.leases, namespace: "ns", name: key.name)
            #expect(taken[path: ["spec", "holderIdentity"]] == "replica-2")
            secondRun.cancel()
            try await secondRun.value
        }
    }
}
