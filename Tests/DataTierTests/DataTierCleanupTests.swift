import Foundation
import PlatformAPI
import Testing

@testable import AWS
@testable import DataTier

@Suite struct DataTierCleanupTests {
    let cloud = FakeCloud()
    let clock = TestClock()

    func reconciler() -> DataTierReconciler {
        let observer = DataTierObserver(rds: cloud.rds, elastiCache: cloud.elastiCache, interval: .seconds(30), now: clock.now)
        return DataTierReconciler(aws: cloud.services, observer: observer, network: Fixtures.network, now: clock.now)
    }

    /// A platform with policies set explicitly, provisioned to ready.
    func provisioned(tier tierName: String, database: String, cache: String, storage: String) async throws -> (DataTierReconciler, MedicalSearchPlatform, ServiceTier) {
        let platform = try Fixtures.platform(tier: tierName) { o in
            o[path: ["spec", "database", "deletionPolicy"]] = .string(database)
            o[path: ["spec", "cache", "deletionPolicy"]] = .string(cache)
            o[path: ["spec", "storage", "deletionPolicy"]] = .string(storage)
        }
        let tier = try Fixtures.tier(tierName)
        let r = reconciler()
        for _ in 0..<4 {
            _ = await r.reconcile(platform: platform, tier: tier)
            cloud.settle()
            clock.advance(31)
        }
        return (r, platform, tier)
    }

    /// Calls cleanup until done, finishing AWS's deletions in between; nil if never done.
    func cleanupUntilDone(_ r: DataTierReconciler, _ platform: MedicalSearchPlatform, _ tier: ServiceTier, annotations: [String: String] = [:], rounds: Int = 6) async -> [CleanupOutcome] {
        var outcomes: [CleanupOutcome] = []
        for _ in 0..<rounds {
            let outcome = await r.cleanup(platform: platform, tier: tier, annotations: annotations)
            outcomes.append(outcome)
            if outcome.done { break }
            cloud.finishDeletes()
            clock.advance(31)
        }
        return outcomes
    }

    @Test func cleanup_withRetain_untagsEverythingAndDeletesNothing() async throws {
        let (r, platform, tier) = try await provisioned(tier: "production", database: "Retain", cache: "Retain", storage: "Retain")
        let names = DataTierNames(platform: platform)
        let outcomes = await cleanupUntilDone(r, platform, tier)
        #expect(outcomes.last?.done == true)
        #expect(cloud.count("DeleteDBInstance") == 0)
        #expect(cloud.count("DeleteReplicationGroup") == 0)
        #expect(cloud.count("DeleteBucket") == 0)
        #expect(cloud.count("DeleteSecret") == 0)
        let (dbTags, groupTags, bucketTags, alarms) = cloud.state.withLock { s in
            (s.tags[s.instances[names.dbInstance]!.arn!]!, s.tags[s.groups[names.replicationGroup]!.arn!]!, s.buckets[names.buckets[.documents]!]!.tags!, s.alarms)
        }
        for tags in [dbTags, groupTags, bucketTags] {
            #expect(!tags.contains { $0.key == DataTierNames.platformTagKey })
            #expect(tags.contains(AWSTag(key: DataTierNames.retainedFromTagKey, value: "clinic/demo")))
        }
        #expect(alarms.isEmpty)
        // Re-entrant: a second pass (after a crash, say) is done at once and changes nothing.
        let again = await r.cleanup(platform: platform, tier: tier)
        #expect(again.done)
        #expect(cloud.count("DeleteDBInstance") == 0)
    }

    @Test func cleanup_withSnapshot_deletesReplicasFirstThenPrimaryWithFinalSnapshotAndRetainsBuckets() async throws {
        let (r, platform, tier) = try await provisioned(tier: "production", database: "Snapshot", cache: "Snapshot", storage: "Retain")
        let names = DataTierNames(platform: platform)
        let first = await r.cleanup(platform: platform, tier: tier)
        #expect(!first.done)
        #expect(first.requeueAfter != nil)
        // The production instance has deletion protection, and the replica goes first.
        let firstDeletes = cloud.state.withLock { $0.deletes.map(\.identifier) }
        #expect(firstDeletes == [names.readReplica(1)])

        let outcomes = await cleanupUntilDone(r, platform, tier)
        #expect(outcomes.last?.done == true)
        let (deletes, groupDeletes, buckets, secrets) = cloud.state.withLock { ($0.deletes, $0.groupDeletes, $0.buckets, $0.secrets) }
        let primary = try #require(deletes.first { $0.identifier == names.dbInstance })
        #expect(primary.skipFinalSnapshot == false)
        #expect(primary.finalSnapshotIdentifier == names.finalDBSnapshot)
        #expect(groupDeletes.first?.1 == names.finalCacheSnapshot)
        #expect(buckets.count == 5)
        #expect(secrets[names.databaseSecret]?.deleted == true)
        #expect(cloud.count("ModifyDBInstance") >= 1)
    }

    @Test func cleanup_withDeleteOnProductionWithoutConfirmation_keepsTheDatabaseAndSaysWhy() async throws {
        let (r, platform, tier) = try await provisioned(tier: "production", database: "Delete", cache: "Delete", storage: "Retain")
        let outcomes = await cleanupUntilDone(r, platform, tier, rounds: 3)
        let last = try #require(outcomes.last)
        #expect(!last.done)
        let names = DataTierNames(platform: platform)
        #expect(cloud.state.withLock { $0.deletes.contains { $0.identifier == names.dbInstance || $0.identifier == names.readReplica(1) } } == false)
        let condition = try #require(Conditions.find(.databaseReady, in: last.conditions))
        #expect(condition.reason == "DeletionNotConfirmed")
        #expect(condition.message.contains("confirm-database-deletion"))

        let confirmed = await cleanupUntilDone(r, platform, tier, annotations: [DeletionDecisions.confirmDatabaseDeletionAnnotation: "demo"])
        #expect(confirmed.last?.done == true)
        #expect(cloud.state.withLock { $0.deletes.first { $0.identifier == names.dbInstance }?.skipFinalSnapshot } == true)
    }

    @Test func cleanup_withDeleteAndANonEmptyBucket_neverForceDeletesIt() async throws {
        let (r, platform, tier) = try await provisioned(tier: "dev", database: "Delete", cache: "Delete", storage: "Delete")
        let names = DataTierNames(platform: platform)
        let documents = names.buckets[.documents]!
        cloud.state.withLock { $0.buckets[documents]!.objects = 3 }
        let outcomes = await cleanupUntilDone(r, platform, tier, rounds: 4)
        let last = try #require(outcomes.last)
        #expect(!last.done)
        #expect(Conditions.find(.storageReady, in: last.conditions)?.reason == "BucketNotEmpty")
        let remaining = cloud.state.withLock { Set($0.buckets.keys) }
        #expect(remaining == [documents])

        cloud.state.withLock { $0.buckets[documents]!.objects = 0 }
        let done = await r.cleanup(platform: platform, tier: tier)
        #expect(done.done)
        #expect(cloud.state.withLock { $0.buckets.isEmpty })
        #expect(cloud.state.withLock { $0.instances.isEmpty && $0.groups.isEmpty })
    }

    @Test func cleanup_neverDeletesAnotherPlatformsResources() async throws {
        let platform = try Fixtures.platform(tier: "dev")
        let names = DataTierNames(platform: platform)
        cloud.state.withLock { s in
            s.instances[names.dbInstance] = Fixtures.instance(names.dbInstance, tags: [AWSTag(key: DataTierNames.platformTagKey, value: "other/one")])
            s.buckets[names.buckets[.logs]!] = .init(tags: [AWSTag(key: DataTierNames.platformTagKey, value: "other/one")])
        }
        let outcome = await reconciler().cleanup(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(cloud.count("DeleteDBInstance") == 0)
        #expect(cloud.count("DeleteBucket") == 0)
        #expect(outcome.done)
    }
}

extension DataTierCleanupTests {
    @Test func cleanup_whenAWSRefusesADelete_reportsTheCodeAndTriesAgainNextPass() async throws {
        let (r, platform, tier) = try await provisioned(tier: "dev", database: "Delete", cache: "Retain", storage: "Retain")
        cloud.inject("InvalidDBInstanceState", on: "DeleteDBInstance", message: "Instance is not available")
        let first = await r.cleanup(platform: platform, tier: tier)
        #expect(!first.done)
        #expect(Conditions.find(.databaseReady, in: first.conditions)?.reason == "InvalidDBInstanceState")
        #expect(Conditions.find(.cacheReady, in: first.conditions)?.reason == "Retained")
        let outcomes = await cleanupUntilDone(r, platform, tier)
        #expect(outcomes.last?.done == true)
        #expect(Conditions.find(.databaseReady, in: outcomes.last?.conditions ?? [])?.reason == "Deleted")
    }
}
