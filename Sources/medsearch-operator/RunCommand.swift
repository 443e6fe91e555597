import ArgumentParser
import ControllerRuntime
import Foundation
import KubeAPI
import KubeConfig
import Logging
import PlatformController

/// `medsearch-operator run`: the operator, with kubebuilder's manager flags.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the operator: reconciles MedicalSearchPlatforms until SIGTERM, then drains and exits 0.")

    @OptionGroup var manager: ManagerArguments

    @Option(help: "Seconds before a platform that is not Ready is reconciled again.")
    var resyncInterval = 15

    func validate() throws {
        if resyncInterval < 1 { throw ValidationError("--resync-interval must be at least 1 second") }
    }

    func run() async throws {
        let options = manager.options
        RuntimeLogHandler.bootstrap(format: options.logFormat, level: options.logLevel)
        let logger = Logger(label: "medsearch-operator")
        let connection = try KubeConfigLoader.loadAutomatically(explicitPath: options.kubeconfig, context: options.context, namespace: nil)
        let kube = KubernetesAPIClient(connection: connection, logger: logger)
        let client = KubernetesResourceClient(client: kube)
        // The pod name (downward API) identifies this replica in the Lease and on Events.
        let identity = ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
        let runtime = OperatorRuntime(options: options, client: client, identity: identity, logger: logger)

        var platformOptions = PlatformOperatorOptions()
        platformOptions.namespaces = options.namespaces
        platformOptions.workers = options.maxConcurrentReconciles
        platformOptions.resyncInterval = .seconds(resyncInterval)
        platformOptions.instance = identity
        let platformOperator = PlatformOperator(
            client: client, statusWriter: KubernetesStatusWriter(client: kube), options: platformOptions,
            gate: runtime.gate, metrics: runtime.metrics, clock: runtime.clock, logger: logger)
        logger.info("starting", metadata: [
            "cluster": "\(connection.server)", "namespaces": "\(options.namespaces.isEmpty ? "all" : options.namespaces.joined(separator: ","))",
            "leaderElection": "\(options.leaderElection)",
        ])
        let group = runtime.serviceGroup(informers: platformOperator.informers, controllers: [platformOperator.controller], eventRecorder: platformOperator.events)
        try await group.run()
        logger.info("stopped")
    }
}
