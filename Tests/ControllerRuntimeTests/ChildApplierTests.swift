import JSON
import Testing
@testable import ControllerRuntime

@Suite struct ChildApplierTests {
    let owner = OwnerRef(apiVersion: "platform.medsearch.io/v1alpha1", kind: "MedicalSearchPlatform", name: "prod", uid: "p-uid", controller: true)

    func desired(data: [String: String]) -> JSONValue {
        Fixture.configMap("ns", "search-config", data: data)
    }

    @Test func apply_createsThenReportsUnchangedWithoutAnyWriteThenUpdatesOnDifference() async throws {
        let client = FakeResourceClient()
        let applier = ChildApplier(client: client, fieldManager: "medsearch-operator")
        let key = ObjectKey(namespace: "ns", name: "search-config")

        #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: nil, controller: owner) == .created)
        let live = try #require(await client.stored(Fixture.configMaps, key))
        #expect(live[path: ["metadata", "ownerReferences"]][0]["uid"] == "p-uid")
        let writesAfterCreate = await client.writeCount

        for _ in 0..<3 {
            #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: live, controller: owner) == .unchanged)
        }
        #expect(await client.writeCount == writesAfterCreate, "unchanged must send no request at all")

        #expect(try await applier.apply(desired(data: ["a": "2"]), as: Fixture.configMaps, live: live, controller: owner) == .updated)
        #expect(await client.stored(Fixture.configMaps, key)?["data"] == ["a": "2"])
    }

    @Test func apply_whenAFieldIsRemovedFromTheDesiredObject_stillUpdates() async throws {
        let client = FakeResourceClient()
        let applier = ChildApplier(client: client, fieldManager: "m")
        _ = try await applier.apply(desired(data: ["a": "1", "b": "2"]), as: Fixture.configMaps, live: nil, controller: owner)
        let live = try #require(await client.stored(Fixture.configMaps, ObjectKey(namespace: "ns", name: "search-config")))
        #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: live, controller: owner) == .updated)
    }

    @Test func apply_whenSomeoneElseChangedAFieldWeOwn_updatesItBack() async throws {
        let client = FakeResourceClient()
        let applier = ChildApplier(client: client, fieldManager: "m")
        _ = try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: nil, controller: owner)
        var live = try #require(await client.stored(Fixture.configMaps, ObjectKey(namespace: "ns", name: "search-config")))
        live["data"] = ["a": "tampered"]
        #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: live, controller: owner) == .updated)
    }

    @Test func apply_whenAnotherControllerOwnsTheObject_failsWithoutWriting() async throws {
        let client = FakeResourceClient()
        let applier = ChildApplier(client: client, fieldManager: "m")
        let stranger = OwnerRef(apiVersion: "apps/v1", kind: "Deployment", name: "other", uid: "other-uid", controller: true)
        let live = Fixture.configMap("ns", "search-config", owner: stranger)
        await #expect(throws: ApplyError.self) {
            try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, live: live, controller: owner)
        }
        #expect(await client.writeCount == 0)
    }

    @Test func apply_withAChildSummary_decidesByTheDesiredHashAndStillRefusesForeignObjects() async throws {
        let client = FakeResourceClient()
        let applier = ChildApplier(client: client, fieldManager: "m")
        let key = ObjectKey(namespace: "ns", name: "search-config")
        #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, cached: nil, controller: owner) == .created)
        let live = try #require(await client.stored(Fixture.configMaps, key))
        let summary = try #require(ObjectTransform.childSummary().project(live))
        #expect(summary.payload.desiredHash != nil)
        let writes = await client.writeCount
        #expect(try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, cached: summary, controller: owner) == .unchanged)
        #expect(await client.writeCount == writes)
        #expect(try await applier.apply(desired(data: ["a": "2"]), as: Fixture.configMaps, cached: summary, controller: owner) == .updated)

        let stranger = OwnerRef(apiVersion: "apps/v1", kind: "Deployment", name: "other", uid: "other-uid", controller: true)
        let foreign = try #require(ObjectTransform.childSummary().project(Fixture.configMap("ns", "search-config", owner: stranger)))
        await #expect(throws: ApplyError.self) {
            try await applier.apply(desired(data: ["a": "1"]), as: Fixture.configMaps, cached: foreign, controller: owner)
        }
    }

    @Test func childSummary_keepsOnlyTheNamedStatusFieldsAndDropsLabels() throws {
        let object: JSONValue = ["metadata": ["name": "d", "namespace": "n", "labels": ["a": "b"]], "status": ["readyReplicas": 2, "conditions": [["type": "Available"]]]]
        let summary = try #require(ObjectTransform.childSummary(statusFields: ["readyReplicas"]).project(object))
        #expect(summary.payload.status?.value == ["readyReplicas": 2])
        #expect(summary.metadata.labels.isEmpty)
        #expect(summary.payload.desiredHash == nil)
    }

    @Test func isSubset_acceptsServerDefaultsButNotDifferentValuesOrLengths() {
        let live: JSONValue = ["spec": ["replicas": 3, "strategy": ["type": "RollingUpdate"], "ports": [["port": 80, "protocol": "TCP"]]]]
        #expect(ChildApplier.isSubset(["spec": ["replicas": 3, "ports": [["port": 80]]]], of: live))
        #expect(ChildApplier.isSubset(["spec": ["replicas": 3.0]], of: live), "3 and 3.0 are the same number")
        #expect(!ChildApplier.isSubset(["spec": ["replicas": 4]], of: live))
        #expect(!ChildApplier.isSubset(["spec": ["ports": [["port": 80], ["port": 443]]]], of: live))
        #expect(!ChildApplier.isSubset(["spec": ["paused": true]], of: live))
    }
}

@Suite struct FinalizerGuardTests {
    let finalizer = "platform.medsearch.io/cleanup"
    let key = ObjectKey(namespace: "ns", name: "prod")

    func metadata(_ client: FakeResourceClient) async throws -> CachedMetadata {
        let stored = try #require(await client.stored(Fixture.platforms, key))
        return try #require(CachedMetadata(object: stored))
    }

    @Test func finalizer_onALiveObject_addsItselfOnceThenApplies() async throws {
        let client = FakeResourceClient()
        await client.seed(Fixture.platforms, ["metadata": ["name": "prod", "namespace": "ns"]])
        let guardian = FinalizerGuard(finalizer: finalizer, resource: Fixture.platforms, client: client)
        let applied = CallLog<Int>()
        for _ in 0..<2 {
            let meta = try await metadata(client)
            _ = try await guardian.reconcile(meta, apply: { await applied.append(1); return .done }, cleanup: { Issue.record("no cleanup for a live object"); return .done })
        }
        #expect(try await metadata(client).finalizers == [finalizer])
        #expect(await applied.count == 2)
        #expect(await client.requests.filter { $0.verb == "patch" }.count == 1, "the second pass sees the finalizer and does not patch")
    }

    @Test func finalizer_onDeletion_cleansUpAndRemovesOnlyItsOwnEntry() async throws {
        let client = FakeResourceClient()
        await client.seed(Fixture.platforms, ["metadata": ["name": "prod", "namespace": "ns", "finalizers": ["other.io/keep", .string(finalizer)]]])
        try await client.delete(Fixture.platforms, namespace: "ns", name: "prod")
        let guardian = FinalizerGuard(finalizer: finalizer, resource: Fixture.platforms, client: client)
        let cleaned = CallLog<Int>()
        let result = try await guardian.reconcile(try await metadata(client), apply: { Issue.record("no apply while deleting"); return .done }, cleanup: { await cleaned.append(1); return .done })
        #expect(result == .done)
        #expect(await cleaned.count == 1)
        #expect(try await metadata(client).finalizers == ["other.io/keep"])
    }

    @Test func finalizer_whenCleanupIsNotFinished_keepsTheFinalizerAndRequeues() async throws {
        let client = FakeResourceClient()
        await client.seed(Fixture.platforms, ["metadata": ["name": "prod", "namespace": "ns", "finalizers": [.string(finalizer)]]])
        try await client.delete(Fixture.platforms, namespace: "ns", name: "prod")
        let guardian = FinalizerGuard(finalizer: finalizer, resource: Fixture.platforms, client: client)
        let result = try await guardian.reconcile(try await metadata(client), apply: { .done }, cleanup: { .after(.seconds(30)) })
        #expect(result == .after(.seconds(30)))
        #expect(try await metadata(client).finalizers == [finalizer])
    }

    @Test func finalizer_whenTheCachedListIsStale_failsThePatchInsteadOfRemovingAnotherEntry() async throws {
        let client = FakeResourceClient()
        await client.seed(Fixture.platforms, ["metadata": ["name": "prod", "namespace": "ns", "finalizers": [.string(finalizer)]]])
        try await client.delete(Fixture.platforms, namespace: "ns", name: "prod")
        let stale = try await metadata(client)
        // Another controller inserts its finalizer in front of ours after our cache read.
        _ = try await client.jsonPatch(Fixture.platforms, namespace: "ns", name: "prod", operations: [["op": "add", "path": "/metadata/finalizers/0", "value": "other.io/keep"]])
        let guardian = FinalizerGuard(finalizer: finalizer, resource: Fixture.platforms, client: client)
        await #expect(throws: ResourceClientError.self) {
            _ = try await guardian.reconcile(stale, apply: { .done }, cleanup: { .done })
        }
        #expect(try await metadata(client).finalizers == ["other.io/keep", finalizer])
    }
}
