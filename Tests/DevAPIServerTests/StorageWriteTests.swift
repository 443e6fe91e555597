import DevAPIServer
import JSON
import Testing

@Suite struct StorageWriteTests {
    @Test func create_assignsIdentityTimestampAndResourceVersion() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["k": "v"]),
                                       options: WriteOptions(fieldManager: "kubectl-create"))
        #expect(created[path: ["metadata", "uid"]].stringValue?.count == 36)
        #expect(created[path: ["metadata", "creationTimestamp"]] == "2023-11-14T22:13:20Z")
        #expect(created.objectResourceVersion > 0)
        #expect(created[path: ["metadata", "managedFields"]][0]["manager"] == "kubectl-create")
        let read = try store.get(StoreKeys.configMaps, namespace: "default", name: "a")
        #expect(read == created)
    }

    @Test func resourceVersion_increasesWithEveryWriteAcrossKinds() throws {
        let store = StoreFixture.makeStore()
        let first = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let second = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        var changed = first
        changed["data"] = ["k": "v"]
        let third = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: changed).object
        #expect(first.objectResourceVersion < second.objectResourceVersion)
        #expect(second.objectResourceVersion < third.objectResourceVersion)
        #expect(String(third.objectResourceVersion) == store.currentResourceVersion)
    }

    @Test func create_whenNameExists_failsWithAlreadyExists() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        }
        #expect(error?.code == 409)
        #expect(error?.reason == "AlreadyExists")
        #expect(error?.message == #"configmaps "a" already exists"#)
    }

    @Test func create_inMissingNamespace_failsWithNotFoundNamingTheNamespace() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "nowhere", body: StoreFixture.configMap("a", namespace: "nowhere"))
        }
        #expect(error?.code == 404)
        #expect(error?.message == #"namespaces "nowhere" not found"#)
    }

    @Test func create_withInvalidName_failsWithInvalidAndNameCause() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("Bad_Name"))
        }
        #expect(error?.code == 422)
        #expect(error?.reason == "Invalid")
        #expect(error?.details?.causes.first?.field == "metadata.name")
        #expect(error?.message.hasPrefix(#"ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name""#) == true)
    }

    @Test func create_withoutNameOrGenerateName_failsWithRequiredName() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "default", body: ["metadata": .emptyObject])
        }
        #expect(error?.code == 422)
        #expect(error?.details?.causes.first?.reason == "FieldValueRequired")
    }

    @Test func create_withGenerateName_appendsFiveCharacterSuffix() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default",
                                       body: ["metadata": ["generateName": "job-"]])
        #expect(created.objectName.hasPrefix("job-"))
        #expect(created.objectName.count == 9)
    }

    @Test func create_withMismatchedNamespace_failsWithBadRequest() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "kube-system", body: StoreFixture.configMap("a", namespace: "default"))
        }
        #expect(error?.code == 400)
    }

    @Test func update_withStaleResourceVersion_failsWithConflict() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        var first = created
        first["data"] = ["k": "1"]
        _ = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: first)
        var stale = created
        stale["data"] = ["k": "2"]
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: stale)
        }
        #expect(error?.code == 409)
        #expect(error?.reason == "Conflict")
        #expect(error?.message.contains("the object has been modified") == true)
    }

    @Test func update_whenNothingChanges_keepsTheResourceVersion() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["k": "v"]))
        let updated = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: created).object
        #expect(updated.objectResourceVersion == created.objectResourceVersion)
    }

    @Test func update_ofMissingConfigMap_failsWithNotFound() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: StoreFixture.configMap("a"))
        }
        #expect(error?.code == 404)
    }

    @Test func generation_ofDeployment_movesOnSpecChangesOnly() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        #expect(created[path: ["metadata", "generation"]] == 1)
        var labelled = created
        labelled[path: ["metadata", "labels"]] = ["tier": "front"]
        let afterLabel = try store.update(StoreKeys.deployments, namespace: "default", name: "web", body: labelled).object
        #expect(afterLabel[path: ["metadata", "generation"]] == 1)
        var scaled = afterLabel
        scaled[path: ["spec", "replicas"]] = 3
        let afterScale = try store.update(StoreKeys.deployments, namespace: "default", name: "web", body: scaled).object
        #expect(afterScale[path: ["metadata", "generation"]] == 2)
    }

    @Test func deployment_create_appliesServerDefaultsAndDropsStatus() throws {
        let store = StoreFixture.makeStore()
        var body = StoreFixture.deployment("web")
        body["status"] = ["replicas": 5]
        body[path: ["spec", "replicas"]] = nil
        let created = try store.create(StoreKeys.deployments, namespace: "default", body: body)
        #expect(created[path: ["spec", "replicas"]] == 1)
        #expect(created[path: ["spec", "strategy", "type"]] == "RollingUpdate")
        #expect(created["status"].isNull)
    }

    @Test func mainEndpoint_ignoresStatus_andStatusEndpoint_writesOnlyStatus() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        var withStatus = created
        withStatus["status"] = ["replicas": 1]
        let viaMain = try store.update(StoreKeys.deployments, namespace: "default", name: "web", body: withStatus).object
        #expect(viaMain["status"].isNull)

        var statusWrite = viaMain
        statusWrite["status"] = ["replicas": 1, "readyReplicas": 1]
        statusWrite[path: ["spec", "replicas"]] = 7
        let viaStatus = try store.update(StoreKeys.deployments, namespace: "default", name: "web", subresource: "status",
                                         body: statusWrite).object
        #expect(viaStatus[path: ["status", "readyReplicas"]] == 1)
        #expect(viaStatus[path: ["spec", "replicas"]] == 1)
        #expect(viaStatus[path: ["metadata", "generation"]] == 1)
    }

    @Test func statusSubresource_onKindWithoutIt_isNotFound() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.configMaps, namespace: "default", name: "a", subresource: "status", body: created)
        }
        #expect(error?.code == 404)
    }

    @Test func dryRun_create_validatesButStoresNothing() throws {
        let store = StoreFixture.makeStore()
        let before = store.currentResourceVersion
        let result = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"),
                                      options: WriteOptions(dryRun: true))
        #expect(result.objectName == "a")
        #expect(store.currentResourceVersion == before)
        #expect(throws: APIError.self) { try store.get(StoreKeys.configMaps, namespace: "default", name: "a") }
    }

    @Test func mergePatch_changesOnlyTheGivenFields() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["keep": "1", "drop": "2"]))
        let patched = try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .merge,
                                      body: StoreFixture.patchBytes(["data": ["drop": nil, "new": "3"]])).object
        #expect(patched["data"] == ["keep": "1", "new": "3"])
    }

    @Test func jsonPatch_withFailingTest_isRejectedAndStoresNothing() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a", data: ["k": "1"]))
        #expect(throws: APIError.self) {
            try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .json,
                            body: StoreFixture.patchBytes([["op": "test", "path": "/data/k", "value": "2"],
                                              ["op": "replace", "path": "/data/k", "value": "3"]]))
        }
        #expect(try store.get(StoreKeys.configMaps, namespace: "default", name: "a") == created)
    }

    @Test func patch_withStaleResourceVersionInBody_failsWithConflict() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .merge,
                            body: StoreFixture.patchBytes(["metadata": ["resourceVersion": "1"], "data": ["k": "v"]]))
        }
        #expect(error?.code == 409)
    }

    @Test func strategicMergePatch_onDeployment_mergesContainersByName() throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.deployments, namespace: "default", body: StoreFixture.deployment("web"))
        let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "nginx:1.28"]]]]]]
        let patched = try store.patch(StoreKeys.deployments, namespace: "default", name: "web", type: .strategic,
                                      body: StoreFixture.patchBytes(patch)).object
        let containers = patched[path: ["spec", "template", "spec", "containers"]].arrayValue ?? []
        #expect(containers.count == 1)
        #expect(containers.first?["image"] == "nginx:1.28")
        #expect(patched[path: ["metadata", "generation"]] == 2)
    }

    @Test func serverSideApply_createsWhenAbsent_andConflictsWithAnotherManagerUnlessForced() throws {
        let store = StoreFixture.makeStore()
        let applied: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": ["name": "a", "namespace": "default"], "data": ["k": "one"]]
        let first = try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .apply(force: false),
                                    body: StoreFixture.patchBytes(applied), options: WriteOptions(fieldManager: "alpha"))
        #expect(first.created)
        #expect(first.object[path: ["metadata", "managedFields"]][0]["manager"] == "alpha")

        var rival = applied
        rival["data"] = ["k": "two"]
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .apply(force: false),
                            body: StoreFixture.patchBytes(rival), options: WriteOptions(fieldManager: "beta"))
        }
        #expect(error?.code == 409)
        #expect(error?.message.contains("alpha") == true)

        let forced = try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .apply(force: true),
                                     body: StoreFixture.patchBytes(rival), options: WriteOptions(fieldManager: "beta"))
        #expect(!forced.created)
        #expect(forced.object[path: ["data", "k"]] == "two")
    }

    @Test func serverSideApply_withoutFieldManager_isRejected() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .apply(force: false),
                            body: StoreFixture.patchBytes(StoreFixture.configMap("a")))
        }
        #expect(error?.code == 422)
    }

    @Test func serverSideApply_acceptsYAMLBodies() throws {
        let store = StoreFixture.makeStore()
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  k: v\n"
        let result = try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: .apply(force: false),
                                     body: Array(yaml.utf8), options: WriteOptions(fieldManager: "kubectl"))
        #expect(result.object[path: ["data", "k"]] == "v")
    }

    @Test func secret_withoutType_defaultsToOpaque() throws {
        let store = StoreFixture.makeStore()
        let created = try store.create(StoreKeys.secrets, namespace: "default",
                                       body: ["metadata": ["name": "s"], "stringData": .null, "data": ["k": "dg=="]])
        #expect(created["type"] == "Opaque")
    }

    @Test func apiError_statusObject_rendersLikeTheRealServer() {
        let error = APIError(code: 404, reason: "NotFound", message: #"configmaps "x" not found"#,
                             details: StatusDetails(name: "x", kind: "configmaps"))
        let status = error.statusObject()
        #expect(status["kind"] == "Status")
        #expect(status["status"] == "Failure")
        #expect(status["code"] == 404)
        #expect(status[path: ["details", "name"]] == "x")
    }

    @Test func create_withMalformedLabel_isInvalidWithLabelsCause() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.configMaps, namespace: "default",
                             body: StoreFixture.configMap("a", labels: ["app": "has spaces"]))
        }
        #expect(error?.code == 422)
        #expect(error?.details?.causes.first?.field == "metadata.labels")
    }

    @Test func concurrentCreates_getDistinctIncreasingResourceVersions() async throws {
        let store = StoreFixture.makeStore()
        let versions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try store.create(StoreKeys.configMaps, namespace: "default",
                                     body: StoreFixture.configMap("c\(index)")).objectResourceVersion
                }
            }
            var all: [Int64] = []
            for try await version in group { all.append(version) }
            return all
        }
        #expect(Set(versions).count == 64)
        #expect(versions.max().map(String.init) == store.currentResourceVersion)
        #expect(store.statistics.objectCount == 64 + ObjectStore.initialNamespaces.count)
    }

    @Test func update_carryingTheUIDOfAnEarlierIncarnation_failsWithConflict() throws {
        let store = StoreFixture.makeStore()
        let original = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        _ = try store.delete(StoreKeys.configMaps, namespace: "default", name: "a")
        let recreated = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        var stale = original
        stale[path: ["metadata", "resourceVersion"]] = recreated[path: ["metadata", "resourceVersion"]]
        stale["data"] = ["k": "v"]
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: stale)
        }
        #expect(error?.code == 409)
        #expect(error?.message.contains("Precondition failed: UID") == true)
    }

    @Test func deployment_whoseSelectorMissesTheTemplateLabels_isInvalid() {
        let store = StoreFixture.makeStore()
        var body = StoreFixture.deployment("web")
        body[path: ["spec", "selector", "matchLabels"]] = ["app": "other"]
        let error = #expect(throws: APIError.self) { try store.create(StoreKeys.deployments, namespace: "default", body: body) }
        #expect(error?.code == 422)
        #expect(error?.details?.causes.map(\.field) == ["spec.template.metadata.labels"])
    }

    @Test func deployment_withoutContainerImage_isInvalid_onUpdateToo() throws {
        let store = StoreFixture.makeStore()
        var body = StoreFixture.deployment("web")
        _ = try store.create(StoreKeys.deployments, namespace: "default", body: body)
        body[path: ["spec", "template", "spec", "containers"]] = [["name": "app"]]
        let error = #expect(throws: APIError.self) {
            try store.update(StoreKeys.deployments, namespace: "default", name: "web", body: body)
        }
        #expect(error?.details?.causes.map(\.field) == ["spec.template.spec.containers[0].image"])
    }

    @Test func secret_withDataThatIsNotBase64_isInvalid() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.create(StoreKeys.secrets, namespace: "default", body: ["metadata": ["name": "s"], "data": ["k": "not base64!"]])
        }
        #expect(error?.code == 422)
        #expect(error?.details?.causes.first?.field == "data[k]")
    }
}
