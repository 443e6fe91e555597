import DevAPIServer
import JSON
import Testing

@Suite struct StorageListTests {
    @Test func list_filtersByLabelSelectorAndNamespace() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", labels: ["app": "web", "tier": "front"]))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b", labels: ["app": "db"]))
        _ = try store.create(StoreKeys.configMaps, namespace: "kube-system", body: StoreFixture.configMap("c", namespace: "kube-system", labels: ["app": "web"]))
        let web = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(labelSelector: "app=web"))
        #expect(web.items.map(\.objectName) == ["a"])
        let everywhere = try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(labelSelector: "app in (web)"))
        #expect(everywhere.items.map(\.objectName) == ["a", "c"])
        let notDB = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(labelSelector: "app!=db"))
        #expect(notDB.items.map(\.objectName) == ["a"])
    }

    @Test func list_filtersByFieldSelectors_includingPerKindFields() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b"))
        let byName = try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(fieldSelector: "metadata.name=b"))
        #expect(byName.items.map(\.objectName) == ["b"])
        _ = try store.create(StoreKeys.secrets, namespace: "default", body: ["metadata": ["name": "tls"], "type": "kubernetes.io/tls"])
        _ = try store.create(StoreKeys.secrets, namespace: "default", body: ["metadata": ["name": "plain"]])
        let tls = try store.list(StoreKeys.secrets, namespace: "default", options: ListOptions(fieldSelector: "type=kubernetes.io/tls"))
        #expect(tls.items.map(\.objectName) == ["tls"])
        _ = try store.create(StoreKeys.events, namespace: "default", body: [
            "metadata": ["name": "e1"], "involvedObject": ["kind": "Deployment", "name": "web"], "reason": "Scaled",
        ])
        let events = try store.list(StoreKeys.events, namespace: "default",
                                    options: ListOptions(fieldSelector: "involvedObject.name=web,involvedObject.kind=Deployment"))
        #expect(events.items.map(\.objectName) == ["e1"])
    }

    @Test func list_withUnknownFieldSelector_isBadRequest() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(fieldSelector: "spec.color=red"))
        }
        #expect(error?.code == 400)
    }

    @Test func list_withMalformedLabelSelector_isBadRequest() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(labelSelector: "app in (web"))
        }
        #expect(error?.code == 400)
    }

    @Test func pagination_walksAllObjects_andSkipsObjectsCreatedAfterTheFirstPage() throws {
        let store = StoreFixture.makeStore()
        for name in ["a", "c", "e", "g"] {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap(name))
        }
        let first = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(limit: 2))
        #expect(first.items.map(\.objectName) == ["a", "c"])
        #expect(first.remainingItemCount == 2)
        let token = try #require(first.continueToken)
        #expect(!token.contains { "+/=".contains($0) }, "tokens travel in query strings unescaped")
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("d"))
        let second = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(limit: 2, continueToken: token))
        #expect(second.items.map(\.objectName) == ["e", "g"])
        #expect(second.continueToken == nil)
        #expect(second.resourceVersion == first.resourceVersion)
        let fresh = try store.list(StoreKeys.configMaps, namespace: "default")
        #expect(fresh.items.map(\.objectName) == ["a", "c", "d", "e", "g"])
    }

    @Test func continueToken_olderThanTheKeptHistory_isExpired() throws {
        let store = StoreFixture.makeStore(history: 3)
        for name in ["a", "b", "c"] {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap(name))
        }
        let first = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(limit: 1))
        for index in 0..<5 {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("later\(index)"))
        }
        let error = #expect(throws: APIError.self) {
            try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(limit: 1, continueToken: first.continueToken))
        }
        #expect(error?.code == 410)
        #expect(error?.reason == "Expired")
    }

    @Test func list_withGarbledContinueToken_isBadRequest() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(continueToken: "not-a-token"))
        }
        #expect(error?.code == 400)
    }

    @Test func list_atFutureResourceVersion_isTooLarge_andAtZeroIsAnyVersion() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        #expect(try store.list(StoreKeys.configMaps, namespace: nil, options: ListOptions(resourceVersion: "0")).items.count == 1)
        let error = #expect(throws: APIError.self) {
            try store.list(StoreKeys.configMaps, namespace: nil,
                           options: ListOptions(resourceVersion: "999999", resourceVersionMatch: "NotOlderThan"))
        }
        #expect(error?.code == 504)
    }

    @Test func serializedList_isTheListObject() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["k": "v"]))
        let result = try store.list(StoreKeys.configMaps, namespace: "default")
        let parsed = try JSONValue.parse(result.serializedList())
        #expect(parsed == result.listObject)
        #expect(parsed["kind"] == "ConfigMapList")
        #expect(parsed[path: ["metadata", "resourceVersion"]] == .string(store.currentResourceVersion))
    }

    @Test func builtIns_describeScopeShortNamesAndStatus() throws {
        let store = StoreFixture.makeStore()
        let deployments = try #require(store.resourceType(for: StoreKeys.deployments))
        #expect(deployments.shortNames == ["deploy"])
        #expect(deployments.hasStatusSubresource)
        let namespaces = try #require(store.resourceType(for: StoreKeys.namespaces))
        #expect(!namespaces.namespaced)
        let crds = try #require(store.resourceType(for: StoreKeys.crds))
        #expect(!crds.namespaced && crds.hasStatusSubresource)
        #expect(try store.list(StoreKeys.namespaces, namespace: nil).items.map(\.objectName).contains("default"))
    }

    @Test func eventsWrittenThroughEventsAPI_areCoreEventsToo_andBack() async throws {
        let store = StoreFixture.makeStore()
        let eventsAPI = ResourceKey(group: "events.k8s.io", version: "v1", plural: "events")
        let coreWatch = try store.watch(StoreKeys.events, namespace: "default",
                                        options: ListOptions(resourceVersion: store.currentResourceVersion))
        let created = try store.create(eventsAPI, namespace: "default", body: [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e1"],
            "eventTime": "2026-11-25T21:00:00.000000Z", "reportingController": "medsearch-operator",
            "reportingInstance": "pod-1", "action": "Reconcile", "reason": "Provisioned", "type": "Normal",
            "regarding": ["kind": "MedicalSearchPlatform", "name": "demo", "namespace": "default"],
            "note": "database ready",
        ])
        #expect(created["apiVersion"] == "events.k8s.io/v1")
        #expect(created["note"] == "database ready")

        let core = try store.get(StoreKeys.events, namespace: "default", name: "e1")
        #expect(core["apiVersion"] == "v1")
        #expect(core["message"] == "database ready")
        #expect(core[path: ["involvedObject", "name"]] == "demo")
        #expect(core["reportingComponent"] == "medsearch-operator")
        let selected = try store.list(StoreKeys.events, namespace: "default",
                                      options: ListOptions(fieldSelector: "involvedObject.kind=MedicalSearchPlatform,involvedObject.name=demo"))
        #expect(selected.items.map(\.objectName) == ["e1"])

        let patched = try store.patch(eventsAPI, namespace: "default", name: "e1", type: .merge,
                                      body: StoreFixture.patchBytes(["note": "database ready again"])).object
        #expect(patched["note"] == "database ready again")
        #expect(try store.get(StoreKeys.events, namespace: "default", name: "e1")["message"] == "database ready again")

        let events = await StoreFixture.drain(coreWatch)
        #expect(events.map(\.type) == [.added, .modified])
        #expect(events.allSatisfy { $0.object["apiVersion"] == "v1" })
    }

    @Test func pagination_servesTheFirstPagesSnapshot_despiteLaterUpdatesAndDeletes() throws {
        let store = StoreFixture.makeStore()
        for name in ["a", "b", "c", "d"] {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap(name, data: ["v": "old"]))
        }
        let first = try store.list(StoreKeys.configMaps, namespace: "default", options: ListOptions(limit: 2))
        _ = try store.patch(StoreKeys.configMaps, namespace: "default", name: "c", type: .merge,
                            body: StoreFixture.patchBytes(["data": ["v": "new"]]))
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "d")
        let second = try store.list(StoreKeys.configMaps, namespace: "default",
                                    options: ListOptions(limit: 2, continueToken: first.continueToken))
        #expect(second.items.map(\.objectName) == ["c", "d"])
        #expect(second.items.map { $0[path: ["data", "v"]] } == ["old", "old"])
    }

    @Test func exactList_atAnEarlierResourceVersion_showsTheStateThen() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["v": "1"]))
        let then = store.currentResourceVersion
        _ = try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .merge,
                            body: StoreFixture.patchBytes(["data": ["v": "2"]]))
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("b"))
        let past = try store.list(StoreKeys.configMaps, namespace: "default",
                                  options: ListOptions(resourceVersion: then, resourceVersionMatch: "Exact"))
        #expect(past.resourceVersion == then)
        #expect(past.items.map(\.objectName) == ["a"])
        #expect(past.items.first?[path: ["data", "v"]] == "1")
    }
}
