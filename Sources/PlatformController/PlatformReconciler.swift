import ControllerRuntime
import DataTier
import Foundation
import JSON
import Logging
import PlatformAPI
import PlatformSpecs

/// Brings one MedicalSearchPlatform's children and status in line with its spec and tier.
///
/// A thin dispatcher: the finalizer decides between converging and cleaning up; the steps
/// live in their own files (`+Children` applies and prunes, `+Status` writes status and
/// condition Events); what to want and what to report are pure functions in PlatformSpecs,
/// `ChildPruning` and `PlatformStatusComputation`.
///
/// Guarantees:
/// - Reads only from the informer caches; writes only differences (a no-op resync sends
///   no request), status at most once per reconcile and only when it changed.
/// - A bad spec, an invalid or missing tier are reported in `Ready` and not retried:
///   the next change of the platform or its tier brings the key back.
/// - While not Ready, the key comes back after `resyncInterval`, or sooner when the data
///   tier asks (`DataTierOutcome.requeueAfter`); a Ready platform with a data tier comes
///   back for its next health check.
/// - Credential values go only into the `<name>-credentials` Secret (applied with the
///   other children, under the operator's field manager), never into logs, Events or status.
public struct PlatformReconciler: Reconciler {
    public let caches: PlatformCaches
    public let client: any ResourceClient
    public let statusWriter: any PlatformStatusWriter
    public let events: EventRecorder?
    public let cleanup: any PlatformCleanup
    /// Nil: the AWS data tier is not configured.
    public let dataTier: DataTierReconciler?
    public let resyncInterval: Duration
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - resyncInterval: how soon a platform that is not Ready is looked at again. Default 15 s.
    ///   - cleanup: what deletion must clean up outside the cluster. Default nothing.
    public init(caches: PlatformCaches, client: any ResourceClient, statusWriter: any PlatformStatusWriter, events: EventRecorder?, cleanup: any PlatformCleanup = NoExternalResources(), dataTier: DataTierReconciler? = nil, resyncInterval: Duration = .seconds(15), now: @escaping @Sendable () -> Date = { Date() }) {
        self.caches = caches
        self.client = client
        self.statusWriter = statusWriter
        self.events = events
        self.cleanup = cleanup
        self.dataTier = dataTier
        self.resyncInterval = resyncInterval
        self.now = now
    }

    public func reconcile(_ key: ObjectKey, context: ReconcileContext) async throws -> Requeue {
        // Gone from the cache: its children carry owner references, the garbage collector
        // takes them; there is nothing left for us to do.
        guard let cached = caches.platforms.get(key) else { return .done }
        let object = cached.payload.value
        let finalizer = FinalizerGuard(finalizer: PlatformResources.finalizer, resource: PlatformResources.platforms, client: client)
        return try await finalizer.reconcile(
            cached.metadata,
            apply: { try await converge(object, metadata: cached.metadata, context: context) },
            cleanup: {
                let outcome = try await cleanup.cleanUp(platform: object, context: context)
                if outcome == .done { context.logger.info("cleaned up; removing finalizer") }
                return outcome
            })
    }

    private func converge(_ object: JSONValue, metadata: CachedMetadata, context: ReconcileContext) async throws -> Requeue {
        let previous = object["status"].isNull ? PlatformStatus() : PlatformStatus(json: object["status"])
        let generation: Int64? = metadata.generation == 0 ? nil : metadata.generation
        let subject = EventSubject(apiVersion: PlatformAPIGroup.apiVersion, kind: MedicalSearchPlatform.kind, namespace: metadata.key.namespace, name: metadata.key.name, uid: "\(metadata.uid)")

        let platform: MedicalSearchPlatform
        do {
            platform = try MedicalSearchPlatform.decode(object)
        } catch {
            context.logger.info("invalid spec", metadata: ["violations": "\(error.violations.count)"])
            let status = PlatformStatusComputation.invalidSpec(previous: previous, violations: error.violations, guardrails: [], generation: generation, now: now())
            try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            return .done
        }
        let tierName = platform.spec.tierName
        guard let tierObject = caches.tiers.get(ObjectKey(name: tierName))?.payload.value else {
            let status = PlatformStatusComputation.tierNotFound(previous: previous, tierName: tierName, generation: generation, now: now())
            try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            return .done
        }
        let tier: ServiceTier
        do {
            tier = try ServiceTier.decode(tierObject)
        } catch {
            let status = PlatformStatusComputation.invalidTier(previous: previous, tierName: tierName, violations: error.violations, generation: generation, now: now())
            try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            return .done
        }
        let violations = platform.violations(against: tier)
        if !violations.isEmpty {
            let status = PlatformStatusComputation.invalidSpec(previous: previous, violations: violations, guardrails: platform.failedGuardrails(against: tier), generation: generation, now: now())
            try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            return .done
        }

        var observed = ObservedState()
        var dataTierOutcome: DataTierOutcome?
        if let dataTier {
            let outcome = await dataTier.reconcile(platform: platform, tier: tier)
            for action in outcome.appliedActions {
                context.logger.info("data tier", metadata: ["action": "\(action)"])
            }
            observed = Self.observedState(from: outcome)
            dataTierOutcome = outcome
        }
        var desired = desiredState(platform: platform, tier: tier, observed: observed)
        if let dataTierOutcome { Self.addCredentials(dataTierOutcome.credentialSecrets, to: &desired) }
        let owner = OwnerRef(apiVersion: PlatformAPIGroup.apiVersion, kind: MedicalSearchPlatform.kind, name: metadata.key.name, uid: metadata.uid, controller: true)
        do {
            try await applyChildren(desired, owner: owner, namespace: metadata.key.namespace, subject: subject, context: context)
            try await pruneChildren(keeping: desired, owner: metadata, subject: subject, context: context)
        } catch let error as ApplyError {
            let status = PlatformStatusComputation.degraded(previous: previous, reason: "ChildConflict", message: error.description, generation: generation, now: now())
            try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            throw TerminalError("a child is controlled by another owner", underlying: error)
        } catch let error as CancellationError {
            // Shutting down past the drain deadline: not a failure of the platform.
            throw error
        } catch {
            // Transient (the API server is busy or down): say so on the platform, then let
            // the error policy back off. If even the status write fails, the original error
            // is the one worth retrying on.
            let status = PlatformStatusComputation.degraded(previous: previous, reason: "ApplyFailed", message: "applying children failed: \(error)", generation: generation, now: now())
            do {
                try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
            } catch let statusError {
                context.logger.debug("could not report the failure in status", metadata: ["error": "\(statusError)"])
            }
            throw error
        }

        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in desired.services {
            let key = ObjectKey(namespace: metadata.key.namespace, name: ChildMetadata.name(platform, s.service))
            if let live = caches.children["Deployment"]?.get(key)?.payload.value {
                deployments[s.service] = ObservedDeployment(deployment: live)
            }
        }
        let status = PlatformStatusComputation.applied(
            previous: previous, platform: platform, enabled: desired.services, deployments: deployments,
            cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: platform.failedGuardrails(against: tier),
            dataTier: dataTierOutcome, now: now())
        try await publish(status, previous: previous, key: metadata.key, subject: subject, context: context)
        let resync: Duration? = PlatformStatusComputation.isReady(status, generation: generation) ? nil : resyncInterval
        switch (resync, dataTierOutcome?.requeueAfter) {
        case (nil, nil): return .done
        case (let a?, nil): return .after(a)
        case (nil, let b?): return .after(b)
        case (let a?, let b?): return .after(min(a, b))
        }
    }

    /// What the children need from the data tier: endpoints and the credentials' revision
    /// (part of the config hash, so a rotation rolls the Deployments).
    static func observedState(from outcome: DataTierOutcome) -> ObservedState {
        var observed = ObservedState()
        observed.databaseEndpoint = outcome.endpoints.databaseWriter
        observed.databaseReaderEndpoint = outcome.endpoints.databaseReader
        observed.cacheEndpoint = outcome.endpoints.cache
        observed.credentialsRevision = outcome.credentialsRevision
        return observed
    }

    /// Puts the credential values into the desired Secret itself: applied by a separate
    /// request under the same field manager, they would be removed again by the next apply
    /// of the data-less Secret.
    static func addCredentials(_ secrets: [String: [String: String]], to desired: inout DesiredChildren) {
        for (name, values) in secrets where !values.isEmpty {
            guard let i = desired.children.firstIndex(where: { $0.kind == "Secret" && $0.name == name }) else { continue }
            desired.children[i].object["data"] = .object(values.mapValues { .string(Data($0.utf8).base64EncodedString()) })
        }
    }
}
