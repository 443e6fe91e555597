import Foundation
import JSON
import PlatformAPI
import PlatformSpecs
import Testing
@testable import DataTier
@testable import PlatformController

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func devPlatform() throws -> (MedicalSearchPlatform, ServiceTier) {
    let tier = try ServiceTier.decode(try Examples.tier("dev"))
    var object = try Examples.platform(name: "demo", namespace: "team", tier: "dev")
    object[path: ["metadata", "generation"]] = 2
    return (try MedicalSearchPlatform.decode(object), tier)
}

private func outcome(database: ConditionStatus, cache: ConditionStatus, storage: ConditionStatus, revision: String? = "rev-1") -> DataTierOutcome {
    var conditions: [PlatformAPI.Condition] = []
    Conditions.set(.databaseReady, database, reason: database == .true ? "Available" : "Creating", message: "db", generation: 2, now: t0, in: &conditions)
    Conditions.set(.cacheReady, cache, reason: cache == .true ? "Available" : "Creating", message: "cache", generation: 2, now: t0, in: &conditions)
    Conditions.set(.storageReady, storage, reason: storage == .true ? "Available" : "Creating", message: "storage", generation: 2, now: t0, in: &conditions)
    Conditions.set(.degraded, .false, reason: "DataPlaneHealthy", message: "probes pass", generation: 2, now: t0, in: &conditions)
    var endpoints = DataTierEndpoints()
    endpoints.databaseWriter = Endpoint(host: "db.example", port: 5432)
    endpoints.cache = Endpoint(host: "cache.example", port: 6379)
    return DataTierOutcome(
        conditions: conditions, endpoints: endpoints,
        credentialSecrets: ["demo-credentials": ["DATABASE_USERNAME": "medsearch", "DATABASE_PASSWORD": "pw-one", "REDIS_AUTH_TOKEN": "token-one"]],
        credentialReferences: [:], credentialsRevision: revision, requeueAfter: nil, health: [], appliedActions: [])
}

@Suite struct DataTierWiringTests {
    func readyServicesStatus(dataTier: DataTierOutcome) throws -> PlatformStatus {
        let (platform, tier) = try devPlatform()
        let enabled = platform.effectiveServices(tier: tier).filter(\.enabled)
        var deployments: [PlatformService: ObservedDeployment] = [:]
        for s in enabled { deployments[s.service] = .atMinimum(s) }
        return PlatformStatusComputation.applied(
            previous: PlatformStatus(), platform: platform, enabled: enabled, deployments: deployments,
            cost: estimatedMonthlyCost(tier: tier, platform: platform), guardrails: [], dataTier: dataTier, now: t0)
    }

    @Test func applied_withTheDataTier_readyWaitsForEveryStore_andReportsItsEndpointsAndDegraded() throws {
        let waiting = try readyServicesStatus(dataTier: outcome(database: .true, cache: .false, storage: .true))
        let ready = try #require(Conditions.find(.ready, in: waiting.conditions))
        #expect(ready.status == .false)
        #expect(ready.reason == "CacheNotReady")
        #expect(Conditions.find(.degraded, in: waiting.conditions)?.reason == "DataPlaneHealthy")
        #expect(waiting.endpoints["database"] == "db.example:5432")
        #expect(waiting.endpoints["cache"] == "cache.example:6379")
        #expect(Conditions.find(.databaseReady, in: waiting.conditions)?.reason == "Available")

        let all = try readyServicesStatus(dataTier: outcome(database: .true, cache: .true, storage: .true))
        #expect(PlatformStatusComputation.isReady(all, generation: 2))
    }

    @Test func addCredentials_putsBase64ValuesIntoTheCredentialsSecretOnly() throws {
        let (platform, tier) = try devPlatform()
        var desired = desiredState(platform: platform, tier: tier, observed: ObservedState())
        let before = desired
        PlatformReconciler.addCredentials(outcome(database: .true, cache: .true, storage: .true).credentialSecrets, to: &desired)
        let secret = try #require(desired.child(kind: "Secret", name: "demo-credentials"))
        #expect(secret.object[path: ["data", "DATABASE_PASSWORD"]].stringValue == Data("pw-one".utf8).base64EncodedString())
        #expect(secret.object[path: ["data", "REDIS_AUTH_TOKEN"]].stringValue == Data("token-one".utf8).base64EncodedString())
        let others = zip(before.children, desired.children).filter { $0.0.kind != "Secret" }
        #expect(others.allSatisfy { $0.0 == $0.1 }, "only the Secret may change")
    }

    @Test func observedState_fromTheDataTier_putsEndpointsInTheConfigMap_andARotationRollsTheDeployments() throws {
        let (platform, tier) = try devPlatform()
        let first = desiredState(platform: platform, tier: tier, observed: PlatformReconciler.observedState(from: outcome(database: .true, cache: .true, storage: .true, revision: "rev-1")))
        let rotated = desiredState(platform: platform, tier: tier, observed: PlatformReconciler.observedState(from: outcome(database: .true, cache: .true, storage: .true, revision: "rev-2")))
        let configMap = try #require(first.child(kind: "ConfigMap", name: "demo-config"))
        #expect(configMap.object[path: ["data", "DATABASE_HOST"]] == "db.example")
        #expect(configMap.object[path: ["data", "REDIS_HOST"]] == "cache.example")
        #expect(first.configHash != rotated.configHash)
    }
}
