import Foundation
import PlatformAPI
import Probes
import Synchronization
import Testing

@testable import AWS
@testable import DataTier

/// A probe whose health the test sets.
final class SwitchProbe: DataPlaneProbe {
    let healthy = Mutex(true)
    var target: ProbeTarget { ProbeTarget(kind: .postgreSQL, host: "db.example", port: 5432) }
    func probe() async -> ProbeResult {
        healthy.withLock { $0 }
            ? ProbeResult(target: target, outcome: .healthy(latency: .milliseconds(3)))
            : ProbeResult(target: target, outcome: .unhealthy(ProbeFailure(stage: .auth, reason: "AuthenticationFailed", message: "password authentication failed")))
    }
}

@Suite struct DataTierReconcilerTests {
    let cloud = FakeCloud()
    let clock = TestClock()

    func reconciler(probes: DataTierProbeFactory? = nil) -> DataTierReconciler {
        let observer = DataTierObserver(rds: cloud.rds, elastiCache: cloud.elastiCache, interval: .seconds(30), now: clock.now)
        return DataTierReconciler(aws: cloud.services, observer: observer, network: Fixtures.network, probes: probes, now: clock.now)
    }

    func status(_ outcome: DataTierOutcome, _ type: PlatformConditionType) -> Condition? { Conditions.find(type, in: outcome.conditions) }

    /// Reconciles, carrying conditions over like the controller does, settling AWS in between, until ready.
    func reconcileUntilReady(_ r: DataTierReconciler, _ platform: inout MedicalSearchPlatform, tier: ServiceTier, rounds: Int = 6) async -> [DataTierOutcome] {
        var outcomes: [DataTierOutcome] = []
        for _ in 0..<rounds {
            let outcome = await r.reconcile(platform: platform, tier: tier)
            outcomes.append(outcome)
            var s = platform.status ?? PlatformStatus()
            s.conditions = outcome.conditions
            platform.status = s
            if DataTierComponent.allCases.allSatisfy({ status(outcome, $0.conditionType)?.status == .true }) && outcome.appliedActions.isEmpty { break }
            cloud.settle()
            clock.advance(31)
        }
        return outcomes
    }

    /// production → staging: the read replica production needed is removed, the reader endpoint
    /// goes with it, and the database stays Ready throughout.
    @Test func reconcile_afterMovingToATierWithoutReplicas_removesTheReplicaAndItsEndpoint() async throws {
        var platform = try Fixtures.platform(tier: "production")
        let r = reconciler()
        _ = await reconcileUntilReady(r, &platform, tier: try Fixtures.tier("production"))
        let names = DataTierNames(platform: platform)
        #expect(cloud.state.withLock { $0.instances[names.readReplica(1)] } != nil)

        let staging = try Fixtures.tier("staging")
        clock.advance(31)
        let shrinking = await r.reconcile(platform: platform, tier: staging)
        #expect(shrinking.appliedActions.contains { $0.hasPrefix("delete read replica \(names.readReplica(1))") })
        let delete = try #require(cloud.state.withLock { $0.deletes.first })
        #expect(delete.identifier == names.readReplica(1))
        #expect(delete.skipFinalSnapshot == true)
        #expect(cloud.state.withLock { $0.deletes.contains { $0.identifier == names.dbInstance } } == false, "never the primary")
        #expect(shrinking.endpoints.databaseReader == nil)
        #expect(status(shrinking, .databaseReady)?.status == .true)
        #expect(shrinking.requeueAfter != nil, "requeued until the replica is gone")

        clock.advance(31)
        let whileDeleting = await r.reconcile(platform: platform, tier: staging)
        #expect(status(whileDeleting, .databaseReady)?.message.contains("removing surplus read replicas \(names.readReplica(1)) deleting") == true)
        #expect(cloud.count("DeleteDBInstance") == 1, "a replica already deleting is not deleted again")

        cloud.state.withLock { _ = $0.instances.removeValue(forKey: names.readReplica(1)) }
        clock.advance(31)
        let done = await r.reconcile(platform: platform, tier: staging)
        #expect(status(done, .databaseReady)?.status == .true)
        #expect(status(done, .databaseReady)?.message.contains("surplus") == false)
    }

    /// A surplus replica the operator must leave (deletion protection on) is a note, not a
    /// reason to requeue forever. The override `spec.database.readReplicas: 0` keeps the
    /// production tier, so nothing else changes.
    @Test func reconcile_withAProtectedSurplusReplica_leavesItAndSettles() async throws {
        var platform = try Fixtures.platform(tier: "production")
        let tier = try Fixtures.tier("production")
        let r = reconciler()
        _ = await reconcileUntilReady(r, &platform, tier: tier)
        let names = DataTierNames(platform: platform)
        cloud.state.withLock { $0.instances[names.readReplica(1)]?.deletionProtection = true }
        var fewer = try Fixtures.platform(tier: "production") { $0[path: ["spec", "database", "readReplicas"]] = 0 }
        fewer.status = platform.status
        clock.advance(31)
        let outcome = await r.reconcile(platform: fewer, tier: tier)
        #expect(cloud.count("DeleteDBInstance") == 0)
        #expect(outcome.appliedActions.isEmpty, "\(outcome.appliedActions)")
        #expect(outcome.requeueAfter == nil, "settled, not waiting for a replica that stays")
        #expect(status(outcome, .databaseReady)?.status == .true)
        #expect(status(outcome, .databaseReady)?.message.contains("deletion protection") == true)
    }

    @Test func reconcile_fromNothing_reachesAllReadyOverSeveralCallsWithRequeuesInBetween() async throws {
        var platform = try Fixtures.platform(tier: "production")
        let tier = try Fixtures.tier("production")
        let r = reconciler()
        let first = await r.reconcile(platform: platform, tier: tier)
        #expect(first.requeueAfter == .seconds(30))
        #expect(status(first, .databaseReady)?.status == .false)
        #expect(status(first, .databaseReady)?.reason == "Creating")
        #expect(status(first, .storageReady)?.status == .true)
        #expect(cloud.count("CreateDBInstance") == 1)
        #expect(cloud.count("CreateReplicationGroup") == 1)
        #expect(cloud.count("CreateBucket") == 5)
        #expect(cloud.count("PutMetricAlarm") == 2)

        let second = await r.reconcile(platform: platform, tier: tier)
        #expect(status(second, .databaseReady)?.reason == "Creating")
        #expect(second.requeueAfter != nil)

        let outcomes = await reconcileUntilReady(r, &platform, tier: tier)
        let last = try #require(outcomes.last)
        for component in DataTierComponent.allCases {
            #expect(status(last, component.conditionType)?.status == .true, "\(component)")
        }
        #expect(status(last, .databaseReady)?.reason == "Available")
        #expect(cloud.count("CreateDBInstanceReadReplica") == 1)
        #expect(cloud.count("CreateDBInstance") == 1)
        #expect(cloud.count("CreateReplicationGroup") == 1)
        let names = DataTierNames(platform: platform)
        #expect(last.endpoints.databaseWriter?.host == "\(names.dbInstance).abc.us-west-2.rds.amazonaws.com")
        #expect(last.endpoints.databaseReader?.host == "\(names.readReplica(1)).abc.us-west-2.rds.amazonaws.com")
        #expect(last.endpoints.cache?.port == 6379)
        #expect(last.endpoints.statusEntries["bucket.documents"] == "clinic-demo-documents")
        let credentials = try #require(last.credentialSecrets[names.kubernetesSecret])
        #expect(Set(credentials.keys) == ["DATABASE_USERNAME", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"])
        #expect(last.credentialReferences["database"]?.hasPrefix("arn:aws:secretsmanager:") == true)
        #expect(last.credentialsRevision != nil)

        // The password went to RDS from Secrets Manager and the token to ElastiCache.
        let (dbInput, groupInput, bucket) = cloud.state.withLock { ($0.instanceInputs[names.dbInstance], $0.groupInputs[names.replicationGroup], $0.buckets["clinic-demo-documents"]) }
        #expect(dbInput?.masterUserPassword == credentials["DATABASE_PASSWORD"])
        #expect(groupInput?.authToken == credentials["REDIS_AUTH_TOKEN"])
        #expect(bucket?.versioning == .enabled)
        #expect(bucket?.publicAccessBlock == .blockAll)
        #expect(bucket?.policy?.contains("aws:SecureTransport") == true)

        // No secret value in anything but credentialSecrets.
        let password = try #require(credentials["DATABASE_PASSWORD"])
        for outcome in outcomes {
            let text = "\(outcome)" + outcome.conditions.map { "\($0.reason) \($0.message)" }.joined() + outcome.appliedActions.joined()
            #expect(!text.contains(password))
            #expect(!text.contains(credentials["REDIS_AUTH_TOKEN"]!))
        }
    }

    @Test func reconcile_whenReady_issuesNoFurtherWrites() async throws {
        var platform = try Fixtures.platform(tier: "staging")
        let tier = try Fixtures.tier("staging")
        let r = reconciler()
        _ = await reconcileUntilReady(r, &platform, tier: tier)
        let writesBefore = cloud.calls.filter { !$0.hasPrefix("Describe") && !$0.hasPrefix("Get") && !$0.contains("List") }.count
        clock.advance(31)
        let outcome = await r.reconcile(platform: platform, tier: tier)
        let writesAfter = cloud.calls.filter { !$0.hasPrefix("Describe") && !$0.hasPrefix("Get") && !$0.contains("List") }.count
        #expect(outcome.appliedActions.isEmpty)
        #expect(writesAfter == writesBefore)
        #expect(outcome.requeueAfter == nil)
    }

    @Test func reconcile_whenTierChanges_issuesModifyDBInstance() async throws {
        var platform = try Fixtures.platform(tier: "dev")
        var tier = try Fixtures.tier("dev")
        let r = reconciler()
        _ = await reconcileUntilReady(r, &platform, tier: tier)
        tier.spec.database.instanceClass = "db.t3.medium"
        tier.spec.database.allocatedStorageGiB = 40
        clock.advance(31)
        let outcome = await r.reconcile(platform: platform, tier: tier)
        let modifies = cloud.state.withLock { $0.modifies }
        #expect(modifies.count == 1)
        #expect(modifies.first?.instanceClass == "db.t3.medium")
        #expect(modifies.first?.allocatedStorageGiB == 40)
        #expect(modifies.first?.applyImmediately == true)
        #expect(outcome.requeueAfter == .seconds(30))
    }

    @Test func reconcile_whenInstanceExistsWithoutOurTag_refusesWithNotOurs() async throws {
        let platform = try Fixtures.platform(tier: "dev")
        let names = DataTierNames(platform: platform)
        cloud.state.withLock { $0.instances[names.dbInstance] = Fixtures.instance(names.dbInstance, tags: [AWSTag(key: "team", value: "x")]) }
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(status(outcome, .databaseReady)?.status == .false)
        #expect(status(outcome, .databaseReady)?.reason == "NotOurs")
        #expect(cloud.count("ModifyDBInstance") == 0)
        #expect(cloud.count("AddTagsToResource") == 0)
    }

    @Test func reconcile_whenInstanceBelongsToAnotherPlatform_refusesWithAlreadyOwnedByAnother() async throws {
        let platform = try Fixtures.platform(tier: "dev")
        let names = DataTierNames(platform: platform)
        cloud.state.withLock {
            $0.instances[names.dbInstance] = Fixtures.instance(names.dbInstance, tags: [AWSTag(key: DataTierNames.platformTagKey, value: "other/platform")])
        }
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(status(outcome, .databaseReady)?.reason == "AlreadyOwnedByAnother")
        #expect(status(outcome, .databaseReady)?.message.contains("other/platform") == true)
    }

    @Test(arguments: [("clinic/demo", "Creating"), ("other/platform", "AlreadyOwnedByAnother")])
    func reconcile_whenCreateAnswersAlreadyExists_adoptsOursAndRefusesOthers(owner: String, reason: String) async throws {
        let platform = try Fixtures.platform(tier: "dev")
        let names = DataTierNames(platform: platform)
        // An earlier attempt created it, but the batched describe ran before RDS showed it.
        cloud.state.withLock { s in
            s.instances[names.dbInstance] = Fixtures.instance(names.dbInstance, status: "creating", tags: [AWSTag(key: DataTierNames.platformTagKey, value: owner)])
            s.hiddenDescribes = 1
        }
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(cloud.count("CreateDBInstance") == 1)
        #expect(status(outcome, .databaseReady)?.status == .false)
        #expect(status(outcome, .databaseReady)?.reason == reason)
    }

    @Test func reconcile_withExplicitAdoption_tagsTheExistingInstanceAsOurs() async throws {
        let platform = try Fixtures.platform(tier: "dev") { o in o[path: ["spec", "database", "adopt"]] = ["instanceIdentifier": "legacy-db"] }
        cloud.state.withLock { $0.instances["legacy-db"] = Fixtures.instance("legacy-db", instanceClass: "db.t3.small", storage: 20, multiAZ: false) }
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(cloud.count("AddTagsToResource") == 1)
        #expect(cloud.count("CreateDBInstance") == 0)
        let tags = cloud.state.withLock { $0.tags["arn:aws:rds:us-west-2:123456789012:db:legacy-db"] ?? [] }
        #expect(tags.contains(AWSTag(key: DataTierNames.platformTagKey, value: "clinic/demo")))
        #expect(status(outcome, .databaseReady)?.status == .true)
    }

    @Test func reconcile_whenAWSRejectsTheInstanceClass_reportsTheAWSErrorCodeWithoutSecrets() async throws {
        let platform = try Fixtures.platform(tier: "dev")
        cloud.inject("InvalidParameterCombination", on: "CreateDBInstance", message: "RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.t3.small")
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        let condition = try #require(status(outcome, .databaseReady))
        #expect(condition.status == .false)
        #expect(condition.reason == "InvalidParameterCombination")
        #expect(condition.message.contains("DBInstanceClass"))
        // Other components carry on.
        #expect(cloud.count("CreateReplicationGroup") == 1)
        let password = cloud.state.withLock { $0.secrets.values.map(\.value) }
        for value in password {
            #expect(!"\(outcome)".contains(value))
            #expect(!condition.message.contains(value))
        }
    }

    @Test func reconcile_whenDescribeIsThrottled_reportsItAndCreatesNothing() async throws {
        let platform = try Fixtures.platform(tier: "dev")
        cloud.inject("Throttling", on: "DescribeDBInstances")
        let outcome = await reconciler().reconcile(platform: platform, tier: try Fixtures.tier("dev"))
        #expect(status(outcome, .databaseReady)?.reason == "Throttling")
        #expect(cloud.count("CreateDBInstance") == 0)
        #expect(outcome.requeueAfter != nil)
    }

    @Test func reconcile_whenPasswordRotates_changesTheCredentialsRevision() async throws {
        var platform = try Fixtures.platform(tier: "dev")
        let tier = try Fixtures.tier("dev")
        let r = reconciler()
        let outcomes = await reconcileUntilReady(r, &platform, tier: tier)
        let before = try #require(outcomes.last?.credentialsRevision)
        let names = DataTierNames(platform: platform)
        _ = try await cloud.secretsManager.putSecretValue(id: names.databaseSecret, secretString: #"{"username":"medsearch","password":"rotated-value"}"#)
        clock.advance(301)
        let after = await r.reconcile(platform: platform, tier: tier)
        #expect(after.credentialsRevision != nil)
        #expect(after.credentialsRevision != before)
        #expect(after.credentialSecrets[names.kubernetesSecret]?["DATABASE_PASSWORD"] == "rotated-value")
    }

    @Test func reconcile_whenProbeFails_setsDegradedAndRecoveryClearsIt() async throws {
        var platform = try Fixtures.platform(tier: "dev")
        let tier = try Fixtures.tier("dev")
        let probe = SwitchProbe()
        let r = reconciler(probes: { _, _ in [probe] })
        let ready = try #require(await reconcileUntilReady(r, &platform, tier: tier).last)
        #expect(status(ready, .degraded)?.status == .false)
        #expect(ready.health.first?.healthy == true)
        #expect(ready.requeueAfter == .seconds(300))

        probe.healthy.withLock { $0 = false }
        let failing = await r.reconcile(platform: platform, tier: tier)
        #expect(status(failing, .degraded)?.status == .true)
        #expect(status(failing, .degraded)?.reason == "AuthenticationFailed")
        #expect(failing.health.first?.lastSuccess != nil)

        probe.healthy.withLock { $0 = true }
        let recovered = await r.reconcile(platform: platform, tier: tier)
        #expect(status(recovered, .degraded)?.status == .false)
    }
}
