import JSON
import Testing
@testable import ControllerRuntime

@Suite struct ObjectCacheSlotStoreTests {
    let byTier = StoreIndex<String>(name: "tier") { [$0.payload] }

    func cached(_ namespace: String, _ name: String, rv: String = "1", owners: [String] = [], tier: String = "", labels: [String: String] = [:], finalizers: [String] = []) -> CachedObject<String> {
        CachedObject(metadata: CachedMetadata(
            key: ObjectKey(namespace: namespace, name: name), uid: ObjectUID("uid-\(namespace)-\(name)"), resourceVersion: rv, generation: 4,
            labels: labels, ownerReferences: owners.enumerated().map { OwnerRef(apiVersion: "platform.medsearch.io/v1alpha1", kind: "MedicalSearchPlatform", name: "p", uid: ObjectUID($1), controller: $0 == 0) },
            finalizers: finalizers), payload: tier)
    }

    @Test func slotStore_givesBackExactlyTheMetadataItWasGiven() throws {
        let store = ObjectCache<String>()
        let object = cached("ns", "search", rv: "123456789012345678", owners: ["6f1c2b1e-8a31-4c2e-9f55-0e7d6b2a9c11", "other"], tier: "gold",
                            labels: ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": "platform-with-a-long-instance-name"], finalizers: ["platform.medsearch.io/finalizer"])
        store.upsert(object)
        let stored = try #require(store.get(object.key))
        #expect(stored.metadata == object.metadata)
        #expect(stored.payload == "gold")
        #expect(stored.metadata.controllerReference?.uid == "6f1c2b1e-8a31-4c2e-9f55-0e7d6b2a9c11")
        let bare = cached("", "cluster-scoped")
        store.upsert(bare)
        #expect(store.get(bare.key)?.metadata == bare.metadata)
    }

    @Test func slotStore_whenObjectsAreUpdated_indexesFollowTheNewValuesOnly() {
        let store = ObjectCache<String>(indexes: [byTier])
        store.upsert(cached("a", "one", owners: ["p1"], tier: "gold"))
        let old = store.upsert(cached("a", "one", rv: "2", owners: ["p2"], tier: "dev"))
        #expect(old?.payload == "gold")
        #expect(store.keysOwned(by: "p1").isEmpty)
        #expect(store.keysOwned(by: "p2").map(\.name) == ["one"])
        #expect(store.byIndex("tier", value: "gold").isEmpty)
        #expect(store.byIndex("tier", value: "dev").map(\.metadata.resourceVersion) == ["2"])
        #expect(store.inconsistencies.isEmpty)
    }

    @Test func slotStore_underManyAddsUpdatesAndDeletes_staysConsistentAndReusesSlots() {
        var store = SlotStore<String>(indexes: [.namespace, .ownerUID, byTier])
        var expected: [ObjectKey: String] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<3_000 {
            let name = "child-\(Int.random(in: 0..<200, using: &generator))"
            let namespace = "ns-\(Int.random(in: 0..<5, using: &generator))"
            let key = ObjectKey(namespace: namespace, name: name)
            if Int.random(in: 0..<3, using: &generator) == 0 {
                #expect(store.remove(key)?.payload == expected.removeValue(forKey: key))
            } else {
                let tier = ["gold", "dev", "silver"][step % 3]
                store.upsert(cached(namespace, name, rv: String(step), owners: ["owner-\(step % 7)"], tier: tier))
                expected[key] = tier
            }
        }
        #expect(store.inconsistencies.isEmpty)
        #expect(store.count == expected.count)
        #expect(store.slotCapacityInUse <= 1_000, "freed slots are reused (at most 5 × 200 keys ever live)")
        for (key, tier) in expected { #expect(store.get(key)?.payload == tier) }
        let gold = Set(expected.filter { $0.value == "gold" }.keys)
        #expect(Set(store.objects(inIndex: "tier", value: "gold")?.map(\.key) ?? []) == gold)
        #expect(store.objects(inIndex: "no-such-index", value: "gold") == nil)
    }

    @Test func objectCache_afterARelistOfOneNamespace_keepsOtherNamespacesAndIndexesAgree() {
        let store = ObjectCache<String>(indexes: [byTier])
        store.upsert(cached("a", "stays-same", rv: "1", owners: ["p1"], tier: "gold"))
        store.upsert(cached("a", "changes", rv: "1", owners: ["p1"], tier: "gold"))
        store.upsert(cached("a", "vanishes", rv: "1", owners: ["p1"], tier: "dev"))
        store.upsert(cached("b", "other-namespace", rv: "1", owners: ["p1"], tier: "gold"))
        let difference = store.replace(with: [
            cached("a", "stays-same", rv: "1", owners: ["p1"], tier: "gold"),
            cached("a", "changes", rv: "2", owners: ["p2"], tier: "dev"),
            cached("a", "new", rv: "1", owners: ["p2"], tier: "gold"),
        ], inNamespace: "a")
        #expect(difference.removed.map(\.key.name) == ["vanishes"])
        #expect(difference.changed.map(\.new.key.name) == ["changes", "new"])
        #expect(difference.changed.first?.old?.payload == "gold")
        #expect(store.list().map(\.key.description) == ["a/changes", "a/new", "a/stays-same", "b/other-namespace"])
        #expect(store.keysOwned(by: "p1").map(\.description) == ["a/stays-same", "b/other-namespace"])
        #expect(store.keysOwned(by: "p2").map(\.description) == ["a/changes", "a/new"])
        #expect(store.byIndex("tier", value: "dev").map(\.key.name) == ["changes"])
        #expect(store.inconsistencies.isEmpty)

        let full = store.replace(with: [cached("c", "only", owners: ["p3"], tier: "gold")])
        #expect(full.removed.count == 4)
        #expect(store.list().map(\.key.description) == ["c/only"])
        #expect(store.keysOwned(by: "p1").isEmpty)
        #expect(store.inconsistencies.isEmpty)
    }

    @Test func packedMetadata_sharesLabelStringsButNeverOwnerUIDs() throws {
        let uid = "0d3c1e7a-5b2f-4c8e-a1d9-3f6b7c2e9a10"
        let object = cached("ns", "x", owners: [uid], labels: ["app.kubernetes.io/managed-by": "medsearch-operator"])
        _ = PackedObject(object)
        _ = PackedObject(cached("ns", "y", owners: [uid], labels: ["app.kubernetes.io/managed-by": "medsearch-operator"]))
        let shared = SharedStringTable.shared.withStrings { Set($0) }
        #expect(shared.contains("app.kubernetes.io/managed-by"))
        #expect(shared.contains("medsearch-operator"))
        #expect(!shared.contains(uid))
        #expect(PackedObject(object).unpacked.metadata == object.metadata)
    }
}

@Suite struct ObjectCacheSlotPostingsTests {
    @Test func slotPostings_growFromOneInlineSlotToASetAndShrinkBack() throws {
        var postings = SlotPostings.one(3)
        #expect(postings.slots == [3])
        postings = postings.adding(3)
        #expect(postings.slots == [3], "adding a slot twice keeps it once")
        postings = postings.adding(7).adding(9)
        #expect(Set(postings.slots) == [3, 7, 9])
        postings = try #require(postings.removing(7))
        postings = try #require(postings.removing(3))
        guard case .one(9) = postings else { Issue.record("expected one inline slot, got \(postings)"); return }
        #expect(postings.removing(5)?.slots == [9], "removing an absent slot changes nothing")
        #expect(postings.removing(9) == nil)
    }
}
