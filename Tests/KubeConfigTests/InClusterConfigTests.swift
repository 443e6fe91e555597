import Foundation
import Testing
@testable import KubeConfig

@Suite struct InClusterConfigTests {
    let serviceAccount = "var/run/secrets/kubernetes.io/serviceaccount"

    @Test func inCluster_readsServiceAccountFilesUnderRoot() async throws {
        let root = try TemporaryDirectory()
        try root.write("\(serviceAccount)/token", "sa-token-1\n")
        try root.write("\(serviceAccount)/ca.crt", "CLUSTER CA")
        try root.write("\(serviceAccount)/namespace", "medsearch\n")
        let connection = try InClusterConfig.load(
            environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], root: root.path)
        #expect(connection.server == "https://127.0.0.1:443")
        #expect(connection.certificateAuthorityPEM == Array("CLUSTER CA".utf8))
        #expect(connection.namespace == "medsearch")
        #expect(connection.origin == "in-cluster")
        #expect(try await connection.credentials.credentials().authorizationHeader == "Bearer sa-token-1")

        try root.write("\(serviceAccount)/token", "sa-token-2\n")
        #expect(try await connection.credentials.credentials().authorizationHeader == "Bearer sa-token-2")
    }

    @Test func inCluster_bracketsIPv6HostsAndDefaultsNamespaceAndCA() throws {
        let root = try TemporaryDirectory()
        try root.write("\(serviceAccount)/token", "t")
        let connection = try InClusterConfig.load(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"], root: root.path)
        #expect(connection.server == "https://[fd00::1]:6443")
        #expect(connection.namespace == "default")
        #expect(connection.certificateAuthorityPEM == nil)
    }

    @Test func inCluster_withoutServiceEnvironment_explainsWhy() {
        #expect {
            try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1"], root: "/nonexistent")
        } throws: { error in
            (error as? KubeConfigError)?.description
                == "kubeconfig: KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: not running in a cluster: both environment variables must be set"
        }
    }

    @Test func inCluster_withoutToken_namesTheTokenFile() throws {
        let root = try TemporaryDirectory()
        #expect {
            try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], root: root.path)
        } throws: { error in
            (error as? KubeConfigError)?.file == "\(root.path)/\(serviceAccount)/token"
        }
    }

    @Test func automaticLoading_prefersInClusterOnlyWhenNoKubeconfigExists() throws {
        let root = try TemporaryDirectory()
        try root.write("\(serviceAccount)/token", "t")
        var environment = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "443", "HOME": "\(root.path)/home"]
        let inCluster = try KubeConfigLoader.loadAutomatically(explicitPath: nil, context: nil, namespace: "ns", environment: environment, root: root.path)
        #expect(inCluster.origin == "in-cluster")
        #expect(inCluster.namespace == "ns")

        try root.write("home/.kube/config", singleContextConfig(user: "token: t", cluster: "server: https://127.0.0.1:9"))
        let fromFile = try KubeConfigLoader.loadAutomatically(explicitPath: nil, context: nil, namespace: nil, environment: environment, root: root.path)
        #expect(fromFile.server == "https://127.0.0.1:9")
        environment["HOME"] = "/nonexistent"
        #expect(throws: KubeConfigError.self) {
            try KubeConfigLoader.loadAutomatically(explicitPath: nil, context: "named", namespace: nil, environment: environment, root: root.path)
        }
    }
}
