import DevAPIServer
import JSON
import Testing

@Suite("Workload simulation")
struct HTTPSimulationTests {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default"],
        "spec": [
            "replicas": 3, "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx"]]]],
        ],
    ]

    @Test func simulation_whenDeploymentIsCreated_reportsItAvailableForItsGeneration() async throws {
        try await withDevServer({ $0.simulateWorkloads = true; $0.simulationDelay = .milliseconds(10) }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let created = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments", json: Self.deployment).json
                let resourceVersion = created[path: ["metadata", "resourceVersion"]].stringValue ?? ""
                try await connection.send(.GET, "/apis/apps/v1/namespaces/default/deployments?watch=true&timeoutSeconds=30&resourceVersion=\(resourceVersion)")
                // Waits on events, not on time: the first MODIFIED carries the simulated status.
                let event = try await connection.nextEvent()
                #expect(event?["type"] == "MODIFIED")
                let status = event?[path: ["object", "status"]] ?? .null
                #expect(status["readyReplicas"] == 3)
                #expect(status["observedGeneration"] == created[path: ["metadata", "generation"]])
                let available = status["conditions"].arrayValue?.first { $0["type"] == "Available" }
                #expect(available?["status"] == "True")
            }
        }
    }

    @Test func simulation_whenOff_leavesDeploymentStatusAlone() async throws {
        try await withDevServer({ $0.simulateWorkloads = false }) { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments", json: Self.deployment)
                // With a watch ending at its timeout and no events, nothing wrote status.
                try await connection.send(.GET, "/apis/apps/v1/namespaces/default/deployments?watch=true&timeoutSeconds=1&resourceVersion=\(server.store.currentResourceVersion)")
                #expect(try await connection.nextLine() == nil)
                let fetched = try await connection.request(.GET, "/apis/apps/v1/namespaces/default/deployments/web").json
                #expect(fetched[path: ["status", "readyReplicas"]].isNull)
            }
        }
    }
}

@Suite("Workload simulation follows scaling")
struct HTTPSimulationScalingTests {
    @Test func simulation_whenTargetDeploymentIsScaled_hpaReportsTheNewReplicaCount() async throws {
        try await withDevServer({ $0.simulateWorkloads = true; $0.simulationDelay = .milliseconds(10) }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apps/v1/namespaces/default/deployments", json: HTTPSimulationTests.deployment)
                let hpa: JSONValue = [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
                    "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 1, "maxReplicas": 10],
                ]
                let created = try await connection.request(.POST, "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", json: hpa).json
                let resourceVersion = created[path: ["metadata", "resourceVersion"]].stringValue ?? ""
                try await HTTPTestConnection.with(port: port) { writer in
                    _ = try await writer.request(.PATCH, "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                                 json: ["spec": ["replicas": 7]], contentType: "application/merge-patch+json")
                }
                try await connection.send(.GET, "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers?watch=true&timeoutSeconds=30&resourceVersion=\(resourceVersion)")
                // Status may first report 3 (before the scale); wait for the event that reports 7.
                var current: JSONValue = .null
                while current != 7, let event = try await connection.nextEvent() {
                    current = event[path: ["object", "status", "currentReplicas"]]
                }
                #expect(current == 7)
            }
        }
    }
}
