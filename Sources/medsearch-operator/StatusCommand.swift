import ArgumentParser
import ControllerRuntime
import Foundation
import KubeAPI
import KubeConfig
import Logging
import PlatformController

/// `medsearch-operator status NAME`: the on-call tree of one platform.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Shows a MedicalSearchPlatform's conditions, services and dependencies as a tree.")

    @Argument(help: "Name of the MedicalSearchPlatform.")
    var name: String

    @Option(name: .shortAndLong, help: "Namespace (default: the kubeconfig context's).")
    var namespace: String?

    @Option(help: "Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Flag(inversion: .prefixedNo, help: "Color statuses (default: only when stdout is a terminal).")
    var color: Bool?

    func run() async throws {
        var logger = Logger(label: "medsearch-operator.status")
        logger.logLevel = .error
        let connection = try KubeConfigLoader.loadAutomatically(explicitPath: kubeconfig, context: context, namespace: namespace)
        let namespace = self.namespace ?? connection.namespace
        let client = KubernetesResourceClient(client: KubernetesAPIClient(connection: connection, logger: logger))
        let tree: StatusTree
        do {
            tree = try await StatusTree.fetch(client: client, namespace: namespace, name: name, colors: color ?? (isatty(STDOUT_FILENO) != 0))
        } catch let error as ResourceClientError where error.isNotFound {
            throw InputError("MedicalSearchPlatform \(namespace)/\(name) not found (\(error.message))")
        }
        print(tree.render(), terminator: "")
    }
}
