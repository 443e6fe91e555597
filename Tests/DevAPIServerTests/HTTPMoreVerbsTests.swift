import DevAPIServer
import JSON
import Testing

@Suite("HTTP collection verbs, YAML bodies and dry run")
struct HTTPMoreVerbsTests {
    @Test func httpServer_whenBodyIsYAML_createsTheObject() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let yaml = """
                    apiVersion: v1
                    kind: ConfigMap
                    metadata:
                      name: from-yaml
                    data:
                      greeting: hello
                    """
                let created = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps",
                                                           headers: [("Content-Type", "application/yaml")], body: Array(yaml.utf8))
                #expect(created.status == 201)
                #expect(created.json[path: ["data", "greeting"]] == "hello")
                #expect(created.json[path: ["metadata", "namespace"]] == "default")
            }
        }
    }

    @Test func httpServer_deleteCollectionWithLabelSelector_deletesOnlyMatchingObjects() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                for (name, team) in [("a", "red"), ("b", "red"), ("c", "blue")] {
                    var object = configMap(name)
                    object[path: ["metadata", "labels"]] = ["team": .string(team)]
                    _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: object)
                }
                let deleted = try await connection.request(.DELETE, "/api/v1/namespaces/default/configmaps?labelSelector=team%3Dred")
                #expect(deleted.status == 200)
                let left = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps").json
                #expect(left["items"].arrayValue?.compactMap { $0[path: ["metadata", "name"]].stringValue } == ["c"])
            }
        }
    }

    @Test func httpServer_dryRunCreate_answersTheObjectButStoresNothing() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let dry = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps?dryRun=All", json: configMap("dry"))
                #expect(dry.status == 201)
                #expect(dry.json[path: ["metadata", "name"]] == "dry")
                #expect(try await connection.request(.GET, "/api/v1/namespaces/default/configmaps/dry").status == 404)
                let unsupported = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps?dryRun=Some", json: configMap("dry"))
                #expect(unsupported.status == 400)
            }
        }
    }

    @Test func httpServer_listWithLimit_pagesWithContinueTokens() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                for index in 0..<5 { _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("page-\(index)")) }
                var names: [String] = []
                var token = ""
                repeat {
                    let page = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps?limit=2" + (token.isEmpty ? "" : "&continue=\(token)")).json
                    let items = page["items"].arrayValue ?? []
                    #expect(items.count <= 2)
                    names += items.compactMap { $0[path: ["metadata", "name"]].stringValue }
                    token = page[path: ["metadata", "continue"]].stringValue ?? ""
                } while !token.isEmpty
                #expect(names == (0..<5).map { "page-\($0)" })
            }
        }
    }

    @Test func simulation_whenHPAMinimumExceedsTheDeployment_scalesTheDeploymentUpAsTheHPAControllerWould() async throws {
        try await withDevServer({ $0.simulateWorkloads = true; $0.simulationDelay = .milliseconds(10) }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let created = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments",
                                                           json: HTTPSimulationTests.deployment).json
                let resourceVersion = created[path: ["metadata", "resourceVersion"]].stringValue ?? ""
                let hpa: JSONValue = [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
                    "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 5, "maxReplicas": 10],
                ]
                _ = try await connection.request(.POST, "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", json: hpa)
                try await connection.send(.GET, "/apis/apps/v1/namespaces/default/deployments?watch=true&timeoutSeconds=30&resourceVersion=\(resourceVersion)")
                var scaled: JSONValue?
                while let event = try await connection.nextEvent() {
                    let object = event["object"]
                    if object[path: ["spec", "replicas"]] == 5 && object[path: ["status", "readyReplicas"]] == 5 { scaled = object; break }
                }
                let deployment = try #require(scaled)
                let managers = deployment[path: ["metadata", "managedFields"]].arrayValue?.compactMap { $0["manager"].stringValue } ?? []
                #expect(managers.contains("kube-controller-manager"))
            }
        }
    }

    @Test func simulation_whenHPATargetsADeployment_reportsItsReplicasClampedToTheBounds() async throws {
        try await withDevServer({ $0.simulateWorkloads = true; $0.simulationDelay = .milliseconds(10) }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments", json: HTTPSimulationTests.deployment)
                let hpa: JSONValue = [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
                    "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 5, "maxReplicas": 10],
                ]
                let created = try await connection.request(.POST, "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", json: hpa).json
                let resourceVersion = created[path: ["metadata", "resourceVersion"]].stringValue ?? ""
                try await connection.send(.GET, "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers?watch=true&timeoutSeconds=30&resourceVersion=\(resourceVersion)")
                // The deployment starts at 3; the HPA scales it to its minimum of 5 and then
                // reports the target's count, as the real controller converges.
                var settled: JSONValue?
                while let event = try await connection.nextEvent() {
                    #expect(event["type"] == "MODIFIED")
                    #expect(event[path: ["object", "status", "desiredReplicas"]] == 5)
                    if event[path: ["object", "status", "currentReplicas"]] == 5 { settled = event; break }
                }
                #expect(settled != nil)
            }
        }
    }
}

@Suite("HTTP delete responses")
struct HTTPDeleteResponseTests {
    @Test func delete_whenFinalizersHoldTheObject_answers200WithDeletionTimestamp() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                var held = configMap("held")
                held[path: ["metadata", "finalizers"]] = ["example.com/hold"]
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: held)
                let response = try await connection.request(.DELETE, "/api/v1/namespaces/default/configmaps/held",
                                                            json: ["propagationPolicy": "Foreground"])
                #expect(response.status == 200)
                #expect(response.json[path: ["metadata", "deletionTimestamp"]].stringValue != nil)
                let stillThere = try await connection.request(.GET, "/api/v1/namespaces/default/configmaps/held")
                #expect(stillThere.status == 200)
            }
        }
    }

    @Test func delete_whenPropagationPolicyIsUnknown_answers422() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("p"))
                let response = try await connection.request(.DELETE, "/api/v1/namespaces/default/configmaps/p?propagationPolicy=Sideways")
                #expect(response.status == 422)
                #expect(response.json["reason"] == "Invalid")
            }
        }
    }
}

@Suite("HTTP scale subresource")
struct HTTPScaleTests {
    @Test func scale_readsAndWritesTheDeploymentsReplicas() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments", json: HTTPSimulationTests.deployment)
                let scale = try await connection.request(.GET, "/apis/apps/v1/namespaces/default/deployments/web/scale").json
                #expect(scale["kind"] == "Scale")
                #expect(scale[path: ["spec", "replicas"]] == 3)
                #expect(scale[path: ["status", "selector"]] == "app=web")
                let patched = try await connection.request(.PATCH, "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                                           json: ["spec": ["replicas": 1]], contentType: "application/merge-patch+json")
                #expect(patched.status == 200)
                #expect(patched.json[path: ["spec", "replicas"]] == 1)
                let deployment = try await connection.request(.GET, "/apis/apps/v1/namespaces/default/deployments/web").json
                #expect(deployment[path: ["spec", "replicas"]] == 1)
                let negative = try await connection.request(.PATCH, "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                                            json: ["spec": ["replicas": -1]], contentType: "application/merge-patch+json")
                #expect(negative.status == 422)
            }
        }
    }
}
