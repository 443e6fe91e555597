import ControllerRuntime
import Foundation
import JSON
import PlatformAPI
import PlatformSpecs
import Testing
@testable import PlatformController

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func platformAndTier(disable: [PlatformService] = []) throws -> (MedicalSearchPlatform, ServiceTier) {
    let tier = try ServiceTier.decode(try Examples.tier("dev"))
    var object = try Examples.platform(name: "demo", namespace: "team", tier: "dev")
    for service in disable { object[path: ["spec", "services", service.rawValue, "enabled"]] = false }
    object[path: ["metadata", "uid"]] = "uid-1"
    object[path: ["metadata", "generation"]] = 3
    return (try MedicalSearchPlatform.decode(object), tier)
}

@Suite struct PlatformStatusComputationTests {
    @Test func applied_whenEveryDeploymentIsReady_isReadyAndDataTierIsUnknownNotConfigured() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in enabled { deployments[s.service] = .atMinimum(s) }
        let status = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments, cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: [], now: t0)
        #expect(PlatformStatusComputation.isReady(status, generation: 3))
        #expect(status.observedGeneration == 3)
        #expect(Conditions.find(.servicesReady, in: status.conditions)?.status == .true)
        for type in [PlatformConditionType.databaseReady, .cacheReady, .storageReady] {
            let c = try #require(Conditions.find(type, in: status.conditions))
            #expect(c.status == .unknown)
            #expect(c.reason == "AWSTierNotConfigured")
            #expect(c.message.contains("AWS data tier is not configured"))
        }
        #expect(status.services.count == enabled.count)
        #expect(status.endpoints["search"] == "demo-search.team.svc.cluster.local:8080")
        #expect(status.estimatedMonthlyCost != nil)
    }

    @Test func applied_whenADeploymentIsShortOfReplicas_isNotReadyAndNamesTheService() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in enabled {
            let minimum = Int64(s.replicas.min)
            deployments[s.service] = ObservedDeployment(desiredReplicas: minimum, readyReplicas: s.service == .ai ? minimum - 1 : minimum, rolledOut: true)
        }
        let aiMinimum = try #require(enabled.first { $0.service == .ai }).replicas.min
        let status = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments, cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: [], now: t0)
        let ready = try #require(Conditions.find(.ready, in: status.conditions))
        #expect(ready.status == .false)
        #expect(ready.message.contains("ai \(aiMinimum - 1)/\(aiMinimum) ready"))
        #expect(Conditions.find(.progressing, in: status.conditions)?.status == .true)
        #expect(!PlatformStatusComputation.isReady(status, generation: 3))
    }

    @Test func applied_whenTheAutoscalerAddsPodsAboveTheMinimum_staysReadyWhileTheyStart() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in enabled {
            // Scaled up under load to max, only the minimum ready so far.
            deployments[s.service] = ObservedDeployment(desiredReplicas: Int64(s.replicas.max), readyReplicas: Int64(s.replicas.min), rolledOut: true)
        }
        let status = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments, cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: [], now: t0)
        #expect(Conditions.find(.servicesReady, in: status.conditions)?.status == .true)
        let search = try #require(enabled.first { $0.service == .search })
        #expect(status.services[.search]?.desiredReplicas == Int64(search.replicas.max))
    }

    @Test func applied_whenANewDeploymentIsBelowTheAutoscalerMinimum_isNotReadyAndWantsTheMinimum() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        let search = try #require(enabled.first { $0.service == .search })
        try #require(search.replicas.min > 1)
        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in enabled {
            // Just created: spec.replicas defaulted to 1 before the HPA raised it.
            deployments[s.service] = s.service == .search
                ? ObservedDeployment(desiredReplicas: 1, readyReplicas: 1, rolledOut: true)
                : ObservedDeployment(desiredReplicas: Int64(s.replicas.min), readyReplicas: Int64(s.replicas.min), rolledOut: true)
        }
        let status = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments, cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: [], now: t0)
        let servicesReady = try #require(Conditions.find(.servicesReady, in: status.conditions))
        #expect(servicesReady.status == .false)
        #expect(servicesReady.message.contains("search 1/\(search.replicas.min) ready"))
        #expect(status.services[.search]?.desiredReplicas == Int64(search.replicas.min))
    }

    @Test func applied_whenNothingChanged_isEqualToThePreviousStatusSoNoWriteIsNeeded() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        let deployments = Dictionary(uniqueKeysWithValues: enabled.map { ($0.service, ObservedDeployment.atMinimum($0)) })
        let cost = estimatedMonthlyCost(tier: tier, platform: platform)
        let first = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments, cost: cost, guardrails: [], now: t0)
        // Round-trip through JSON as the cache would hold it, an hour later.
        let reread = PlatformStatus(json: first.jsonValue)
        let second = PlatformStatusComputation.applied(previous: reread, platform: platform, enabled: enabled, deployments: deployments, cost: cost, guardrails: [], now: t0.addingTimeInterval(3600))
        #expect(second == reread)
    }

    @Test func conditions_keepTheirTransitionTimeUntilTheirStatusFlips() throws {
        let (platform, tier) = try platformAndTier()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        let cost = estimatedMonthlyCost(tier: tier, platform: platform)
        let notReady = PlatformStatusComputation.applied(previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: [:], cost: cost, guardrails: [], now: t0)
        let later = t0.addingTimeInterval(120)
        let deployments = Dictionary(uniqueKeysWithValues: enabled.map { ($0.service, ObservedDeployment.atMinimum($0)) })
        let ready = PlatformStatusComputation.applied(previous: notReady, platform: platform, enabled: enabled, deployments: deployments, cost: cost, guardrails: [], now: later)
        #expect(Conditions.find(.ready, in: ready.conditions)?.lastTransitionTime == PlatformAPI.Condition.timestamp(later))
        #expect(Conditions.find(.databaseReady, in: ready.conditions)?.lastTransitionTime == PlatformAPI.Condition.timestamp(t0))
    }

    @Test func tierNotFound_setsReadyFalseWithReasonTierNotFoundNamingTheTier() {
        let status = PlatformStatusComputation.tierNotFound(previous: PlatformStatus(), tierName: "gold", generation: 1, now: t0)
        let ready = Conditions.find(.ready, in: status.conditions)
        #expect(ready?.status == .false)
        #expect(ready?.reason == "TierNotFound")
        #expect(ready?.message.contains("\"gold\"") == true)
    }

    @Test func invalidSpec_setsReadyFalseWithTheFieldPathInTheMessage() {
        let status = PlatformStatusComputation.invalidSpec(previous: PlatformStatus(), violations: [SpecViolation(field: "spec.region", message: "must match")], guardrails: [], generation: 2, now: t0)
        let ready = Conditions.find(.ready, in: status.conditions)
        #expect(ready?.reason == "InvalidSpec")
        #expect(ready?.message.contains("spec.region") == true)
        #expect(status.observedGeneration == 2)
    }
}

@Suite struct ChildPruningTests {
    @Test func childrenToDelete_answersOnlyControlledChildrenThatAreNoLongerDesired() {
        let keep = ChildIdentity(kind: "Deployment", key: ObjectKey(namespace: "ns", name: "p-search"))
        let gone = ChildIdentity(kind: "Deployment", key: ObjectKey(namespace: "ns", name: "p-analytics"))
        let foreign = ChildIdentity(kind: "Deployment", key: ObjectKey(namespace: "ns", name: "someone-elses"))
        let referencingOnly = ChildIdentity(kind: "Deployment", key: ObjectKey(namespace: "ns", name: "p-sidecar"))
        let result = ChildPruning.childrenToDelete(
            desired: [keep],
            owned: [(keep, "uid-1"), (gone, "uid-1"), (foreign, "uid-2"), (referencingOnly, nil)],
            ownerUID: "uid-1")
        #expect(result == [gone])
    }

    @Test func childrenToDelete_whenEverythingIsDesired_answersNothing() {
        let a = ChildIdentity(kind: "Service", key: ObjectKey(namespace: "ns", name: "a"))
        #expect(ChildPruning.childrenToDelete(desired: [a], owned: [(a, "u")], ownerUID: "u").isEmpty)
    }
}

@Suite struct ConditionTransitionTests {
    private func condition(_ type: String, _ status: ConditionStatus, _ reason: String, _ message: String = "") -> PlatformAPI.Condition {
        PlatformAPI.Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: "", observedGeneration: 1)
    }

    @Test func between_reportsNewConditionsAndStatusOrReasonChangesButNotMessageOnlyChanges() {
        let old = [condition("Ready", .false, "ServicesNotReady", "a 0/1"), condition("ServicesReady", .false, "ServicesNotReady", "a 0/1")]
        let new = [condition("Ready", .false, "ServicesNotReady", "a 1/2"), condition("ServicesReady", .true, "AllServicesReady"), condition("Degraded", .false, "AsExpected")]
        let transitions = ConditionTransitions.between(old, new)
        #expect(transitions.map(\.type) == ["ServicesReady", "Degraded"])
    }

    @Test func severity_isWarningForInvalidSpecAndNormalForProgress() {
        #expect(ConditionTransitions.severity(of: ConditionTransition(type: "Ready", status: .false, reason: "InvalidSpec", message: "")) == .warning)
        #expect(ConditionTransitions.severity(of: ConditionTransition(type: "Ready", status: .false, reason: "ServicesNotReady", message: "")) == .normal)
        #expect(ConditionTransitions.severity(of: ConditionTransition(type: "Degraded", status: .true, reason: "ChildConflict", message: "")) == .warning)
    }
}

@Suite struct ObservedDeploymentTests {
    @Test func init_fromADeploymentStillRollingOut_isNotReady() {
        let deployment: JSONValue = ["metadata": ["generation": 2], "spec": ["replicas": 3], "status": ["observedGeneration": 1, "readyReplicas": 3]]
        let observed = ObservedDeployment(deployment: deployment)
        #expect(observed.desiredReplicas == 3)
        #expect(!observed.rolledOut)
        #expect(!observed.isReady)
    }

    @Test func init_fromARolledOutDeploymentWithAllReplicasReady_isReady() {
        let deployment: JSONValue = ["metadata": ["generation": 2], "spec": ["replicas": 2], "status": ["observedGeneration": 2, "readyReplicas": 2, "conditions": [["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"]]]]
        let observed = ObservedDeployment(deployment: deployment)
        #expect(observed.isReady)
        #expect(observed.availableReason == "MinimumReplicasAvailable")
    }
}

@Suite struct PlatformCachesTests {
    private func platform(_ namespace: String, _ name: String, tier: String) -> CachedObject<CompactJSON> {
        let object: JSONValue = ["metadata": ["namespace": .string(namespace), "name": .string(name), "uid": .string("\(namespace)-\(name)")], "spec": ["tierRef": ["name": .string(tier)]]]
        return CachedObject(metadata: CachedMetadata(object: object)!, payload: CompactJSON(object))
    }

    @Test func platformsReferencingTier_answersEveryPlatformNamingItAcrossNamespacesAndFollowsChanges() {
        let store = ObjectCache<CompactJSON>(indexes: [PlatformCaches.tierRefStoreIndex])
        store.upsert(platform("a", "one", tier: "production"))
        store.upsert(platform("b", "two", tier: "production"))
        store.upsert(platform("b", "three", tier: "dev"))
        let caches = PlatformCaches(platforms: store, tiers: ObjectCache(), children: [:])
        #expect(caches.platforms(referencingTier: "production") == [ObjectKey(namespace: "a", name: "one"), ObjectKey(namespace: "b", name: "two")])
        // Moving a platform to another tier moves it in the index.
        store.upsert(platform("b", "two", tier: "dev"))
        #expect(caches.platforms(referencingTier: "production") == [ObjectKey(namespace: "a", name: "one")])
        #expect(caches.platforms(referencingTier: "dev").count == 2)
        #expect(caches.platforms(referencingTier: "staging").isEmpty)
    }
}

extension ObservedDeployment {
    /// A rolled-out Deployment with exactly the service's autoscaling minimum ready.
    static func atMinimum(_ service: EffectiveService) -> ObservedDeployment {
        ObservedDeployment(desiredReplicas: Int64(service.replicas.min), readyReplicas: Int64(service.replicas.min), rolledOut: true)
    }
}
