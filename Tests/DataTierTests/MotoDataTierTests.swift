import AWSSigning
import AWSTestSupport
import Foundation
import HTTPTransport
import PlatformAPI
import Testing

@testable import AWS
@testable import DataTier

private let transport = HTTPTransport()
private let moto = MotoLease(transport: transport)

/// The data tier end to end against moto_server on loopback, through the fault proxy
/// (throttling, 5xx pages, resources reported `creating` for the first describes).
///
/// Known moto gaps (measured on 5.2.5, the version `scripts/install-deps` pins): RDS and
/// ElastiCache are `available` at once (the proxy supplies `creating`); DeleteCacheSubnetGroup
/// answers HTTP 500 with HTML; deleted replication groups stay `deleting`.
@Suite(.enabled(if: MotoServer.isInstalled, "moto_server is not installed (pip install 'moto[server]'); data-tier moto tests skipped"))
struct MotoDataTierTests {
    struct Rig {
        let proxy: FaultProxy
        let client: AWSClient
        let reconciler: DataTierReconciler
        let clock: TestClock
        let aws: AWSServices
    }

    func rig() async throws -> Rig {
        let server = try await moto.get()
        let proxy = try await FaultProxy.start(upstream: server.baseURL, transport: transport)
        let client = AWSClient(
            region: "us-east-1", endpoints: EndpointResolver(region: "us-east-1", environment: ["AWS_ENDPOINT_URL": proxy.baseURL]),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDMOTOTEST", secretAccessKey: "moto-test-secret")),
            transport: transport, retryStrategy: .standard, sleep: { _ in })
        let subnets = try await client.makeTestSubnets()
        let clock = TestClock()
        let aws = AWSServices(client: client)
        let observer = DataTierObserver(rds: aws.rds, elastiCache: aws.elastiCache, interval: .seconds(30), now: clock.now)
        let reconciler = DataTierReconciler(aws: aws, observer: observer, network: DataTierNetwork(subnetIds: subnets), now: clock.now)
        return Rig(proxy: proxy, client: client, reconciler: reconciler, clock: clock, aws: aws)
    }

    func uniquePlatform(tier: String, policies: (String, String, String)? = nil) throws -> MedicalSearchPlatform {
        try Fixtures.platform(name: "e2e-\(UInt32.random(in: 0..<UInt32.max))", namespace: "clinic", tier: tier) { o in
            if let (d, c, s) = policies {
                o[path: ["spec", "database", "deletionPolicy"]] = .string(d)
                o[path: ["spec", "cache", "deletionPolicy"]] = .string(c)
                o[path: ["spec", "storage", "deletionPolicy"]] = .string(s)
            }
        }
    }

    /// Reconciles as the controller would: conditions carried over, requeue honoured on virtual time.
    func reconcileUntilReady(_ rig: Rig, _ platform: inout MedicalSearchPlatform, tier: ServiceTier, rounds: Int = 10) async -> [DataTierOutcome] {
        var outcomes: [DataTierOutcome] = []
        for _ in 0..<rounds {
            let outcome = await rig.reconciler.reconcile(platform: platform, tier: tier)
            outcomes.append(outcome)
            var status = platform.status ?? PlatformStatus()
            status.conditions = outcome.conditions
            platform.status = status
            let ready = DataTierComponent.allCases.allSatisfy { Conditions.find($0.conditionType, in: outcome.conditions)?.status == .true }
            if ready && outcome.requeueAfter == nil { break }
            rig.clock.advance((outcome.requeueAfter ?? .seconds(30)).seconds + 1)
        }
        return outcomes
    }

    /// Runs cleanup as the finalizer would, a few passes apart, until it reports done.
    func cleanupUntilDone(_ rig: Rig, _ platform: MedicalSearchPlatform, tier: ServiceTier, rounds: Int = 4) async -> CleanupOutcome? {
        var last: CleanupOutcome?
        for _ in 0..<rounds {
            last = await rig.reconciler.cleanup(platform: platform, tier: tier)
            if last?.done == true { break }
            rig.clock.advance(31)
        }
        return last
    }

    @Test func dataTier_withThrottlingAnd5xxAndSlowCreation_reachesAllReadyAcrossReconciles() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        rig.proxy.inject(.queryError(code: "Throttling", status: 400), on: "CreateDBInstance", count: 1)
        rig.proxy.inject(.htmlError(status: 503), on: "CreateReplicationGroup", count: 1)
        rig.proxy.inject(.reportStatus("creating"), on: "DescribeDBInstances", count: 3)
        rig.proxy.inject(.reportStatus("creating"), on: "DescribeReplicationGroups", count: 2)
        var platform = try uniquePlatform(tier: "staging")
        let tier = try Fixtures.tier("staging")

        let outcomes = await reconcileUntilReady(rig, &platform, tier: tier)
        let last = try #require(outcomes.last)
        for component in DataTierComponent.allCases {
            let condition = Conditions.find(component.conditionType, in: last.conditions)
            #expect(condition?.status == .true, "\(component): \(condition?.reason ?? "-") \(condition?.message ?? "")")
        }
        #expect(outcomes.count >= 3)
        #expect(outcomes.contains { Conditions.find(.databaseReady, in: $0.conditions)?.reason == "Creating" })
        #expect(outcomes.dropLast().allSatisfy { $0.requeueAfter != nil })
        // Throttled and 5xx creates were retried by the client, and nothing was created twice.
        #expect(rig.proxy.count(of: "CreateDBInstance") == 2)
        #expect(rig.proxy.count(of: "CreateReplicationGroup") >= 2)
        let names = DataTierNames(platform: platform)
        let instance = try #require(try await rig.aws.rds.describeDBInstances(identifiers: [names.dbInstance]).first)
        #expect(instance.instanceClass == "db.t3.medium")
        #expect(instance.tags.contains(AWSTag(key: DataTierNames.platformTagKey, value: names.owner)))
        #expect(last.endpoints.databaseWriter != nil)
        #expect(last.endpoints.cache != nil)
        let documents = names.buckets[.documents]!
        #expect(try await rig.aws.s3.getBucketVersioning(documents) == .enabled)
        #expect(try await rig.aws.s3.getPublicAccessBlock(documents) == .blockAll)
        #expect(try await rig.aws.s3.getBucketPolicy(documents)?.contains("aws:SecureTransport") == true)
        let lifecycle = try await rig.aws.s3.getBucketLifecycleConfiguration(documents)
        #expect(lifecycle?.first { $0.id == "tiering" }?.transitions.map(\.storageClass) == ["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"])
        let credentials = try #require(last.credentialSecrets[names.kubernetesSecret])
        #expect(credentials["DATABASE_PASSWORD"]?.count == 32)
        #expect(credentials["REDIS_AUTH_TOKEN"]?.isEmpty == false)
        for outcome in outcomes {
            #expect(!"\(outcome)".contains(credentials["DATABASE_PASSWORD"]!))
        }

        // A bigger tier: the instance class change is sent to RDS.
        var bigger = tier
        bigger.spec.database.instanceClass = "db.t3.large"
        rig.clock.advance(31)
        _ = await rig.reconciler.reconcile(platform: platform, tier: bigger)
        #expect(rig.proxy.count(of: "ModifyDBInstance") == 1)
    }

    @Test func cleanup_withRetain_leavesEverythingUntaggedFromThePlatform() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        var platform = try uniquePlatform(tier: "dev", policies: ("Retain", "Retain", "Retain"))
        let tier = try Fixtures.tier("dev")
        _ = await reconcileUntilReady(rig, &platform, tier: tier)
        let cleanup = await rig.reconciler.cleanup(platform: platform, tier: tier)
        #expect(cleanup.done, "\(cleanup.conditions.map { "\($0.type) \($0.reason) \($0.message)" })")
        let names = DataTierNames(platform: platform)
        let instance = try #require(try await rig.aws.rds.describeDBInstances(identifiers: [names.dbInstance]).first)
        #expect(!instance.tags.contains { $0.key == DataTierNames.platformTagKey })
        #expect(instance.tags.contains(AWSTag(key: DataTierNames.retainedFromTagKey, value: names.owner)))
        let bucketTags = try await rig.aws.s3.getBucketTagging(names.buckets[.logs]!) ?? []
        #expect(bucketTags.contains(AWSTag(key: DataTierNames.retainedFromTagKey, value: names.owner)))
        #expect(!bucketTags.contains { $0.key == DataTierNames.platformTagKey })
        #expect(try await rig.aws.elastiCache.describeReplicationGroups(id: names.replicationGroup).count == 1)
        #expect(rig.proxy.count(of: "DeleteDBInstance") == 0)
        #expect(rig.proxy.count(of: "DeleteReplicationGroup") == 0)
    }

    @Test func cleanup_withDelete_removesDatabaseAndEmptyBucketsAndStartsCacheDeletion() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        var platform = try uniquePlatform(tier: "dev", policies: ("Delete", "Delete", "Delete"))
        let tier = try Fixtures.tier("dev")
        _ = await reconcileUntilReady(rig, &platform, tier: tier)
        let names = DataTierNames(platform: platform)
        let last = await cleanupUntilDone(rig, platform, tier: tier)
        #expect(rig.proxy.count(of: "DeleteDBInstance") >= 1)
        #expect(rig.proxy.count(of: "DeleteReplicationGroup") == 1)
        #expect(try await rig.aws.rds.describeDBInstances(identifiers: [names.dbInstance]).allSatisfy { $0.status == "deleting" })
        for name in names.buckets.values {
            await #expect(throws: AWSError.self) { _ = try await rig.aws.s3.headBucket(name) }
        }
        // moto keeps deleted replication groups `deleting`, so cleanup waits, as it would for AWS.
        #expect(last?.done == false)
        #expect(Conditions.find(.cacheReady, in: last?.conditions ?? [])?.reason == "Deleting")
    }

    @Test func cleanup_withSnapshot_deletesTheDatabaseAfterAFinalSnapshotAndRetainsBuckets() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        var platform = try uniquePlatform(tier: "dev", policies: ("Snapshot", "Retain", "Retain"))
        let tier = try Fixtures.tier("dev")
        _ = await reconcileUntilReady(rig, &platform, tier: tier)
        let names = DataTierNames(platform: platform)
        let last = await cleanupUntilDone(rig, platform, tier: tier)
        #expect(last?.done == true, "\(last?.conditions.map { "\($0.type) \($0.reason) \($0.message)" } ?? [])")
        var describe = QueryParameters(action: "DescribeDBSnapshots", version: AWSService.rds.apiVersion)
        describe.add("DBSnapshotIdentifier", names.finalDBSnapshot)
        let snapshots = try await rig.client.query(.rds, describe)
        #expect(snapshots.firstDescendant("DBSnapshotIdentifier")?.text == names.finalDBSnapshot)
        #expect(try await rig.aws.rds.describeDBInstances(identifiers: [names.dbInstance]).allSatisfy { $0.status == "deleting" })
        for name in names.buckets.values {
            let tags = try await rig.aws.s3.getBucketTagging(name) ?? []
            #expect(tags.contains(AWSTag(key: DataTierNames.retainedFromTagKey, value: names.owner)))
        }
    }

    @Test func reconcile_whenModifyReplicationGroupFails_reportsItOnCacheReadyAndKeepsTheRestReady() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        var platform = try uniquePlatform(tier: "dev")
        var tier = try Fixtures.tier("dev")
        _ = await reconcileUntilReady(rig, &platform, tier: tier)
        tier.spec.cache.nodeType = "cache.t3.small"
        rig.clock.advance(31)
        // A load balancer's HTML 500 on every attempt (the client retries it first). Injected
        // rather than left to moto: moto 5.2.1 answered this call with an HTML 500 of its own,
        // 5.2.5 implements it, and the test must not hinge on which one CI installs.
        rig.proxy.inject(.htmlError(status: 500), on: "ModifyReplicationGroup", count: 20)
        let outcome = await rig.reconciler.reconcile(platform: platform, tier: tier)
        #expect(rig.proxy.count(of: "ModifyReplicationGroup") >= 1)
        let cache = try #require(Conditions.find(.cacheReady, in: outcome.conditions))
        #expect(cache.status == .false)
        #expect(cache.reason == "InternalFailure")
        #expect(Conditions.find(.databaseReady, in: outcome.conditions)?.status == .true)
        #expect(Conditions.find(.storageReady, in: outcome.conditions)?.status == .true)
        #expect(outcome.requeueAfter != nil)
    }

    /// production (one read replica) → staging (none), through moto's real RDS API: the replica
    /// is deleted, the primary is not, and the platform settles Ready without a reader.
    @Test func reconcile_fromProductionToStaging_deletesTheReadReplicaOnly() async throws {
        let rig = try await rig()
        defer { Task { await rig.proxy.stop() } }
        var platform = try uniquePlatform(tier: "production")
        let ready = await reconcileUntilReady(rig, &platform, tier: try Fixtures.tier("production"))
        let names = DataTierNames(platform: platform)
        #expect(ready.last?.endpoints.databaseReader != nil)
        #expect(try await rig.aws.rds.describeDBInstances(identifiers: [names.readReplica(1)]).count == 1)

        rig.clock.advance(31)
        let outcomes = await reconcileUntilReady(rig, &platform, tier: try Fixtures.tier("staging"))
        #expect(outcomes.flatMap(\.appliedActions).contains { $0.hasPrefix("delete read replica \(names.readReplica(1))") })
        #expect(rig.proxy.count(of: "DeleteDBInstance") == 1)
        let remaining = try await rig.aws.rds.describeDBInstances(identifiers: [names.dbInstance, names.readReplica(1)])
        #expect(remaining.map(\.identifier) == [names.dbInstance])
        let last = try #require(outcomes.last)
        #expect(last.endpoints.databaseReader == nil)
        #expect(Conditions.find(.databaseReady, in: last.conditions)?.status == .true, "\(last.conditions)")
        // Staging's smaller node type goes through ModifyReplicationGroup, which moto 5.2.5 applies.
        #expect(Conditions.find(.cacheReady, in: last.conditions)?.status == .true, "\(last.conditions)")
    }

    @Test func reconcile_withWrongCredentials_reportsTheAWSErrorCodeAndNoSecret() async throws {
        let server = try await MotoServer.start(transport: transport)
        defer { server.stop() }
        try await server.resetAuth(unauthenticatedRequests: 0, transport: transport)
        let secretKey = "wrong-secret-\(UInt32.random(in: 0..<UInt32.max))"
        let client = server.client(transport: transport, credentials: AWSCredentials(accessKeyId: "AKIDUNKNOWN0000000000", secretAccessKey: secretKey))
        let aws = AWSServices(client: client)
        let clock = TestClock()
        let observer = DataTierObserver(rds: aws.rds, elastiCache: aws.elastiCache, now: clock.now)
        let reconciler = DataTierReconciler(aws: aws, observer: observer, network: DataTierNetwork(subnetIds: ["subnet-1"]), now: clock.now)
        let outcome = await reconciler.reconcile(platform: try uniquePlatform(tier: "dev"), tier: try Fixtures.tier("dev"))
        for component in DataTierComponent.allCases {
            let condition = try #require(Conditions.find(component.conditionType, in: outcome.conditions))
            #expect(condition.status == .false)
            #expect(["InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"].contains(condition.reason), "\(condition.reason)")
        }
        let everything = "\(outcome)" + outcome.conditions.map { "\($0.reason) \($0.message)" }.joined()
        #expect(!everything.contains(secretKey))
        #expect(outcome.credentialSecrets.isEmpty)
    }
}
