import JSON
import Logging
import Testing
@testable import ControllerRuntime

/// Collects informer changes and lets a test wait for a number of them.
actor ChangeRecorder<Payload: Sendable> {
    private(set) var changes: [ObjectChange<Payload>] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    func record(_ change: ObjectChange<Payload>) {
        changes.append(change)
        let ready = waiters.filter { $0.count <= changes.count }
        waiters.removeAll { $0.count <= changes.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    func waitFor(count: Int) async {
        if changes.count >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    var deletedNames: [String] {
        changes.compactMap { if case .deleted(let o) = $0 { return o.key.name } else { return nil } }
    }
}

@Suite struct ObjectStoreTests {
    func cached(_ namespace: String, _ name: String, rv: String = "1", owner: String? = nil, tier: String = "") -> CachedObject<String> {
        CachedObject(metadata: CachedMetadata(key: ObjectKey(namespace: namespace, name: name), uid: ObjectUID("uid-\(name)"), resourceVersion: rv, ownerReferences: owner.map { [OwnerRef(apiVersion: "v1", kind: "X", name: "o", uid: ObjectUID($0), controller: true)] } ?? []), payload: tier)
    }

    @Test func store_indexesObjectsByNamespaceOwnerAndCustomIndex() {
        let byTier = StoreIndex<String>(name: "tier") { [$0.payload] }
        let store = ObjectCache<String>(indexes: [byTier])
        store.upsert(cached("a", "one", owner: "p1", tier: "gold"))
        store.upsert(cached("a", "two", owner: "p1", tier: "dev"))
        store.upsert(cached("b", "three", owner: "p2", tier: "gold"))
        #expect(store.list(namespace: "a").map(\.key.name) == ["one", "two"])
        #expect(store.keysOwned(by: "p1").map(\.name) == ["one", "two"])
        #expect(store.byIndex("tier", value: "gold").map(\.key.name) == ["one", "three"])
        #expect(store.byIndex("no-such-index", value: "gold").isEmpty)
    }

    @Test func store_whenAnObjectChanges_movesItBetweenIndexValues() {
        let byTier = StoreIndex<String>(name: "tier") { [$0.payload] }
        let store = ObjectCache<String>(indexes: [byTier])
        store.upsert(cached("a", "one", tier: "gold"))
        store.upsert(cached("a", "one", rv: "2", tier: "dev"))
        #expect(store.byIndex("tier", value: "gold").isEmpty)
        #expect(store.byIndex("tier", value: "dev").map(\.metadata.resourceVersion) == ["2"])
        store.remove(ObjectKey(namespace: "a", name: "one"))
        #expect(store.byIndex("tier", value: "dev").isEmpty)
        #expect(store.count == 0)
    }

    @Test func store_replace_reportsVanishedAndChangedObjectsOnlyWithinItsNamespace() {
        let store = ObjectCache<String>()
        store.upsert(cached("a", "kept", rv: "1"))
        store.upsert(cached("a", "changed", rv: "1"))
        store.upsert(cached("a", "vanished", rv: "1"))
        store.upsert(cached("b", "other", rv: "1"))
        let difference = store.replace(with: [cached("a", "kept", rv: "1"), cached("a", "changed", rv: "5"), cached("a", "new", rv: "6")], inNamespace: "a")
        #expect(difference.removed.map(\.key.name) == ["vanished"])
        #expect(difference.changed.map(\.new.key.name) == ["changed", "new"])
        #expect(store.list().map(\.key.description) == ["a/changed", "a/kept", "a/new", "b/other"])
    }

    @Test func transform_stripsManagedFieldsAndLastAppliedAnnotationButKeepsTheRest() throws {
        let object: JSONValue = [
            "metadata": ["name": "x", "namespace": "n", "resourceVersion": "9", "uid": "u",
                         "managedFields": [["manager": "kubectl"]],
                         "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "{huge}", "keep": "me"]],
            "spec": ["replicas": 3],
        ]
        let cached = try #require(ObjectTransform.strippedCompactJSON.project(object))
        let value = cached.payload.value
        #expect(value[path: ["metadata", "managedFields"]].isNull)
        #expect(value[path: ["metadata", "annotations"]] == ["keep": "me"])
        #expect(value[path: ["spec", "replicas"]] == 3)
        #expect(cached.metadata.key == ObjectKey(namespace: "n", name: "x"))
        #expect(cached.metadata.resourceVersion == "9")
    }
}

@Suite struct InformerTests {
    let logger = Logger.quiet

    func makeInformer(_ client: FakeResourceClient, clock: ManualClock = ManualClock(), pageSize: Int = 500, metrics: RuntimeMetrics? = nil) -> Informer<CompactJSON> {
        Informer(resource: Fixture.configMaps, client: client, transform: .strippedCompactJSON, pageSize: pageSize, clock: clock, metrics: metrics, logger: logger)
    }

    @Test func informer_listsPageByPageThenWatches_andMarksTheCacheSynced() async throws {
        let client = FakeResourceClient()
        for i in 0..<5 { await client.seed(Fixture.configMaps, Fixture.configMap("ns", "cm\(i)")) }
        let informer = makeInformer(client, pageSize: 2)
        #expect(!informer.hasSynced)
        let run = Task { try await informer.run() }
        await client.waitForWatches(count: 1)
        #expect(informer.hasSynced)
        #expect(informer.store.count == 5)
        let lists = await client.requests.filter { $0.verb == "list" }.count
        #expect(lists == 3)
        run.cancel()
    }

    @Test func informer_appliesWatchEventsToTheCacheBeforeTellingSubscribers() async throws {
        let client = FakeResourceClient()
        let informer = makeInformer(client)
        let recorder = ChangeRecorder<CompactJSON>()
        let store = informer.store
        let sawInCache = ChangeRecorder<Bool>()
        informer.subscribe { change in
            await recorder.record(change)
            let present = store.get(change.object.key) != nil
            await sawInCache.record(.applied(CachedObject(metadata: change.object.metadata, payload: present), old: nil))
        }
        let run = Task { try await informer.run() }
        await client.waitForWatches(count: 1)
        _ = try await client.create(Fixture.configMaps, namespace: "ns", object: Fixture.configMap("ns", "a", data: ["k": "v"]))
        await recorder.waitFor(count: 1)
        #expect(informer.store.get(ObjectKey(namespace: "ns", name: "a"))?.payload.value["data"] == ["k": "v"])
        #expect(await sawInCache.changes.first?.object.payload == true)
        try await client.delete(Fixture.configMaps, namespace: "ns", name: "a")
        await recorder.waitFor(count: 2)
        #expect(informer.store.count == 0)
        #expect(await recorder.deletedNames == ["a"])
        run.cancel()
    }

    @Test func informer_whenTheWatchAnswers410_relistsAndDeliversTheDeletesItMissed() async throws {
        let client = FakeResourceClient()
        let metrics = RuntimeMetrics()
        await client.seed(Fixture.configMaps, Fixture.configMap("ns", "kept"))
        await client.seed(Fixture.configMaps, Fixture.configMap("ns", "deleted-while-away"))
        let informer = makeInformer(client, metrics: metrics)
        let recorder = ChangeRecorder<CompactJSON>()
        informer.subscribe { await recorder.record($0) }
        let run = Task { try await informer.run() }
        await client.waitForWatches(count: 1)
        await recorder.waitFor(count: 2)

        await client.forget(Fixture.configMaps, ObjectKey(namespace: "ns", name: "deleted-while-away"))
        await client.seed(Fixture.configMaps, Fixture.configMap("ns", "added-while-away"))
        await client.emit(Fixture.configMaps, .error(status: ["kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"]))

        await client.waitForWatches(count: 2)
        await recorder.waitFor(count: 4)
        #expect(await recorder.deletedNames == ["deleted-while-away"])
        #expect(informer.store.list().map(\.key.name) == ["added-while-away", "kept"])
        #expect(await metrics.render().contains(#"medsearch_informer_relists_total{resource="configmaps"} 2"#))
        run.cancel()
    }

    @Test func informer_whenTheWatchBreaks_resumesFromTheLastResourceVersionAfterBackoff() async throws {
        let client = FakeResourceClient()
        let clock = ManualClock()
        await client.seed(Fixture.configMaps, Fixture.configMap("ns", "a"))
        let informer = makeInformer(client, clock: clock)
        let run = Task { try await informer.run() }
        await client.waitForWatches(count: 1)
        await client.failNextWatch(ResourceClientError(statusCode: 500, reason: "InternalError"))
        await client.breakWatches(with: ResourceClientError(statusCode: 503))
        // The first reconnect attempt fails, so the informer sleeps on the virtual clock.
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(1))
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(2))
        await client.waitForWatches(count: 2)
        let lists = await client.requests.filter { $0.verb == "list" }.count
        #expect(lists == 1, "a broken watch resumes without relisting")
        #expect(informer.store.count == 1)
        run.cancel()
    }

    @Test func informer_whenABookmarkArrives_resumesFromItsResourceVersion() async throws {
        let client = FakeResourceClient()
        let informer = makeInformer(client)
        let run = Task { try await informer.run() }
        await client.waitForWatches(count: 1)
        await client.emit(Fixture.configMaps, .bookmark(resourceVersion: "5000"))
        await client.breakWatches()
        await client.waitForWatches(count: 2)
        let watches = await client.requests.filter { $0.verb == "watch" }.map(\.resourceVersion)
        #expect(watches.last == "5000")
        let lists = await client.requests.filter { $0.verb == "list" }.count
        #expect(lists == 1)
        run.cancel()
    }
}
