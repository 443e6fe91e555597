import AWS
import ControllerRuntime
import DataTier
import Foundation
import HTTPTransport
import JSON
import Logging
import PlatformAPI
import Probes
import TLS

/// How the operator reaches its AWS data tier: region, network placement and probing.
///
/// Endpoints come from the standard `AWS_ENDPOINT_URL*` variables and credentials from the
/// standard chain (environment, shared profile, web identity, instance metadata), so the
/// same settings work against AWS and against moto.
public struct AWSDataTierSettings: Sendable {
    /// Nil: `AWS_REGION` / the profile's region.
    public var region: String?
    public var network: DataTierNetwork
    /// How often a ready data tier is probed (PostgreSQL, Redis, S3). Nil disables the
    /// data-plane probes. Default 5 minutes.
    public var probeInterval: Duration? = .seconds(300)
    /// Trust for the PostgreSQL and Redis probes. Default the system CAs (RDS and
    /// ElastiCache certificates chain to Amazon's roots once their bundle is installed).
    public var probeTLS: ProbeTLSMode = .required(ClientTLSConfiguration())
    /// Where probes really connect (`MEDSEARCH_PROBE_ENDPOINT_OVERRIDES`); demos and tests only.
    public var probeEndpointOverrides = ProbeEndpointOverrides()
    /// Replaces the standard probes (demos that point them at stand-in servers). Default nil.
    public var customProbes: DataTierProbeFactory?
    /// How long to wait between passes while AWS creates or modifies something. Default 30 s.
    public var settleInterval: Duration = .seconds(30)
    /// How often the shared AWS describe cache refreshes. Default 30 s.
    public var observeInterval: Duration = .seconds(30)

    public init(region: String? = nil, network: DataTierNetwork) {
        self.region = region
        self.network = network
    }

    /// The data-tier reconciler these settings describe, with its one shared observer.
    /// - Throws: `AWSError` when no region can be resolved or credentials are misconfigured.
    public func makeReconciler(
        environment: [String: String] = ProcessInfo.processInfo.environment, transport: HTTPTransport, logger: Logger
    ) throws -> DataTierReconciler {
        let client = try AWSClient.fromEnvironment(region: region, environment: environment, transport: transport, logger: logger)
        let aws = AWSServices(client: client)
        let observer = DataTierObserver(rds: aws.rds, elastiCache: aws.elastiCache, interval: observeInterval)
        let probes = probeInterval.map { _ in
            customProbes ?? DataTierProbes.standard(s3: aws.s3, databaseTLS: probeTLS, cacheTLS: probeTLS, endpointOverrides: probeEndpointOverrides)
        }
        return DataTierReconciler(
            aws: aws, observer: observer, network: network, probes: probes, settleInterval: settleInterval,
            healthInterval: probeInterval ?? .seconds(300), logger: logger)
    }
}

/// Deletion of a platform's AWS data tier, per its deletion policies; the finalizer stays
/// until the data tier says it is done.
///
/// Guarantees: the cleanup's conditions (e.g. `DatabaseReady=False Deleting`,
/// `DeletionNotConfirmed`) are written to the platform's status while it is pending, so
/// `kubectl get msp` shows why a deletion waits.
/// Caveats: the tier decides the deletion policies, so a platform whose ServiceTier was
/// deleted first waits (reported in `Ready`) until the tier exists again.
public struct AWSDataTierCleanup: PlatformCleanup {
    public let dataTier: DataTierReconciler
    public let tiers: ObjectCache<CompactJSON>
    public let statusWriter: any PlatformStatusWriter
    let now: @Sendable () -> Date

    public init(dataTier: DataTierReconciler, tiers: ObjectCache<CompactJSON>, statusWriter: any PlatformStatusWriter, now: @escaping @Sendable () -> Date = { Date() }) {
        self.dataTier = dataTier
        self.tiers = tiers
        self.statusWriter = statusWriter
        self.now = now
    }

    public func cleanUp(platform object: JSONValue, context: ReconcileContext) async throws -> Requeue {
        let platform: MedicalSearchPlatform
        do {
            platform = try MedicalSearchPlatform.decode(object)
        } catch {
            // A spec that never decoded never provisioned anything in AWS.
            context.logger.info("spec is invalid; nothing in AWS was provisioned for it")
            return .done
        }
        let previous = platform.status ?? PlatformStatus()
        let namespace = platform.namespace
        guard let tierObject = tiers.get(ObjectKey(name: platform.spec.tierName))?.payload.value,
              let tier = try? ServiceTier.decode(tierObject)
        else {
            var status = previous
            Conditions.set(.ready, .false, reason: "TierNotFound",
                           message: "deleting: ServiceTier \"\(platform.spec.tierName)\" is missing or invalid, and it decides the deletion policies; restore it and the deletion continues",
                           generation: platform.generation, now: now(), in: &status.conditions)
            if status != previous { try await statusWriter.replaceStatus(status.jsonValue, namespace: namespace, name: platform.name) }
            return .after(.seconds(30))
        }
        let annotations = (object[path: ["metadata", "annotations"]].objectValue ?? [:]).compactMapValues(\.stringValue)
        let outcome = await dataTier.cleanup(platform: platform, tier: tier, annotations: annotations)
        for action in outcome.appliedActions {
            context.logger.info("data tier cleanup", metadata: ["action": "\(action)"])
        }
        var status = previous
        status.conditions = outcome.conditions
        if !outcome.done {
            let waiting = outcome.conditions.filter { PlatformStatus.dataTierConditionTypes.contains($0.type) && $0.status != .true }
                .map { "\($0.type) \($0.reason)" }.joined(separator: ", ")
            Conditions.set(.ready, .false, reason: "Deleting", message: "cleaning up the AWS data tier" + (waiting.isEmpty ? "" : ": \(waiting)"),
                           generation: platform.generation, now: now(), in: &status.conditions)
        }
        if status != previous {
            do {
                try await statusWriter.replaceStatus(status.jsonValue, namespace: namespace, name: platform.name)
            } catch let error as ResourceClientError where error.isNotFound {
                return .done
            }
        }
        return outcome.done ? .done : .after(outcome.requeueAfter ?? .seconds(30))
    }
}

extension PlatformStatus {
    /// The condition types the AWS data tier reports.
    static let dataTierConditionTypes: Set<String> = [
        PlatformConditionType.databaseReady.rawValue, PlatformConditionType.cacheReady.rawValue, PlatformConditionType.storageReady.rawValue,
    ]
}
