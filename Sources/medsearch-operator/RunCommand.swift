import ArgumentParser
import ControllerRuntime
import DataTier
import Foundation
import HTTPTransport
import KubeAPI
import KubeConfig
import Logging
import PlatformController
import Probes

/// `medsearch-operator run`: the operator, with kubebuilder's manager flags.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the operator: reconciles MedicalSearchPlatforms until SIGTERM, then drains and exits 0.")

    @OptionGroup var manager: ManagerArguments

    @Option(help: "Seconds before a platform that is not Ready is reconciled again.")
    var resyncInterval = 15

    @OptionGroup(title: "AWS data tier") var aws: AWSDataTierArguments

    func validate() throws {
        if resyncInterval < 1 { throw ValidationError("--resync-interval must be at least 1 second") }
        try aws.validate()
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
        if let settings = try aws.settings() {
            do {
                platformOptions.dataTier = try settings.makeReconciler(transport: HTTPTransport(), logger: logger)
            } catch {
                throw ValidationError("the AWS data tier cannot be configured: \(error) (or run with --no-aws-data-tier)")
            }
        } else {
            logger.notice("AWS data tier off (no --aws-subnet-ids, or --no-aws-data-tier): database, cache and storage report AWSTierNotConfigured")
        }
        let platformOperator = PlatformOperator(
            client: client, statusWriter: KubernetesStatusWriter(client: kube), options: platformOptions,
            gate: runtime.gate, metrics: runtime.metrics, clock: runtime.clock, logger: logger)
        logger.info("starting", metadata: [
            "cluster": "\(connection.server)", "namespaces": "\(options.namespaces.isEmpty ? "all" : options.namespaces.joined(separator: ","))",
            "leaderElection": "\(options.leaderElection)",
            "awsDataTier": "\(aws.enabled ? "on" : "off")",
        ])
        let group = runtime.serviceGroup(informers: platformOperator.informers, controllers: [platformOperator.controller], eventRecorder: platformOperator.events)
        try await group.run()
        logger.info("stopped")
    }
}

/// The `run` flags that configure the AWS data tier. Endpoints come from the standard
/// `AWS_ENDPOINT_URL*` variables and credentials from the standard chain, not from flags.
struct AWSDataTierArguments: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Manage each platform's AWS data tier (RDS, ElastiCache, S3, Secrets Manager, CloudWatch). Default: on when --aws-subnet-ids is given; --no-aws-data-tier forces it off.")
    var awsDataTier: Bool?

    @Option(help: "AWS region; default AWS_REGION or the profile's region.")
    var awsRegion: String?

    @Option(help: "Comma-separated subnet ids for the RDS and ElastiCache subnet groups (at least two zones). Required with the data tier.")
    var awsSubnetIds: String?

    @Option(help: "Comma-separated VPC security group ids for RDS and ElastiCache. Default the VPC's default group.")
    var awsSecurityGroupIds: String?

    @Option(help: "KMS key id or ARN for storage, S3 and secrets encryption. Default the AWS-managed keys.")
    var awsKmsKeyId: String?

    @Option(help: "Seconds between data-plane health probes (PostgreSQL, Redis, S3) of a ready data tier; 0 disables them.")
    var probeInterval = 300

    var enabled: Bool { awsDataTier ?? !Self.list(awsSubnetIds).isEmpty }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        if probeInterval < 0 { throw ValidationError("--probe-interval must be 0 (off) or a number of seconds") }
        if awsDataTier == true && Self.list(awsSubnetIds).isEmpty {
            throw ValidationError("--aws-data-tier needs --aws-subnet-ids (subnets in at least two zones)")
        }
    }

    /// Nil when the data tier is switched off.
    func settings() throws -> AWSDataTierSettings? {
        guard enabled else { return nil }
        var settings = AWSDataTierSettings(
            region: awsRegion,
            network: DataTierNetwork(subnetIds: Self.list(awsSubnetIds), securityGroupIds: Self.list(awsSecurityGroupIds), kmsKeyId: awsKmsKeyId))
        settings.probeInterval = probeInterval == 0 ? nil : .seconds(probeInterval)
        do {
            settings.probeEndpointOverrides = try ProbeEndpointOverrides.fromEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(ProbeEndpointOverrides.environmentVariable): \(error)")
        }
        return settings
    }
}
