import DevAPIServer
import JSON
import Testing

@Suite("HTTP resource verbs")
struct HTTPResourceTests {
    @Test func httpServer_createGetListDelete_roundTripsOverOneKeepAliveConnection() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let created = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("a"))
                #expect(created.status == 201)
                #expect(created.json[path: ["metadata", "uid"]].stringValue?.isEmpty == false)

                let fetched = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps/a")
                #expect(fetched.status == 200)
                #expect(fetched.json[path: ["data", "k"]] == "v")

                let list = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps")
                #expect(list.json["kind"] == "ConfigMapList")
                #expect(list.json["items"].arrayValue?.map { $0[path: ["metadata", "name"]] } == ["a"])
                #expect(list.json[path: ["metadata", "resourceVersion"]].stringValue != nil)

                let deleted = try await connection.request(.DELETE, "/api/v1/namespaces/default/configmaps/a")
                #expect(deleted.status == 200)
                let gone = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps/a")
                #expect(gone.status == 404)
                #expect(gone.json["reason"] == "NotFound")
                #expect(gone.json["kind"] == "Status")
            }
        }
    }

    @Test func httpServer_whenCreatingAnExistingObject_answers409AlreadyExists() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("dup"))
                let again = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("dup"))
                #expect(again.status == 409)
                #expect(again.json["reason"] == "AlreadyExists")
            }
        }
    }

    @Test func httpServer_whenUpdatingWithAStaleResourceVersion_answers409Conflict() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                var object = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("c")).json
                object["data"] = ["k": "second"]
                let first = try await connection.request(.PUT, "/api/v1/namespaces/default/configmaps/c", json: object)
                #expect(first.status == 200)
                object["data"] = ["k": "third"]
                let stale = try await connection.request(.PUT, "/api/v1/namespaces/default/configmaps/c", json: object)
                #expect(stale.status == 409)
                #expect(stale.json["reason"] == "Conflict")
            }
        }
    }

    @Test func httpServer_mergeAndJSONPatches_changeTheStoredObject() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("p"))
                let merged = try await connection.request(.PATCH, "/api/v1/namespaces/default/configmaps/p",
                                                          json: ["data": ["m": "1"]], contentType: "application/merge-patch+json")
                #expect(merged.status == 200)
                #expect(merged.json["data"] == ["k": "v", "m": "1"])
                let patched = try await connection.request(.PATCH, "/api/v1/namespaces/default/configmaps/p",
                                                           json: [["op": "remove", "path": "/data/k"]], contentType: "application/json-patch+json")
                #expect(patched.json["data"] == ["m": "1"])
            }
        }
    }

    @Test func httpServer_serverSideApply_createsThenReportsConflictsForAnotherManager() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let path = "/api/v1/namespaces/default/configmaps/ssa"
                let first = try await connection.request(.PATCH, path + "?fieldManager=alpha",
                                                         json: configMap("ssa", data: ["k": "alpha"]), contentType: "application/apply-patch+yaml")
                #expect(first.status == 201)
                let conflicting = try await connection.request(.PATCH, path + "?fieldManager=beta",
                                                               json: configMap("ssa", data: ["k": "beta"]), contentType: "application/apply-patch+yaml")
                #expect(conflicting.status == 409)
                let forced = try await connection.request(.PATCH, path + "?fieldManager=beta&force=true",
                                                          json: configMap("ssa", data: ["k": "beta"]), contentType: "application/apply-patch+yaml")
                #expect(forced.status == 200)
                #expect(forced.json[path: ["data", "k"]] == "beta")
            }
        }
    }

    @Test func httpServer_statusSubresource_writesOnlyStatus() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: widgetCRD)
                let widget: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 2]]
                var stored = try await connection.request(.POST, "/apis/example.com/v1/namespaces/default/widgets", json: widget).json
                stored["spec"] = ["size": 9]
                stored["status"] = ["conditions": [["type": "Ready", "status": "True"]]]
                let written = try await connection.request(.PUT, "/apis/example.com/v1/namespaces/default/widgets/w/status", json: stored)
                #expect(written.status == 200)
                #expect(written.json[path: ["spec", "size"]] == 2)
                #expect(written.json[path: ["status", "conditions"]][0]["status"] == "True")
            }
        }
    }

    @Test func httpServer_whenClientAsksForTable_rendersPrinterColumnsAndPartialObjectMetadataRows() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: widgetCRD)
                let widget: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 4]]
                _ = try await connection.request(.POST, "/apis/example.com/v1/namespaces/default/widgets", json: widget)
                let table = try await connection.request(.GET, "/apis/example.com/v1/namespaces/default/widgets", headers: [
                    ("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
                ]).json
                #expect(table["kind"] == "Table")
                #expect(table["apiVersion"] == "meta.k8s.io/v1")
                let names = table["columnDefinitions"].arrayValue?.compactMap { $0["name"].stringValue }
                #expect(names == ["Name", "Size", "Ready", "Age"])
                let row = table["rows"][0]
                #expect(row["cells"][0] == "w")
                #expect(row["cells"][1] == 4)
                #expect(row[path: ["object", "kind"]] == "PartialObjectMetadata")
                #expect(row[path: ["object", "metadata", "name"]] == "w")
            }
        }
    }

    @Test func httpServer_deleteWithBackgroundPropagation_collectsOwnedChildren() async throws {
        try await withDevServer { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let owner = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("owner")).json
                var child = configMap("child")
                child[path: ["metadata", "ownerReferences"]] = [[
                    "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner[path: ["metadata", "uid"]],
                ]]
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: child)
                let deleted = try await connection.request(.DELETE, "/api/v1/namespaces/default/configmaps/owner",
                                                           json: ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"])
                #expect(deleted.status == 200)
                let list = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps")
                #expect(list.json["items"].arrayValue?.isEmpty == true)
            }
        }
    }
}
