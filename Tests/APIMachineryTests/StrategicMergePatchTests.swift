import APIMachinery
import JSON
import Testing

@Suite struct StrategicMergePatchTests {
    let deployment = PatchStrategy.builtIn(apiVersion: "apps/v1", kind: "Deployment")!

    let live = json(#"""
    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["a","b"],"labels":{"app":"web"}},
     "spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
      "template":{"spec":{"tolerations":[{"key":"x"}],"containers":[
        {"name":"app","image":"app:1","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
        {"name":"sidecar","image":"side:1"}]}}}}
    """#)

    func patched(_ patch: String) throws -> JSONValue {
        try StrategicMergePatch.apply(json(patch), to: live, strategy: deployment)
    }

    @Test func strategicMerge_mergesContainersByName_insteadOfReplacingTheList() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"},{"name":"new","image":"n"}]}}}}"#)
        let containers = result[path: ["spec", "template", "spec", "containers"]].arrayValue ?? []
        #expect(containers.map { $0["name"] } == ["app", "sidecar", "new"])
        #expect(containers[0]["image"] == "app:2")
        #expect(containers[0]["ports"] == json(#"[{"containerPort":80}]"#))
        #expect(containers[0]["env"].arrayValue?.count == 2)
    }

    @Test func strategicMerge_mergesNestedKeyedListsByTheirOwnKeys() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}],"ports":[{"containerPort":443}]}]}}}}"#)
        let app = result[path: ["spec", "template", "spec", "containers"]][0]
        #expect(app["env"] == json(#"[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]"#))
        #expect(app["ports"] == json(#"[{"containerPort":80},{"containerPort":443}]"#))
    }

    @Test func strategicMerge_patchDeleteDirective_removesTheKeyedItem() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#)
        #expect(result[path: ["spec", "template", "spec", "containers"]].arrayValue?.map { $0["name"] } == ["app"])
    }

    @Test func strategicMerge_patchReplaceDirective_replacesAMapOrAList() throws {
        let map = try patched(#"{"metadata":{"labels":{"$patch":"replace","tier":"front"}}}"#)
        #expect(map[path: ["metadata", "labels"]] == json(#"{"tier":"front"}"#))
        let list = try patched(#"{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o"}]}}}}"#)
        #expect(list[path: ["spec", "template", "spec", "containers"]] == json(#"[{"name":"only","image":"o"}]"#))
        let gone = try patched(#"{"spec":{"strategy":{"$patch":"delete"}}}"#)
        #expect(gone[path: ["spec", "strategy"]] == .null)
    }

    @Test func strategicMerge_retainKeys_clearsFieldsNotListed() throws {
        let result = try patched(#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#)
        #expect(result[path: ["spec", "strategy"]] == json(#"{"type":"Recreate"}"#))
    }

    @Test func strategicMerge_primitiveSetLists_mergeAndHonourDeleteFromPrimitiveList() throws {
        let result = try patched(#"{"metadata":{"finalizers":["c","a"],"$deleteFromPrimitiveList/finalizers":["b"]}}"#)
        #expect(result[path: ["metadata", "finalizers"]] == ["a", "c"])
    }

    @Test func strategicMerge_setElementOrder_ordersTheMergedList() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],"containers":[{"name":"app","image":"app:3"}]}}}}"#)
        let containers = result[path: ["spec", "template", "spec", "containers"]].arrayValue ?? []
        #expect(containers.map { $0["name"] } == ["sidecar", "app"])
        #expect(containers[1]["image"] == "app:3")
    }

    @Test func strategicMerge_listsWithoutAStrategy_areReplaced_andNullDeletes() throws {
        let result = try patched(#"{"spec":{"replicas":null,"template":{"spec":{"tolerations":[{"key":"y"}]}}}}"#)
        #expect(result[path: ["spec", "template", "spec", "tolerations"]] == json(#"[{"key":"y"}]"#))
        #expect(result[path: ["spec", "replicas"]] == .null)
        #expect(result[path: ["spec", "strategy", "type"]] == "RollingUpdate")
    }

    @Test func strategicMerge_serviceOwnerReferences_mergeByUID() throws {
        let service = PatchStrategy.builtIn(apiVersion: "v1", kind: "Service")!
        let live = json(#"{"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]},"spec":{"ports":[{"port":80,"name":"http"}]}}"#)
        let result = try StrategicMergePatch.apply(
            json(#"{"metadata":{"ownerReferences":[{"uid":"2","name":"b"}]},"spec":{"ports":[{"port":80,"targetPort":8080}]}}"#),
            to: live, strategy: service)
        #expect(result[path: ["metadata", "ownerReferences"]].arrayValue?.count == 2)
        #expect(result[path: ["spec", "ports"]] == json(#"[{"port":80,"name":"http","targetPort":8080}]"#))
    }

    @Test func strategicMerge_itemWithoutItsMergeKey_isABadRequest() {
        #expect {
            try patched(#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#)
        } throws: { error in
            (error as? PatchError)?.message == #"map: {"image":"x"} does not contain declared merge key: name"#
        }
    }

    @Test func strategicMerge_podDisruptionBudgetSelector_isReplacedNotMerged() throws {
        let pdb = PatchStrategy.builtIn(apiVersion: "policy/v1", kind: "PodDisruptionBudget")!
        let live = json(#"{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web","tier":"front"}}}}"#)
        let result = try StrategicMergePatch.apply(json(#"{"spec":{"selector":{"matchLabels":{"app":"api"}}}}"#), to: live, strategy: pdb)
        #expect(result[path: ["spec", "selector"]] == json(#"{"matchLabels":{"app":"api"}}"#))
        #expect(result[path: ["spec", "minAvailable"]] == 1)
    }

    @Test func strategicMerge_unknownPatchDirective_isABadRequest() {
        #expect {
            try patched(#"{"metadata":{"labels":{"$patch":"explode"}}}"#)
        } throws: { error in
            (error as? PatchError)?.statusCode == 400
        }
    }
}
