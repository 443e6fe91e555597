import DevAPIServer
import JSON
import Testing

@Suite struct StorageDeletionTests {
    @Test func delete_withoutFinalizers_removesTheObjectAtOnce() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let result = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a")
        guard case .deleted(let last) = result else { Issue.record("expected immediate deletion"); return }
        #expect(last.objectName == "a")
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "a") }
    }

    @Test func delete_withFinalizer_marksTheObject_untilTheFinalizerIsRemoved() throws {
        let store = StoreFixture.makeStore()
        var body = StoreFixture.configMap("a")
        body[path: ["metadata", "finalizers"]] = ["example.com/cleanup"]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: body)
        let result = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a")
        guard case .pending(let marked) = result else { Issue.record("expected pending deletion"); return }
        #expect(marked[path: ["metadata", "deletionTimestamp"]].stringValue != nil)
        #expect(marked[path: ["metadata", "deletionGracePeriodSeconds"]] == 0)

        var released = try store.get(StoreKeys.configMaps, namespace: "default", name: "a")
        released[path: ["metadata", "finalizers"]] = nil
        _ = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: released)
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "a") }
    }

    @Test func update_ofDeletingObject_cannotAddFinalizers() throws {
        let store = StoreFixture.makeStore()
        var body = StoreFixture.configMap("a")
        body[path: ["metadata", "finalizers"]] = ["x/one"]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: body)
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a")
        var current = try store.get(StoreKeys.configMaps, namespace: "default", name: "a")
        current[path: ["metadata", "finalizers"]] = ["x/one", "x/two"]
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: current)
        }
        #expect(error?.code == 422)
    }

    @Test func delete_withMismatchedPreconditions_failsWithConflict() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let wrongUID = #expect(throws: APIError.self) {
            try store.delete(StoreKeys.configMaps, namespace: "default", name: "a",
                             options: DeleteOptions(preconditionUID: "00000000-0000-0000-0000-000000000000"))
        }
        #expect(wrongUID?.code == 409)
        let wrongVersion = #expect(throws: APIError.self) {
            try store.delete(StoreKeys.configMaps, namespace: "default", name: "a",
                             options: DeleteOptions(preconditionResourceVersion: "1"))
        }
        #expect(wrongVersion?.code == 409)
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a",
                             options: DeleteOptions(preconditionUID: created[path: ["metadata", "uid"]].stringValue))
    }

    @Test func backgroundDeletion_removesDependentsWithTheOwner() throws {
        let store = StoreFixture.makeStore()
        let owner = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        var child = StoreFixture.configMap("web-config")
        child[path: ["metadata", "ownerReferences"]] = [StoreFixture.ownerReference(to: owner)]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)
        _ = try store.delete(StoreKeys.deployments, namespace: "default", name: "web",
                             options: DeleteOptions(propagationPolicy: "Background"))
        #expect(throws: APIError.self) { try store.get(StoreKeys.deployments, namespace: "default", name: "web") }
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "web-config") }
    }

    @Test func backgroundDeletion_keepsDependentsThatHaveAnotherLiveOwner() throws {
        let store = StoreFixture.makeStore()
        let first = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("first"))
        let second = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("second"))
        var child = StoreFixture.configMap("child")
        child[path: ["metadata", "ownerReferences"]] = [StoreFixture.ownerReference(to: first), StoreFixture.ownerReference(to: second)]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "first")
        #expect(try store.get(StoreKeys.configMaps, namespace: "default", name: "child").objectName == "child")
    }

    @Test func foregroundDeletion_keepsTheOwnerUntilBlockingDependentsAreGone() throws {
        let store = StoreFixture.makeStore()
        let owner = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        var child = StoreFixture.configMap("held")
        child[path: ["metadata", "ownerReferences"]] = [StoreFixture.ownerReference(to: owner, blockOwnerDeletion: true)]
        child[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)

        let result = try store.delete(StoreKeys.deployments, namespace: "default", name: "web",
                                      options: DeleteOptions(propagationPolicy: "Foreground"))
        guard case .pending(let marked) = result else { Issue.record("owner should wait"); return }
        #expect(marked[path: ["metadata", "finalizers"]] == ["foregroundDeletion"])
        let waitingChild = try store.get(StoreKeys.configMaps, namespace: "default", name: "held")
        #expect(waitingChild[path: ["metadata", "deletionTimestamp"]].stringValue != nil)
        #expect(try store.get(StoreKeys.deployments, namespace: "default", name: "web").objectName == "web")

        var released = waitingChild
        released[path: ["metadata", "finalizers"]] = nil
        _ = try store.update(StoreKeys.configMaps, namespace: "default", name: "held", body: released)
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "held") }
        #expect(throws: APIError.self) { try store.get(StoreKeys.deployments, namespace: "default", name: "web") }
    }

    @Test func orphanDeletion_removesOwnerButKeepsDependentsWithoutTheReference() throws {
        let store = StoreFixture.makeStore()
        let owner = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        var child = StoreFixture.configMap("web-config")
        child[path: ["metadata", "ownerReferences"]] = [StoreFixture.ownerReference(to: owner)]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)
        _ = try store.delete(StoreKeys.deployments, namespace: "default", name: "web",
                             options: DeleteOptions(propagationPolicy: "Orphan"))
        #expect(throws: APIError.self) { try store.get(StoreKeys.deployments, namespace: "default", name: "web") }
        let orphan = try store.get(StoreKeys.configMaps, namespace: "default", name: "web-config")
        #expect(orphan[path: ["metadata", "ownerReferences"]].isNull)
    }

    @Test func dependentCreatedForAMissingOwner_isCollected() throws {
        let store = StoreFixture.makeStore()
        var child = StoreFixture.configMap("stray")
        child[path: ["metadata", "ownerReferences"]] = [[
            "apiVersion": "apps/v1", "kind": "Deployment", "name": "gone", "uid": "11111111-1111-1111-1111-111111111111",
        ]]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "stray") }
    }

    @Test func namespaceDeletion_deletesItsContentsThenTheNamespace() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.namespaces, namespace: nil, body: ["metadata": ["name": "team"]])
        _ = try store.create(StoreKeys.configMaps, namespace: "team", body: StoreFixture.configMap("a", namespace: "team"))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        _ = try store.delete(StoreKeys.namespaces, namespace: nil, name: "team")
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "team", name: "a") }
        #expect(throws: APIError.self) { try store.get(StoreKeys.namespaces, namespace: nil, name: "team") }
        #expect(try store.get(StoreKeys.configMaps, namespace: "default", name: "a").objectName == "a")
    }

    @Test func terminatingNamespace_rejectsNewContent_andFinishesWhenHeldContentGoes() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.namespaces, namespace: nil, body: ["metadata": ["name": "team"]])
        var held = StoreFixture.configMap("held", namespace: "team")
        held[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try store.create(StoreKeys.configMaps, namespace: "team", body: held)
        _ = try store.delete(StoreKeys.namespaces, namespace: nil, name: "team")
        let terminating = try store.get(StoreKeys.namespaces, namespace: nil, name: "team")
        #expect(terminating[path: ["status", "phase"]] == "Terminating")
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "team", body: StoreFixture.configMap("new", namespace: "team"))
        }
        #expect(error?.code == 403)

        var release = try store.get(StoreKeys.configMaps, namespace: "team", name: "held")
        release[path: ["metadata", "finalizers"]] = nil
        _ = try store.update(StoreKeys.configMaps, namespace: "team", name: "held", body: release)
        #expect(throws: APIError.self) { try store.get(StoreKeys.namespaces, namespace: nil, name: "team") }
    }

    @Test func deleteCollection_deletesOnlySelectedObjects() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", labels: ["app": "x"]))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b", labels: ["app": "y"]))
        let deleted = try store.deleteCollection(StoreKeys.configMaps, namespace: "default", list: ListOptions(labelSelector: "app=x"))
        #expect(deleted["items"].arrayValue?.map(\.objectName) == ["a"])
        #expect(try store.list(StoreKeys.configMaps, namespace: "default").items.map(\.objectName) == ["b"])
    }
}
