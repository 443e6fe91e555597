import ControllerRuntime
import Foundation
import JSON
import KubeAPI
import PlatformAPI
import PlatformSpecs
import Synchronization
import Testing
@testable import PlatformController

/// The operator against the in-process dev API server: real HTTP, real watches, garbage
/// collection and the workload simulation that makes Deployments available.
@Suite(.serialized) struct PlatformControllerEndToEndTests {
    static let serviceKinds = ["ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"]

    @Test func platform_whenAppliedWithItsTier_getsAll38ChildrenWithControllerOwnerRefsAndBecomesReady() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")

            let platform = try #require(try await h.platform("medsearch", "medsearch"))
            let uid = try #require(platform[path: ["metadata", "uid"]].stringValue)
            let children = try await h.children(in: "medsearch")
            #expect(children.count == 38)
            #expect(children.keys.filter { $0.hasPrefix("Deployment/") }.count == 6)
            #expect(children["ConfigMap/medsearch-config"] != nil)
            #expect(children["Secret/medsearch-credentials"] != nil)
            for (name, child) in children {
                let owners = child[path: ["metadata", "ownerReferences"]].arrayValue ?? []
                #expect(owners.count == 1, "\(name)")
                #expect(owners.first?["uid"].stringValue == uid, "\(name)")
                #expect(owners.first?["controller"].boolValue == true, "\(name)")
                let managers = (child[path: ["metadata", "managedFields"]].arrayValue ?? []).compactMap { $0["manager"].stringValue }
                #expect(managers.contains("medsearch-operator"), "\(name)")
            }
            #expect(platform[path: ["metadata", "finalizers"]].arrayValue?.contains("platform.medsearch.io/finalizer") == true)
            let status = PlatformStatus(json: platform["status"])
            #expect(status.services.count == 6)
            #expect(status.endpoints["search"] == "medsearch-search.medsearch.svc.cluster.local:8080")
            #expect(status.estimatedMonthlyCost != nil)
            let database = try #require(Conditions.find(.databaseReady, in: status.conditions))
            #expect(database.reason == "AWSTierNotConfigured")

            // Events tell the story: children created, conditions changed.
            // Events are written in the background, so wait for the last one.
            var events: [JSONValue] = []
            try await h.eventually("Created and Ready events") {
                events = try await h.client.list(.events, namespace: "medsearch", limit: nil, continueToken: nil).items
                let reasons = Set(events.compactMap { $0["reason"].stringValue })
                return reasons.contains("Created") && reasons.contains("Ready")
            }
            #expect(events.filter { $0["reason"].stringValue == "Created" }.count == 38)
            #expect(events.allSatisfy { $0[path: ["regarding", "uid"]].stringValue == uid })

            // A no-op resync writes nothing at all.
            try await h.settle()
            let before = h.writes.excludingEvents.count
            for _ in 0..<5 { await h.platformOperator.controller.queue.add(ObjectKey(namespace: "medsearch", name: "medsearch")) }
            try await h.settle()
            #expect(h.writes.excludingEvents.count == before, "no-op resync wrote: \(h.writes.excludingEvents.dropFirst(before))")
        }
    }

    @Test func tier_whenItsReplicaRangeChanges_reconcilesThePlatformAndWritesOnlyWhatChanged() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            let platformObject = try Examples.platform(name: "medsearch", namespace: "medsearch")
            try await h.applyPlatform(platformObject)
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            try await h.settle()

            var tier = try Examples.tier("production")
            let oldTier = try ServiceTier.decode(tier)
            tier[path: ["spec", "services", "ai", "replicas"]] = ["min": 3, "max": 30]
            tier[path: ["spec", "services", "notification", "replicas"]] = ["min": 2, "max": 40]
            let newTier = try ServiceTier.decode(tier)
            // What should change, from the pure function the controller uses.
            var decoded = try MedicalSearchPlatform.decode(platformObject)
            decoded.uid = try await h.platform("medsearch", "medsearch")?[path: ["metadata", "uid"]].stringValue
            let before = desiredState(platform: decoded, tier: oldTier, observed: ObservedState())
            let after = desiredState(platform: decoded, tier: newTier, observed: ObservedState())
            let changed = Set(after.children.filter { child in before.child(kind: child.kind, name: child.name)?.object != child.object }.map { "\(PlatformResources.owned(kind: $0.kind)!.plural)/\($0.name)" })
            #expect(changed.contains("horizontalpodautoscalers/medsearch-ai"))
            #expect(changed.contains("horizontalpodautoscalers/medsearch-notification"))

            let writesBefore = h.writes.excludingEvents.count
            try await h.applyTier(tier)
            try await h.eventually("the ai HPA to have the new range") {
                let hpa = try await h.client.get(.horizontalPodAutoscalers, namespace: "medsearch", name: "medsearch-ai")
                return hpa[path: ["spec", "maxReplicas"]].intValue == 30
            }
            try await h.settle()
            let writes = h.writes.excludingEvents.dropFirst(writesBefore)
            let childWrites = Set(writes.filter { $0.verb == "apply" }.map { "\($0.resource)/\($0.name)" })
            #expect(childWrites == changed)
            #expect(writes.allSatisfy { $0.verb == "apply" || $0.verb == "status" }, "unexpected writes: \(Array(writes))")
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
        }
    }

    @Test func service_whenDisabled_hasItsSixObjectsDeletedAndLeavesTheRest() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            var platform = try Examples.platform(name: "medsearch", namespace: "medsearch")
            try await h.applyPlatform(platform)
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            #expect(try await h.children(in: "medsearch").count == 38)

            platform[path: ["spec", "services", "analytics"]] = ["enabled": false]
            try await h.applyPlatform(platform)
            try await h.eventually("analytics children to go") {
                try await h.children(in: "medsearch").keys.filter { $0.hasSuffix("/medsearch-analytics") }.isEmpty
            }
            let children = try await h.children(in: "medsearch")
            #expect(children.count == 32)
            for kind in Self.serviceKinds { #expect(children["\(kind)/medsearch-search"] != nil) }
            let deletes = h.writes.all.filter { $0.verb == "delete" }
            #expect(Set(deletes.map(\.name)) == ["medsearch-analytics"])
            #expect(deletes.count == 6)
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            let status = PlatformStatus(json: try #require(try await h.platform("medsearch", "medsearch"))["status"])
            #expect(status.services[.analytics] == nil)
        }
    }

    @Test func platform_whenDeleted_runsTheFinalizerAndItsChildrenAreGarbageCollected() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            try await h.client.delete(PlatformResources.platforms, namespace: "medsearch", name: "medsearch")
            try await h.eventually("the platform to be gone") { try await h.platform("medsearch", "medsearch") == nil }
            try await h.eventually("children to be garbage-collected") { try await h.children(in: "medsearch").isEmpty }
            // The finalizer was removed by a guarded JSON patch, not by anyone else.
            #expect(h.writes.all.contains { $0.verb == "patch" && $0.resource == "medicalsearchplatforms" })
        }
    }

    @Test func platform_withAnInvalidSpec_reportsInvalidSpecWithTheFieldPath_andBecomesReadyOnceFixed() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            var platform = try Examples.platform(name: "medsearch", namespace: "medsearch")
            // The production tier is HIPAA: unencrypted database storage is a violation the
            // CRD schema cannot see, only the tier-aware validation.
            platform[path: ["spec", "database", "storageEncrypted"]] = false
            try await h.applyPlatform(platform)
            try await h.waitForCondition(.ready, .false, reason: "InvalidSpec", "medsearch", "medsearch")
            let ready = try #require(try await h.condition(.ready, "medsearch", "medsearch"))
            #expect(ready.message.contains("spec.database.storageEncrypted"))
            #expect(try await h.children(in: "medsearch").isEmpty)
            // No hot loop: going quiet at all proves it, and resyncs write nothing more.
            try await h.settle()
            let quiet = h.writes.excludingEvents.count
            for _ in 0..<3 { await h.platformOperator.controller.queue.add(ObjectKey(namespace: "medsearch", name: "medsearch")) }
            try await h.settle()
            #expect(h.writes.excludingEvents.count == quiet)

            platform[path: ["spec", "database", "storageEncrypted"]] = nil
            try await h.applyPlatform(platform)
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
        }
    }

    @Test func platform_whoseTierIsMissing_reportsTierNotFound_andBecomesReadyWhenTheTierIsCreated() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"], tiers: []) { h in
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.ready, .false, reason: "TierNotFound", "medsearch", "medsearch")
            try await h.applyTier(try Examples.tier("production"))
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
        }
    }

    @Test func twoPlatformsInTwoNamespaces_doNotInterfere() async throws {
        try await OperatorHarness.with(namespaces: ["team-a", "team-b"]) { h in
            try await h.applyPlatform(try Examples.platform(name: "search", namespace: "team-a", tier: "production"))
            try await h.applyPlatform(try Examples.platform(name: "search", namespace: "team-b", tier: "dev"))
            try await h.waitForCondition(.ready, .true, "team-a", "search")
            try await h.waitForCondition(.ready, .true, "team-b", "search")
            let a = try await h.children(in: "team-a")
            let b = try await h.children(in: "team-b")
            #expect(a.count == 38)
            #expect(b.count == 38)
            let uidA = try await h.platform("team-a", "search")?[path: ["metadata", "uid"]].stringValue
            let uidB = try await h.platform("team-b", "search")?[path: ["metadata", "uid"]].stringValue
            #expect(a.values.allSatisfy { $0[path: ["metadata", "ownerReferences"]][0]["uid"].stringValue == uidA })
            #expect(b.values.allSatisfy { $0[path: ["metadata", "ownerReferences"]][0]["uid"].stringValue == uidB })
            // The tiers differ, so the HPAs do.
            #expect(a["HorizontalPodAutoscaler/search-ai"]?[path: ["spec", "maxReplicas"]] != b["HorizontalPodAutoscaler/search-ai"]?[path: ["spec", "maxReplicas"]])

            try await h.client.delete(PlatformResources.platforms, namespace: "team-a", name: "search")
            try await h.eventually("team-a's children to go") { try await h.children(in: "team-a").isEmpty }
            #expect(try await h.children(in: "team-b").count == 38)
            #expect(try await h.condition(.ready, "team-b", "search")?.status == .true)
        }
    }
}

@Suite(.serialized) struct PlatformControllerConflictTests {
    @Test func child_alreadyControlledByAnotherOwner_isNotTakenOver_andThePlatformReportsDegradedChildConflict() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            let other = try await h.client.create(.configMaps, namespace: "medsearch", object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "someone-else"]])
            let otherUID = try #require(other[path: ["metadata", "uid"]].stringValue)
            let squatter: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": [
                    "name": "medsearch-search", "namespace": "medsearch",
                    "labels": ["app.kubernetes.io/managed-by": "medsearch-operator"],
                    "ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "someone-else", "uid": .string(otherUID), "controller": true]],
                ],
                "spec": [
                    "selector": ["matchLabels": ["app": "squatter"]],
                    "template": ["metadata": ["labels": ["app": "squatter"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]],
                ],
            ]
            _ = try await h.client.create(.deployments, namespace: "medsearch", object: squatter)
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.degraded, .true, reason: "ChildConflict", "medsearch", "medsearch")
            let ready = try #require(try await h.condition(.ready, "medsearch", "medsearch"))
            #expect(ready.status == .false)
            #expect(ready.message.contains("medsearch-search"))
            let live = try await h.client.get(.deployments, namespace: "medsearch", name: "medsearch-search")
            #expect(live[path: ["metadata", "ownerReferences"]][0]["uid"].stringValue == otherUID)
            #expect(!h.writes.all.contains { $0.verb == "apply" && $0.resource == "deployments" && $0.name == "medsearch-search" })

            // Once the squatter is gone, the platform converges by itself (its delete event
            // is not ours, so the periodic resync or the next change brings the key back).
            try await h.client.delete(.deployments, namespace: "medsearch", name: "medsearch-search")
            try await h.applyPlatform({ var p = try Examples.platform(name: "medsearch", namespace: "medsearch"); p[path: ["metadata", "labels", "retry"]] = "1"; return p }())
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            #expect(try await h.condition(.degraded, "medsearch", "medsearch")?.status == .false)
        }
    }
}

/// Stands in for the AWS data tier: not done until the test says so.
final class HeldCleanup: PlatformCleanup {
    private let state = Mutex<(calls: Int, release: Bool)>((0, false))
    var calls: Int { state.withLock { $0.calls } }
    func release() { state.withLock { $0.release = true } }
    func cleanUp(platform: JSONValue, context: ReconcileContext) async throws -> Requeue {
        state.withLock { s in
            s.calls += 1
            return s.release ? .done : .after(.milliseconds(200))
        }
    }
}

@Suite(.serialized) struct PlatformCleanupTests {
    @Test func platform_whenDeletedWhileCleanupIsPending_keepsItsFinalizerUntilCleanupIsDone() async throws {
        let cleanup = HeldCleanup()
        try await OperatorHarness.with(namespaces: ["medsearch"], cleanup: cleanup) { h in
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            #expect(cleanup.calls == 0)
            try await h.client.delete(PlatformResources.platforms, namespace: "medsearch", name: "medsearch")
            try await h.eventually("cleanup to be asked twice (requeued, not dropped)") { cleanup.calls >= 2 }
            let held = try #require(try await h.platform("medsearch", "medsearch"))
            #expect(held[path: ["metadata", "deletionTimestamp"]].stringValue != nil)
            #expect(held[path: ["metadata", "finalizers"]].arrayValue?.contains("platform.medsearch.io/finalizer") == true)

            cleanup.release()
            try await h.eventually("the platform to be gone") { try await h.platform("medsearch", "medsearch") == nil }
            try await h.eventually("children to be garbage-collected") { try await h.children(in: "medsearch").isEmpty }
        }
    }
}
