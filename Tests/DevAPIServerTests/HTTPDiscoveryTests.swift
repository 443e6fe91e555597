import DevAPIServer
import JSON
import Testing

@Suite("HTTP discovery and OpenAPI")
struct HTTPDiscoveryTests {
    @Test func discovery_listsBuiltInGroupsAndResources() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let api = try await connection.request(.GET, "/api").json
                #expect(api["versions"] == ["v1"])
                let core = try await connection.request(.GET, "/api/v1").json
                let names = Set(core["resources"].arrayValue?.compactMap { $0["name"].stringValue } ?? [])
                #expect(names.isSuperset(of: ["namespaces", "configmaps", "secrets", "services", "namespaces/status"]))
                let groups = try await connection.request(.GET, "/apis").json
                let groupNames = Set(groups["groups"].arrayValue?.compactMap { $0["name"].stringValue } ?? [])
                #expect(groupNames.isSuperset(of: ["apps", "autoscaling", "policy", "apiextensions.k8s.io", "coordination.k8s.io"]))
                let apps = try await connection.request(.GET, "/apis/apps").json
                #expect(apps[path: ["preferredVersion", "groupVersion"]] == "apps/v1")
                let version = try await connection.request(.GET, "/version").json
                #expect(version["gitVersion"].stringValue?.hasPrefix("v1.32.") == true)
            }
        }
    }

    @Test func discovery_whenCRDIsCreated_servesItsGroupResourcesAndSchema() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                #expect(try await connection.request(.GET, "/apis/example.com/v1").status == 404)
                _ = try await connection.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: widgetCRD)
                let resources = try await connection.request(.GET, "/apis/example.com/v1").json
                let entries = resources["resources"].arrayValue ?? []
                #expect(entries.compactMap { $0["name"].stringValue } == ["widgets", "widgets/status"])
                #expect(entries.first?["shortNames"] == ["wd"])

                let root = try await connection.request(.GET, "/openapi/v3").json
                let relative = root[path: ["paths", "apis/example.com/v1", "serverRelativeURL"]].stringValue
                #expect(relative?.hasPrefix("/openapi/v3/apis/example.com/v1?hash=") == true)
                let document = try await connection.request(.GET, relative ?? "/").json
                let schema = document[path: ["components", "schemas", "com.example.v1.Widget"]]
                #expect(schema[path: ["properties", "spec", "properties", "size", "description"]] == "How big.")
                #expect(schema["x-kubernetes-group-version-kind"][0]["kind"] == "Widget")
                let patch = document[path: ["paths", "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}", "patch"]]
                let parameters = patch["parameters"].arrayValue?.compactMap { $0["name"].stringValue } ?? []
                #expect(parameters.contains("fieldValidation"))
            }
        }
    }

    @Test func health_endpointsAnswerOk() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                for path in ["/healthz", "/livez", "/readyz"] {
                    let response = try await connection.request(.GET, path)
                    #expect(response.status == 200)
                    #expect(response.text == "ok")
                }
            }
        }
    }
}
