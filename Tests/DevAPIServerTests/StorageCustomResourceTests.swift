import DevAPIServer
import JSON
import Testing

@Suite struct StorageCustomResourceTests {
    @Test func creatingACRD_servesItsResource_andReportsItEstablished() throws {
        let store = StoreFixture.makeStore()
        #expect(store.resourceType(for: StoreKeys.widgets) == nil)
        let crd = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let conditions = crd[path: ["status", "conditions"]].arrayValue ?? []
        #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
        #expect(conditions.contains { $0["type"] == "NamesAccepted" && $0["status"] == "True" })
        #expect(crd[path: ["status", "acceptedNames", "kind"]] == "Widget")
        let type = try #require(store.resourceType(for: StoreKeys.widgets))
        #expect(type.kind == "Widget")
        #expect(type.namespaced)
        #expect(type.hasStatusSubresource)
        #expect(type.shortNames == ["wd"])
        #expect(type.printerColumns.map(\.name) == ["Size"])
    }

    @Test func crd_whoseNameIsNotPluralDotGroup_isInvalid() {
        let store = StoreFixture.makeStore()
        var crd = StoreFixture.widgetCRD()
        crd[path: ["metadata", "name"]] = "gadgets.example.com"
        let error = #expect(throws: APIError.self) { try store.create(StoreKeys.crds, namespace: nil, body: crd) }
        #expect(error?.code == 422)
    }

    @Test func customResource_violatingTheSchema_isInvalidWithFieldCauses() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let tooBig = #expect(throws: APIError.self) {
            try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 11))
        }
        #expect(tooBig?.code == 422)
        #expect(tooBig?.details?.causes.contains { $0.field == "spec.size" } == true)
        let badColor = #expect(throws: APIError.self) {
            try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2, extra: ["color": "green"]))
        }
        #expect(badColor?.details?.causes.contains { $0.field == "spec.color" } == true)
        var missing = StoreFixture.widget("w", size: 1)
        missing["spec"] = .emptyObject
        let required = #expect(throws: APIError.self) { try store.create(StoreKeys.widgets, namespace: "default", body: missing) }
        #expect(required?.details?.causes.contains { $0.reason == "FieldValueRequired" } == true)
    }

    @Test func customResource_update_isCheckedAgainstTransitionRulesUsingTheStoredObject() throws {
        let store = StoreFixture.makeStore()
        var crd = StoreFixture.widgetCRD()
        let sizePath = ["spec", "versions"]
        var versions = crd[path: sizePath].arrayValue ?? []
        versions[0][path: ["schema", "openAPIV3Schema", "properties", "spec", "properties", "size", "x-kubernetes-validations"]] =
            [["rule": "self >= oldSelf", "message": "widgets cannot shrink"]]
        crd[path: sizePath] = .array(versions)
        _ = try store.create(StoreKeys.crds, namespace: nil, body: crd)
        _ = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 5))

        let shrink = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .merge,
                            body: Array(#"{"spec":{"size":3}}"#.utf8))
        }
        #expect(shrink?.code == 422)
        #expect(shrink?.details?.causes.contains { $0.field == "spec.size" && $0.message.contains("cannot shrink") } == true)

        let grown = try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .merge,
                                    body: Array(#"{"spec":{"size":7}}"#.utf8))
        #expect(grown.object[path: ["spec", "size"]] == 7)
    }

    @Test func customResource_getsDefaults_andLosesUnknownFields() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let created = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2, extra: ["extra": "x"]))
        #expect(created[path: ["spec", "color"]] == "red")
        #expect(created[path: ["spec", "extra"]].isNull)
        #expect(created["apiVersion"] == "example.com/v1")
    }

    @Test func customResource_withStrictFieldValidation_rejectsUnknownFields() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2, extra: ["extra": "x"]),
                             options: WriteOptions(fieldValidation: "Strict"))
        }
        #expect(error?.code == 400)
    }

    @Test func customResourceGeneration_movesOnSpecButNotOnStatusOrMetadata() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let created = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2))
        var status = created
        status["status"] = ["phase": "Ready"]
        let afterStatus = try store.update(StoreKeys.widgets, namespace: "default", name: "w", subresource: "status", body: status).object
        #expect(afterStatus[path: ["status", "phase"]] == "Ready")
        #expect(afterStatus[path: ["metadata", "generation"]] == 1)
        var labelled = afterStatus
        labelled[path: ["metadata", "labels"]] = ["a": "b"]
        let afterLabel = try store.update(StoreKeys.widgets, namespace: "default", name: "w", body: labelled).object
        #expect(afterLabel[path: ["metadata", "generation"]] == 1)
        var resized = afterLabel
        resized[path: ["spec", "size"]] = 3
        let afterResize = try store.update(StoreKeys.widgets, namespace: "default", name: "w", body: resized).object
        #expect(afterResize[path: ["metadata", "generation"]] == 2)
        #expect(afterResize[path: ["status", "phase"]] == "Ready")
    }

    @Test func customResource_updateWithoutResourceVersion_isInvalid() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        _ = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2))
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.widgets, namespace: "default", name: "w", body: StoreFixture.widget("w", size: 3))
        }
        #expect(error?.code == 422)
    }

    @Test func strategicMergePatch_onCustomResource_isUnsupportedMediaType() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        _ = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2))
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .strategic,
                            body: StoreFixture.patchBytes(["spec": ["size": 3]]))
        }
        #expect(error?.code == 415)
        #expect(error?.reason == "UnsupportedMediaType")
    }

    @Test func deletingACRD_removesItsObjects_andStopsServingIt() async throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        _ = try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("w", size: 2))
        let watch = try store.watch(StoreKeys.widgets, namespace: "default", options: ListOptions(resourceVersion: store.currentResourceVersion))
        _ = try store.delete(StoreKeys.crds, namespace: nil, name: "widgets.example.com")
        #expect(store.resourceType(for: StoreKeys.widgets) == nil)
        #expect(throws: APIError.self) { try store.create(StoreKeys.widgets, namespace: "default", body: StoreFixture.widget("x", size: 2)) }
        #expect(throws: APIError.self) { try store.get(StoreKeys.crds, namespace: nil, name: "widgets.example.com") }
        var events: [WatchEvent] = []
        for await event in watch { events.append(event) }
        #expect(events.map(\.type) == [.deleted])
    }

    @Test func clusterScopedCustomResource_ignoresNamespaces() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD(scope: "Cluster"))
        let created = try store.create(StoreKeys.widgets, namespace: nil, body: StoreFixture.widget("w", size: 2))
        #expect(created[path: ["metadata", "namespace"]].isNull)
        #expect(try store.list(StoreKeys.widgets, namespace: nil).items.count == 1)
    }

    @Test func servedVersions_shareStorage_andShowTheirOwnApiVersion() throws {
        let store = StoreFixture.makeStore()
        var crd = StoreFixture.widgetCRD()
        var beta = crd[path: ["spec", "versions"]][0]
        beta["name"] = "v1beta1"
        beta["storage"] = false
        crd[path: ["spec", "versions"]] = .array((crd[path: ["spec", "versions"]].arrayValue ?? []) + [beta])
        _ = try store.create(StoreKeys.crds, namespace: nil, body: crd)
        let betaKey = ResourceKey(group: "example.com", version: "v1beta1", plural: "widgets")
        var body = StoreFixture.widget("w", size: 2)
        body["apiVersion"] = "example.com/v1beta1"
        _ = try store.create(betaKey, namespace: "default", body: body)
        let viaV1 = try store.get(StoreKeys.widgets, namespace: "default", name: "w")
        #expect(viaV1["apiVersion"] == "example.com/v1")
        #expect(try store.list(betaKey, namespace: "default").items.first?["apiVersion"] == "example.com/v1beta1")
    }

    @Test func serverSideApply_onCustomResource_tracksEachManagersFields() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let sizeOnly: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 2]]
        _ = try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .apply(force: false),
                            body: StoreFixture.patchBytes(sizeOnly), options: WriteOptions(fieldManager: "operator"))
        let colorOnly: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["color": "blue", "size": 2]]
        let merged = try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .apply(force: false),
                                     body: StoreFixture.patchBytes(colorOnly), options: WriteOptions(fieldManager: "painter")).object
        #expect(merged[path: ["spec", "color"]] == "blue")
        let managers = (merged[path: ["metadata", "managedFields"]].arrayValue ?? []).compactMap { $0["manager"].stringValue }
        #expect(Set(managers) == ["operator", "painter"])
        let resize: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 5]]
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .apply(force: false),
                            body: StoreFixture.patchBytes(resize), options: WriteOptions(fieldManager: "painter"))
        }
        #expect(error?.code == 409)
    }

    @Test func reapplyingTheSameConfiguration_changesNothing() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.crds, namespace: nil, body: StoreFixture.widgetCRD())
        let applied: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 2]]
        let first = try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .apply(force: false),
                                    body: StoreFixture.patchBytes(applied), options: WriteOptions(fieldManager: "operator")).object
        let second = try store.patch(StoreKeys.widgets, namespace: "default", name: "w", type: .apply(force: false),
                                     body: StoreFixture.patchBytes(applied), options: WriteOptions(fieldManager: "operator")).object
        #expect(second.objectResourceVersion == first.objectResourceVersion)
    }
}
