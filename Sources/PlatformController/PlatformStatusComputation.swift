import DataTier
import Foundation
import PlatformAPI
import PlatformSpecs

/// The platform's status as pure functions of the previous status and what was observed.
///
/// Guarantees: the same inputs give an equal `PlatformStatus` (conditions keep their
/// `lastTransitionTime` unless their status flips), so the reconciler can skip the write
/// whenever nothing changed.
public enum PlatformStatusComputation {
    /// Reason on the data-tier conditions until the AWS data tier is wired in.
    public static let awsTierNotConfigured = "AWSTierNotConfigured"

    /// Status of a platform whose children were applied: replica counts per enabled
    /// service, service endpoints, cost, guardrails and every condition.
    ///
    /// With the AWS data tier (`dataTier` non-nil) its DatabaseReady, CacheReady,
    /// StorageReady and Degraded conditions and its endpoints are reported, and `Ready`
    /// needs all four components (`Conditions.summarize`).
    ///
    /// Without it, `Ready` follows `ServicesReady` alone: the database, cache and storage
    /// conditions stay `Unknown` with reason `AWSTierNotConfigured`, and are not counted
    /// against readiness because nothing manages them.
    public static func applied(
        previous: PlatformStatus, platform: MedicalSearchPlatform, enabled: [EffectiveService],
        deployments: [PlatformService: ObservedDeployment], cost: MonthlyCost, guardrails: [SpecViolation],
        dataTier: DataTierOutcome? = nil, now: Date
    ) -> PlatformStatus {
        let generation = platform.generation
        var status = previous
        status.observedGeneration = generation
        status.services = [:]
        status.endpoints = [:]
        var notReady: [String] = []
        for s in enabled {
            let name = ChildMetadata.name(platform, s.service)
            status.endpoints[s.service.rawValue] = "\(name).\(platform.namespace).svc.cluster.local:\(s.service.port)"
            guard let deployment = deployments[s.service] else {
                status.services[s.service] = ServiceReplicaStatus(desiredReplicas: s.replicas.min, readyReplicas: 0)
                notReady.append("\(s.service.rawValue) not created yet")
                continue
            }
            // Until the HPA has raised a new Deployment to its minimum, the minimum is what we want.
            let floor = Int64(s.replicas.min)
            let wanted = max(deployment.desiredReplicas, floor)
            status.services[s.service] = ServiceReplicaStatus(desiredReplicas: wanted, readyReplicas: deployment.readyReplicas)
            if !deployment.isReady(floor: floor) {
                notReady.append("\(s.service.rawValue) \(deployment.readyReplicas)/\(wanted) ready" + (deployment.rolledOut ? "" : ", rolling out"))
            }
        }
        status.estimatedMonthlyCost = cost.estimate
        status.failedGuardrails = guardrails.map(\.description)

        var c = status.conditions
        let servicesMessage: String
        if notReady.isEmpty {
            servicesMessage = enabled.isEmpty ? "no services are enabled" : "\(enabled.count) of \(enabled.count) services ready"
            Conditions.set(.servicesReady, .true, reason: "AllServicesReady", message: servicesMessage, generation: generation, now: now, in: &c)
        } else {
            servicesMessage = notReady.joined(separator: "; ")
            Conditions.set(.servicesReady, .false, reason: "ServicesNotReady", message: servicesMessage, generation: generation, now: now, in: &c)
        }
        if let dataTier {
            for (key, value) in dataTier.endpoints.statusEntries { status.endpoints[key] = value }
            for type in [PlatformConditionType.databaseReady, .cacheReady, .storageReady, .degraded] {
                if let reported = Conditions.find(type, in: dataTier.conditions) {
                    Conditions.set(type, reported.status, reason: reported.reason, message: reported.message, generation: generation, now: now, in: &c)
                }
            }
            if Conditions.find(.degraded, in: c) == nil {
                Conditions.set(.degraded, .false, reason: "AsExpected", message: "every child was applied", generation: generation, now: now, in: &c)
            }
            Conditions.summarize(generation: generation, now: now, in: &c)
            status.conditions = c
            return status
        }
        for (type, what) in [(PlatformConditionType.databaseReady, "database"), (.cacheReady, "cache"), (.storageReady, "storage")] {
            Conditions.set(type, .unknown, reason: awsTierNotConfigured,
                           message: "the AWS data tier is not configured: the operator does not manage the \(what) yet",
                           generation: generation, now: now, in: &c)
        }
        Conditions.set(.degraded, .false, reason: "AsExpected", message: "every child was applied", generation: generation, now: now, in: &c)
        if notReady.isEmpty {
            Conditions.set(.ready, .true, reason: "Ready", message: "all services are ready; the AWS data tier is not configured", generation: generation, now: now, in: &c)
            Conditions.set(.progressing, .false, reason: "Ready", message: "nothing left to do", generation: generation, now: now, in: &c)
        } else {
            Conditions.set(.ready, .false, reason: "ServicesNotReady", message: servicesMessage, generation: generation, now: now, in: &c)
            Conditions.set(.progressing, .true, reason: "Reconciling", message: servicesMessage, generation: generation, now: now, in: &c)
        }
        status.conditions = c
        return status
    }

    /// A spec the controller cannot act on: `Ready=False, InvalidSpec` with the field paths.
    public static func invalidSpec(previous: PlatformStatus, violations: [SpecViolation], guardrails: [SpecViolation], generation: Int64?, now: Date) -> PlatformStatus {
        var status = previous
        status.recordInvalidSpec(violations, guardrails: guardrails, generation: generation, now: now)
        return status
    }

    /// The referenced ServiceTier does not exist (yet); creating it clears this by itself.
    public static func tierNotFound(previous: PlatformStatus, tierName: String, generation: Int64?, now: Date) -> PlatformStatus {
        var status = previous
        status.observedGeneration = generation
        let message = "ServiceTier \"\(tierName)\" not found; create it (kubectl apply -f examples/tiers/) and the platform continues"
        Conditions.set(.ready, .false, reason: "TierNotFound", message: message, generation: generation, now: now, in: &status.conditions)
        Conditions.set(.progressing, .false, reason: "TierNotFound", message: "waiting for ServiceTier \"\(tierName)\"", generation: generation, now: now, in: &status.conditions)
        return status
    }

    /// The referenced ServiceTier exists but is itself invalid.
    public static func invalidTier(previous: PlatformStatus, tierName: String, violations: [SpecViolation], generation: Int64?, now: Date) -> PlatformStatus {
        var status = previous
        status.observedGeneration = generation
        let message = "ServiceTier \"\(tierName)\" is invalid: " + violations.map(\.description).joined(separator: "; ")
        Conditions.set(.ready, .false, reason: "InvalidTier", message: message, generation: generation, now: now, in: &status.conditions)
        Conditions.set(.progressing, .false, reason: "InvalidTier", message: "waiting for ServiceTier \"\(tierName)\" to be fixed", generation: generation, now: now, in: &status.conditions)
        return status
    }

    /// A child could not be applied in a way retrying cannot fix (another controller owns it).
    public static func degraded(previous: PlatformStatus, reason: String, message: String, generation: Int64?, now: Date) -> PlatformStatus {
        var status = previous
        Conditions.set(.degraded, .true, reason: reason, message: message, generation: generation, now: now, in: &status.conditions)
        Conditions.set(.ready, .false, reason: reason, message: message, generation: generation, now: now, in: &status.conditions)
        return status
    }

    /// True when the status says the platform is Ready at its current generation.
    public static func isReady(_ status: PlatformStatus, generation: Int64?) -> Bool {
        guard let ready = Conditions.find(.ready, in: status.conditions) else { return false }
        return ready.status == .true && (generation == nil || ready.observedGeneration == generation)
    }
}
