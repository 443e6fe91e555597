import APIMachinery
import JSON
import Testing

@Suite struct ServerSideApplyTests {
    let t1 = "2026-11-25T10:00:00Z"
    let t2 = "2026-11-25T11:00:00Z"
    let configMapStrategy = PatchStrategy.builtIn(apiVersion: "v1", kind: "ConfigMap")

    func configMap(_ data: String, labels: String? = nil) -> JSONValue {
        var object = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"ns"},"data":"# + data + "}")
        if let labels { object[path: ["metadata", "labels"]] = json(labels) }
        return object
    }

    func entry(_ object: JSONValue, _ manager: String) -> JSONValue? {
        object[path: ["metadata", "managedFields"]].arrayValue?.first { $0["manager"].stringValue == manager }
    }

    @Test func apply_onCreate_recordsTheManagersFieldsInFieldsV1() throws {
        let result = try ServerSideApply.apply(configMap(#"{"key":"a"}"#, labels: #"{"app":"web"}"#), to: nil,
                                               manager: "kubectl", force: false, now: t1, strategy: configMapStrategy)
        #expect(result["data"] == json(#"{"key":"a"}"#))
        #expect(result[path: ["metadata", "managedFields"]] == json(#"""
        [{"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:key":{}},"f:metadata":{"f:labels":{"f:app":{}}}},
          "manager":"kubectl","operation":"Apply","time":"2026-11-25T10:00:00Z"}]
        """#))
    }

    @Test func apply_byASecondManagerWithADifferentValue_conflicts_andTheMessageNamesTheOwner() throws {
        let live = try ServerSideApply.apply(configMap(#"{"key":"a"}"#), to: nil, manager: "alice", force: false, now: t1, strategy: configMapStrategy)
        #expect {
            try ServerSideApply.apply(configMap(#"{"key":"b"}"#), to: live, manager: "bob", force: false, now: t2, strategy: configMapStrategy)
        } throws: { error in
            guard let error = error as? ApplyError, case .conflicts(let conflicts) = error else { return false }
            return conflicts == [ApplyConflict(manager: "alice", field: ".data.key", message: "conflict with \"alice\"")]
                && error.message == "Apply failed with 1 conflict: conflict with \"alice\": .data.key"
                && error.statusCode == 409
        }
    }

    @Test func apply_withSeveralConflicts_groupsThemByOwnerAsTheServerDoes() throws {
        let applied = try ServerSideApply.apply(configMap(#"{"a":"1","b":"1"}"#), to: nil, manager: "zed", force: false, now: t1, strategy: configMapStrategy)
        var edited = applied
        edited[path: ["data", "c"]] = "1"
        let updated = ServerSideApply.recordUpdate(old: applied, new: edited, manager: "kubectl-edit", subresource: nil, now: t2)
        #expect {
            try ServerSideApply.apply(configMap(#"{"a":"2","b":"2","c":"2"}"#), to: updated, manager: "me", force: false, now: t2, strategy: configMapStrategy)
        } throws: { error in
            guard let error = error as? ApplyError, case .conflicts(let conflicts) = error else { return false }
            return conflicts.count == 3 && error.message == """
                Apply failed with 3 conflicts: conflicts with "kubectl-edit" using v1:
                - .data.c
                conflicts with "zed":
                - .data.a
                - .data.b
                """
        }
    }

    @Test func apply_withTheSameValue_sharesOwnershipWithoutConflict() throws {
        let live = try ServerSideApply.apply(configMap(#"{"key":"a"}"#), to: nil, manager: "alice", force: false, now: t1, strategy: configMapStrategy)
        let shared = try ServerSideApply.apply(configMap(#"{"key":"a","mine":"b"}"#), to: live, manager: "bob", force: false, now: t2, strategy: configMapStrategy)
        #expect(entry(shared, "alice")?["fieldsV1"] == json(#"{"f:data":{"f:key":{}}}"#))
        #expect(entry(shared, "bob")?["fieldsV1"] == json(#"{"f:data":{"f:key":{},"f:mine":{}}}"#))
        // Alice stops applying key: Bob still owns it, so it stays.
        let after = try ServerSideApply.apply(configMap(#"{"other":"c"}"#), to: shared, manager: "alice", force: false, now: t2, strategy: configMapStrategy)
        #expect(after["data"] == json(#"{"key":"a","mine":"b","other":"c"}"#))
    }

    @Test func apply_withForce_transfersOwnershipOfConflictingFields() throws {
        let live = try ServerSideApply.apply(configMap(#"{"key":"a","keep":"k"}"#), to: nil, manager: "alice", force: false, now: t1, strategy: configMapStrategy)
        let forced = try ServerSideApply.apply(configMap(#"{"key":"b"}"#), to: live, manager: "bob", force: true, now: t2, strategy: configMapStrategy)
        #expect(forced["data"] == json(#"{"key":"b","keep":"k"}"#))
        #expect(entry(forced, "alice")?["fieldsV1"] == json(#"{"f:data":{"f:keep":{}}}"#))
        #expect(entry(forced, "bob")?["fieldsV1"] == json(#"{"f:data":{"f:key":{}}}"#))
    }

    @Test func apply_removesFieldsTheManagerNoLongerApplies_whenNobodyElseOwnsThem() throws {
        let live = try ServerSideApply.apply(configMap(#"{"key":"a","old":"x"}"#, labels: #"{"a":"1"}"#), to: nil, manager: "alice", force: false, now: t1, strategy: configMapStrategy)
        let after = try ServerSideApply.apply(configMap(#"{"key":"a"}"#), to: live, manager: "alice", force: false, now: t2, strategy: configMapStrategy)
        #expect(after["data"] == json(#"{"key":"a"}"#))
        // The whole labels map goes, not just its member, as on a real server.
        #expect(after[path: ["metadata", "labels"]] == .null)
        #expect(after[path: ["metadata", "name"]] == "cm")
        #expect(entry(after, "alice")?["time"] == .string(t2))
    }

    @Test func apply_keepsAParentAnotherManagerStillHasFieldsUnder() throws {
        let live = try ServerSideApply.apply(configMap(#"{"key":"a"}"#, labels: #"{"a":"1"}"#), to: nil, manager: "alice", force: false, now: t1, strategy: configMapStrategy)
        var edited = live
        edited[path: ["metadata", "labels", "b"]] = "2"
        let updated = ServerSideApply.recordUpdate(old: live, new: edited, manager: "bob", subresource: nil, now: t2)
        let after = try ServerSideApply.apply(configMap(#"{"key":"a"}"#), to: updated, manager: "alice", force: false, now: t2, strategy: configMapStrategy)
        #expect(after[path: ["metadata", "labels"]] == ["b": "2"])
    }

    @Test func apply_toAnObjectNobodyTracked_conflictsWithBeforeFirstApply() throws {
        let live = configMap(#"{"key":"a"}"#)
        #expect {
            try ServerSideApply.apply(configMap(#"{"key":"b"}"#), to: live, manager: "kubectl", force: false, now: t1, strategy: configMapStrategy)
        } throws: { error in
            (error as? ApplyError)?.message == "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.key"
        }
    }

    @Test func apply_rejectsAConfigurationWithoutKindOrWithManagedFields() {
        #expect(throws: ApplyError.invalid("kind must be set in the apply configuration")) {
            try ServerSideApply.apply(json(#"{"apiVersion":"v1"}"#), to: nil, manager: "m", force: false, now: t1, strategy: nil)
        }
        var withFields = configMap("{}")
        withFields[path: ["metadata", "managedFields"]] = [["manager": "x"]]
        #expect(throws: ApplyError.self) {
            try ServerSideApply.apply(withFields, to: nil, manager: "m", force: false, now: t1, strategy: nil)
        }
    }

    @Test func apply_toADeployment_mergesContainersByName_andOwnsThemAsKeyedItems() throws {
        let strategy = PatchStrategy.builtIn(apiVersion: "apps/v1", kind: "Deployment")
        func deployment(_ containers: String) -> JSONValue {
            json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":"# + containers + "}}}}")
        }
        let live = try ServerSideApply.apply(deployment(#"[{"name":"app","image":"a:1","ports":[{"containerPort":80}]}]"#), to: nil,
                                             manager: "operator", force: false, now: t1, strategy: strategy)
        #expect(entry(live, "operator")?["fieldsV1"] == json(#"""
        {"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},
          "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}
        """#))
        let both = try ServerSideApply.apply(deployment(#"[{"name":"sidecar","image":"s:1"}]"#), to: live,
                                             manager: "injector", force: false, now: t2, strategy: strategy)
        let names = both[path: ["spec", "template", "spec", "containers"]].arrayValue?.map { $0["name"] }
        #expect(names == ["app", "sidecar"])
        #expect {
            try ServerSideApply.apply(deployment(#"[{"name":"app","image":"a:2"}]"#), to: both, manager: "injector", force: false, now: t2, strategy: strategy)
        } throws: { error in
            (error as? ApplyError)?.message == "Apply failed with 1 conflict: conflict with \"operator\": .spec.template.spec.containers[name=\"app\"].image"
        }
        // The operator dropping its container leaves the injector's alone.
        let dropped = try ServerSideApply.apply(deployment("[]"), to: both, manager: "operator", force: false, now: t2, strategy: strategy)
        #expect(dropped[path: ["spec", "template", "spec", "containers"]].arrayValue?.map { $0["name"] } == ["sidecar"])
    }

    @Test func recordUpdate_givesChangedFieldsToTheUpdater_andTakesThemFromOthers() throws {
        let created = ServerSideApply.recordUpdate(old: nil, new: configMap(#"{"a":"1","b":"2"}"#), manager: "kubectl-create",
                                                   subresource: nil, now: t1)
        #expect(entry(created, "kubectl-create")?["operation"] == "Update")
        #expect(entry(created, "kubectl-create")?["fieldsV1"] == json(#"{"f:data":{"f:a":{},"f:b":{}}}"#))
        var edited = created
        edited[path: ["data", "a"]] = "changed"
        edited[path: ["data", "b"]] = .null
        let updated = ServerSideApply.recordUpdate(old: created, new: edited, manager: "editor", subresource: nil, now: t2)
        #expect(entry(updated, "kubectl-create") == nil)
        #expect(entry(updated, "editor")?["fieldsV1"] == json(#"{"f:data":{"f:a":{}}}"#))
        // An update that changes nothing leaves managedFields alone.
        let again = ServerSideApply.recordUpdate(old: updated, new: updated, manager: "noop", subresource: nil, now: t2)
        #expect(again[path: ["metadata", "managedFields"]] == updated[path: ["metadata", "managedFields"]])
        #expect {
            try ServerSideApply.apply(configMap(#"{"a":"mine"}"#), to: updated, manager: "kubectl", force: false, now: t2, strategy: configMapStrategy)
        } throws: { error in
            (error as? ApplyError)?.message == "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.a"
        }
    }

    @Test func recordUpdate_forTheStatusSubresource_keepsASeparateEntry() {
        let strategy = PatchStrategy.builtIn(apiVersion: "apps/v1", kind: "Deployment")
        let old = json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1}}"#)
        let withSpec = ServerSideApply.recordUpdate(old: nil, new: old, manager: "op", subresource: nil, now: t1, strategy: strategy)
        var new = withSpec
        new["status"] = ["readyReplicas": 1]
        let result = ServerSideApply.recordUpdate(old: withSpec, new: new, manager: "op", subresource: "status", now: t2, strategy: strategy)
        let entries = result[path: ["metadata", "managedFields"]].arrayValue ?? []
        #expect(entries.count == 2)
        #expect(entries.contains { $0["subresource"] == "status" && $0["fieldsV1"] == json(#"{"f:status":{"f:readyReplicas":{}}}"#) })
    }

    @Test func wouldChange_isFalseOnlyWhenTheApplyIsANoOp() throws {
        let applied = configMap(#"{"key":"a"}"#)
        let live = try ServerSideApply.apply(applied, to: nil, manager: "op", force: false, now: t1, strategy: configMapStrategy)
        #expect(!ServerSideApply.wouldChange(applied: applied, live: live, manager: "op", strategy: configMapStrategy))
        #expect(ServerSideApply.wouldChange(applied: configMap(#"{"key":"b"}"#), live: live, manager: "op", strategy: configMapStrategy))
        #expect(ServerSideApply.wouldChange(applied: configMap(#"{}"#), live: live, manager: "op", strategy: configMapStrategy))
        #expect(ServerSideApply.wouldChange(applied: applied, live: nil, manager: "op", strategy: configMapStrategy))
    }

    @Test func fieldSet_roundTripsThroughFieldsV1() {
        let fieldsV1 = json(#"{"f:metadata":{"f:finalizers":{"v:\"a\"":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:list":{"i:0":{}}}}"#)
        let set = FieldSet(fieldsV1: fieldsV1)
        #expect(set.paths.count == 4)
        #expect(set.contains([.field("spec"), .field("ports"), .key(["port": 80, "protocol": "TCP"])]))
        #expect(set.fieldsV1 == fieldsV1)
        #expect(set.description.contains(#".spec.ports[port=80,protocol="TCP"].port"#))
    }

    @Test func apply_toACustomResource_usesTheSchemasListTypes() throws {
        let schema = try StructuralSchema(json(#"""
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "pools":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                   "items":{"type":"object","properties":{"name":{"type":"string"},"size":{"type":"integer"}}}},
          "zones":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "args":{"type":"array","items":{"type":"string"}}}}}}
        """#))
        let strategy = PatchStrategy(schema: schema)
        func platform(_ spec: String) -> JSONValue {
            json(#"{"apiVersion":"med.example.com/v1","kind":"Platform","metadata":{"name":"p"},"spec":"# + spec + "}")
        }
        let live = try ServerSideApply.apply(platform(#"{"pools":[{"name":"a","size":1}],"zones":["x"],"args":["-v"]}"#),
                                             to: nil, manager: "alice", force: false, now: t1, strategy: strategy)
        let both = try ServerSideApply.apply(platform(#"{"pools":[{"name":"b","size":2}],"zones":["y"]}"#),
                                             to: live, manager: "bob", force: false, now: t2, strategy: strategy)
        #expect(both[path: ["spec", "pools"]] == json(#"[{"name":"a","size":1},{"name":"b","size":2}]"#))
        #expect(both[path: ["spec", "zones"]] == ["x", "y"])
        #expect(entry(both, "bob")?["fieldsV1"] == json(#"""
        {"f:spec":{"f:pools":{"k:{\"name\":\"b\"}":{".":{},"f:name":{},"f:size":{}}},"f:zones":{"v:\"y\"":{}}}}
        """#))
        // An atomic list belongs to one applier as a whole.
        #expect(throws: ApplyError.self) {
            try ServerSideApply.apply(platform(#"{"args":["-q"]}"#), to: both, manager: "bob", force: false, now: t2, strategy: strategy)
        }
    }

    @Test func recordUpdate_whenTheClientClearsManagedFields_resetsTracking() {
        let created = ServerSideApply.recordUpdate(old: nil, new: configMap(#"{"a":"1"}"#), manager: "m", subresource: nil, now: t1)
        var cleared = created
        cleared[path: ["metadata", "managedFields"]] = []
        let result = ServerSideApply.recordUpdate(old: created, new: cleared, manager: "m", subresource: nil, now: t2)
        #expect(result[path: ["metadata", "managedFields"]] == .null)
    }

    @Test func extract_returnsOnlyWhatTheManagerApplied() throws {
        let strategy = PatchStrategy.builtIn(apiVersion: "apps/v1", kind: "Deployment")
        let mine = json(#"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns","labels":{"app":"d"}},
         "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app","image":"a:1"}]}}}}
        """#)
        let live = try ServerSideApply.apply(mine, to: nil, manager: "op", force: false, now: t1, strategy: strategy)
        let theirs = json(#"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns","annotations":{"x":"y"}},
         "spec":{"template":{"spec":{"containers":[{"name":"side","image":"s:1"}]}}}}
        """#)
        let both = try ServerSideApply.apply(theirs, to: live, manager: "other", force: false, now: t2, strategy: strategy)
        #expect(ServerSideApply.extract(from: both, manager: "op") == mine)
        #expect(ServerSideApply.extract(from: both, manager: "nobody") == nil)
    }
}
