import DevAPIServer
import JSON
import Testing

@Suite struct StorageWatchTests {
    @Test func watch_withoutResourceVersion_startsWithAddedForEveryExistingObject() async throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b"))
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default")
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a")
        let events = await StoreFixture.drain(watch)
        #expect(events.map(\.type) == [.added, .added, .deleted])
        #expect(events.map(\.object.objectName) == ["a", "b", "a"])
    }

    @Test func watch_fromAResourceVersion_replaysOnlyLaterChanges() async throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let mark = store.currentResourceVersion
        var b = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b"))
        b["data"] = ["k": "v"]
        let updated = try store.update(StoreKeys.configMaps, namespace: "default", name: "b", body: b).object
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default", options: ListOptions(resourceVersion: mark))
        let events = await StoreFixture.drain(watch)
        #expect(events.map(\.type) == [.added, .modified])
        #expect(events.last?.object.objectResourceVersion == updated.objectResourceVersion)
    }

    @Test func watch_deliversOnlyItsResourceAndNamespace() async throws {
        let store = StoreFixture.makeStore()
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default", options: ListOptions(resourceVersion: store.currentResourceVersion))
        _ = try store.create(StoreKeys.configMaps, namespace: "kube-system", body: StoreFixture.configMap("other", namespace: "kube-system"))
        _ = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("mine"))
        let events = await StoreFixture.drain(watch)
        #expect(events.map(\.object.objectName) == ["mine"])
    }

    @Test func watch_fromAResourceVersionOlderThanTheHistory_getsGoneAsAnErrorEvent() async throws {
        let store = StoreFixture.makeStore(history: 3)
        let mark = store.currentResourceVersion
        for index in 0..<5 {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("c\(index)"))
        }
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default", options: ListOptions(resourceVersion: mark))
        var events: [WatchEvent] = []
        for await event in watch { events.append(event) }
        #expect(events.count == 1)
        #expect(events.first?.type == .error)
        #expect(events.first?.object["code"] == 410)
        #expect(events.first?.object["message"].stringValue?.hasPrefix("too old resource version") == true)
    }

    @Test func bookmarks_carryOnlyKindApiVersionAndTheCurrentResourceVersion() async throws {
        let store = StoreFixture.makeStore()
        let withBookmarks = try store.watch(StoreKeys.configMaps, namespace: nil,
                                            options: ListOptions(resourceVersion: store.currentResourceVersion), allowBookmarks: true)
        let without = try store.watch(StoreKeys.configMaps, namespace: nil, options: ListOptions(resourceVersion: store.currentResourceVersion))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        store.sendBookmarks()
        let events = await StoreFixture.drain(withBookmarks)
        #expect(events.map(\.type) == [.added, .bookmark])
        let bookmark = try #require(events.last?.object)
        #expect(bookmark == ["kind": "ConfigMap", "apiVersion": "v1",
                             "metadata": ["resourceVersion": .string(store.currentResourceVersion)]])
        #expect(await StoreFixture.drain(without).map(\.type) == [.added])
    }

    @Test func watch_withLabelSelector_seesAnObjectLeavingTheSelectionAsDeleted() async throws {
        let store = StoreFixture.makeStore()
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default",
                                    options: ListOptions(labelSelector: "app=web", resourceVersion: store.currentResourceVersion))
        var object = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", labels: ["app": "web"]))
        object[path: ["metadata", "labels"]] = ["app": "db"]
        object = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: object).object
        object[path: ["metadata", "labels"]] = ["app": "web"]
        _ = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: object)
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("never", labels: ["app": "db"]))
        let events = await StoreFixture.drain(watch)
        #expect(events.map(\.type) == [.added, .deleted, .added])
        #expect(events[1].object[path: ["metadata", "labels", "app"]] == "db")
    }

    @Test func watcherThatFallsBehind_isDroppedAndCounted() async throws {
        let store = StoreFixture.makeStore(bufferLimit: 3)
        let slow = try store.watch(StoreKeys.configMaps, namespace: "default", options: ListOptions(resourceVersion: store.currentResourceVersion))
        for index in 0..<10 {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("c\(index)"))
        }
        #expect(store.statistics.droppedWatchers == 1)
        #expect(store.statistics.watchers == 0)
        var received = 0
        for await _ in slow { received += 1 }
        #expect(received < 10)
    }

    @Test func cancelledWatch_isNoLongerCounted() throws {
        let store = StoreFixture.makeStore()
        let watch = try store.watch(StoreKeys.configMaps, namespace: nil)
        #expect(store.statistics.watchers == 1)
        watch.cancel()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        #expect(store.statistics.watchers == 0)
        #expect(store.statistics.droppedWatchers == 0)
    }

    @Test func garbageCollection_emitsDeletedForDependentsToWatchers() async throws {
        let store = StoreFixture.makeStore()
        let owner = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("owner"))
        var child = StoreFixture.configMap("child")
        child[path: ["metadata", "ownerReferences"]] = [StoreFixture.ownerReference(to: owner)]
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: child)
        let watch = try store.watch(StoreKeys.configMaps, namespace: "default", options: ListOptions(resourceVersion: store.currentResourceVersion))
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "owner")
        let events = await StoreFixture.drain(watch)
        #expect(events.map(\.type) == [.deleted, .deleted])
        #expect(Set(events.map(\.object.objectName)) == ["owner", "child"])
        #expect(events[0].object.objectResourceVersion < events[1].object.objectResourceVersion)
    }

    @Test func watchEvent_serializesAsOneLineOfTheWireFormat() throws {
        let event = WatchEvent(type: .added, objectBytes: Array(#"{"kind":"ConfigMap"}"#.utf8))
        let line = String(decoding: event.serializedLine(), as: UTF8.self)
        #expect(line == "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\"}}\n")
    }
}
