import PlatformAPI
import Testing

@testable import AWS
@testable import DataTier

@Suite struct DataTierPlanTests {
    let network = Fixtures.network

    func plan(tier: String, observed: ObservedAWSState = ObservedAWSState(), edit: (inout JSONValueEdit) -> Void = { _ in }) throws -> (DataTierPlan, DataTierNames) {
        var e = JSONValueEdit()
        edit(&e)
        let platform = try Fixtures.platform(tier: tier, edit: e.apply)
        return (DataTierPlanner.plan(platform: platform, tier: try Fixtures.tier(tier), observed: observed, network: network), DataTierNames(platform: platform))
    }

    @Test func plan_forProductionFromNothing_createsEverythingWithTierSizingAndOurTags() throws {
        let (plan, names) = try plan(tier: "production")
        guard case .createDBInstance(let db, let secret)? = plan.actions.first(where: { if case .createDBInstance = $0 { true } else { false } }) else {
            Issue.record("no DB instance in \(plan.actions)")
            return
        }
        #expect(db.identifier == names.dbInstance)
        #expect(db.instanceClass == "db.r5.large")
        #expect(db.allocatedStorageGiB == 100)
        #expect(db.multiAZ == true)
        #expect(db.storageEncrypted == true)
        #expect(db.backupRetentionPeriod == 7)
        #expect(db.publiclyAccessible == false)
        #expect(db.deletionProtection == true)
        #expect(db.masterUserPassword == nil)
        #expect(secret == names.databaseSecret)
        #expect(db.tags.contains(AWSTag(key: "medsearch.io/platform", value: "clinic/demo")))

        let kinds = plan.actions.map { action -> String in
            switch action {
            case .createSecret(_, let kind, _): "secret-\(kind.rawValue)"
            case .createDBSubnetGroup: "db-subnet-group"
            case .createDBInstance: "db"
            case .createCacheSubnetGroup: "cache-subnet-group"
            case .createReplicationGroup: "redis"
            case .createBucket: "bucket"
            case .configureBucket: "configure-bucket"
            case .putAlarm: "alarm"
            default: "other"
            }
        }
        #expect(kinds.filter { $0 == "bucket" }.count == 5)
        #expect(kinds.filter { $0 == "configure-bucket" }.count == 5)
        #expect(kinds.filter { $0 == "alarm" }.count == 2)
        // Secrets come before what needs them.
        #expect(kinds.firstIndex(of: "secret-database")! < kinds.firstIndex(of: "db")!)
        #expect(kinds.firstIndex(of: "db-subnet-group")! < kinds.firstIndex(of: "db")!)
        #expect(kinds.firstIndex(of: "secret-cache")! < kinds.firstIndex(of: "redis")!)
        // Read replicas wait for an available primary.
        #expect(!plan.actions.contains { if case .createReadReplica = $0 { true } else { false } })

        guard case .createReplicationGroup(let redis, let token)? = plan.actions.first(where: { if case .createReplicationGroup = $0 { true } else { false } }) else {
            Issue.record("no replication group")
            return
        }
        #expect(redis.id == names.replicationGroup)
        #expect(redis.topology == .cacheClusters(2))
        #expect(redis.automaticFailoverEnabled == true)
        #expect(redis.transitEncryptionEnabled == true)
        #expect(redis.atRestEncryptionEnabled == true)
        #expect(redis.authToken == nil)
        #expect(token == names.cacheSecret)
    }

    @Test func plan_forDev_createsSingleNodeRedisAndUnversionedDocuments() throws {
        let (plan, names) = try plan(tier: "dev")
        let redis = plan.actions.compactMap { if case .createReplicationGroup(let i, _) = $0 { i } else { nil } }.first
        #expect(redis?.topology == .cacheClusters(1))
        #expect(redis?.automaticFailoverEnabled == false)
        let configs = Dictionary(uniqueKeysWithValues: plan.actions.compactMap { if case .configureBucket(let n, let c) = $0 { (n, c) } else { nil } })
        #expect(configs[names.buckets[.documents]!]?.versioning == false)
        // Backups are always versioned: a backup overwritten by mistake must be recoverable.
        #expect(configs[names.buckets[.backups]!]?.versioning == true)
        let db = plan.actions.compactMap { if case .createDBInstance(let i, _) = $0 { i } else { nil } }.first
        #expect(db?.deletionProtection == false)
        #expect(db?.backupRetentionPeriod == 1)
    }

    @Test func plan_buckets_areEncryptedPrivateTLSOnlyWithTieredLifecycle() throws {
        let (plan, names) = try plan(tier: "staging")
        let configs = Dictionary(uniqueKeysWithValues: plan.actions.compactMap { if case .configureBucket(let n, let c) = $0 { (n, c) } else { nil } })
        #expect(Set(configs.keys) == Set(BucketRole.allCases.map { "clinic-demo-\($0.nameSuffix)" }))
        for (name, c) in configs {
            #expect(c.encryption.algorithm == "AES256")
            #expect(c.publicAccessBlock == .blockAll)
            #expect(c.policy.contains("\"aws:SecureTransport\":\"false\""))
            #expect(c.policy.contains("arn:aws:s3:::\(name)/*"))
            #expect(c.tags.contains(AWSTag(key: "medsearch.io/platform", value: "clinic/demo")))
        }
        let documents = try #require(configs[names.buckets[.documents]!])
        let tiering = try #require(documents.lifecycle.first { $0.id == "tiering" })
        #expect(tiering.transitions == [
            S3.Transition(days: 30, storageClass: "STANDARD_IA"), S3.Transition(days: 90, storageClass: "GLACIER"),
            S3.Transition(days: 365, storageClass: "DEEP_ARCHIVE"),
        ])
    }

    @Test func plan_withKMSKey_usesKMSEncryptionForBucketsDatabaseAndCache() throws {
        let platform = try Fixtures.platform(tier: "production")
        let kms = DataTierNetwork(subnetIds: ["subnet-a"], kmsKeyId: "arn:aws:kms:us-west-2:123456789012:key/k")
        let plan = DataTierPlanner.plan(platform: platform, tier: try Fixtures.tier("production"), observed: .init(), network: kms)
        let config = plan.actions.compactMap { if case .configureBucket(_, let c) = $0 { c } else { nil } }.first
        #expect(config?.encryption.algorithm == "aws:kms")
        #expect(plan.actions.compactMap { if case .createDBInstance(let i, _) = $0 { i.kmsKeyId } else { nil } } == [kms.kmsKeyId!])
    }

    @Test func plan_onHIPAATier_keepsGuardrailsEvenIfTheTierWereLoosened() throws {
        var tier = try Fixtures.tier("production")
        tier.spec.database.storageEncrypted = false
        tier.spec.database.backupRetentionDays = 1
        tier.spec.cache.transitEncryption = false
        tier.spec.storage.publicStaticAssets = true
        let platform = try Fixtures.platform(tier: "production")
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: .init(), network: network)
        let db = try #require(plan.actions.compactMap { if case .createDBInstance(let i, _) = $0 { i } else { nil } }.first)
        #expect(db.storageEncrypted == true)
        #expect(db.backupRetentionPeriod == 7)
        let redis = try #require(plan.actions.compactMap { if case .createReplicationGroup(let i, _) = $0 { i } else { nil } }.first)
        #expect(redis.transitEncryptionEnabled == true)
        let configs = plan.actions.compactMap { if case .configureBucket(_, let c) = $0 { c } else { nil } }
        #expect(configs.allSatisfy { $0.publicAccessBlock == .blockAll })
    }

    @Test func plan_whenPublicStaticAssetsAllowedOnNonHIPAATier_opensOnlyThatBucketsPolicyBlock() throws {
        var tier = try Fixtures.tier("dev")
        tier.spec.storage.publicStaticAssets = true
        let platform = try Fixtures.platform(tier: "dev")
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: .init(), network: network)
        let configs = plan.actions.compactMap { if case .configureBucket(_, let c) = $0 { c } else { nil } }
        #expect(configs.filter { $0.publicAccessBlock != .blockAll }.map(\.role) == [.staticAssets])
    }

    func observedAllOurs(_ names: DataTierNames, instance: RDS.DBInstance? = nil) -> ObservedAWSState {
        var o = ObservedAWSState()
        o.dbInstance = instance ?? Fixtures.instance(names.dbInstance, tags: names.tags(component: "database"))
        o.readReplicas = [Fixtures.instance(names.readReplica(1), tags: names.tags(component: "database"), source: names.dbInstance)]
        o.replicationGroup = Fixtures.group(names.replicationGroup)
        o.replicationGroupTags = names.tags(component: "cache")
        o.secrets = [names.databaseSecret: "arn:db", names.cacheSecret: "arn:cache"]
        o.appliedBackupRetentionDays = 7
        return o
    }

    @Test func plan_whenEverythingMatches_hasOnlyBucketAndAlarmPutsUntilTheyAreKnown() throws {
        let platform = try Fixtures.platform(tier: "production")
        let tier = try Fixtures.tier("production")
        let names = DataTierNames(platform: platform)
        var observed = observedAllOurs(names)
        let first = DataTierPlanner.plan(platform: platform, tier: tier, observed: observed, network: network)
        #expect(first.actions.allSatisfy { if case .configureBucket = $0 { true } else if case .putAlarm = $0 { true } else if case .createBucket = $0 { true } else { false } })
        for role in BucketRole.allCases {
            let name = names.buckets[role]!
            observed.buckets[name] = ObservedBucket(
                tags: names.tags(component: "storage"),
                appliedConfiguration: DataTierPlanner.bucketConfiguration(role: role, name: name, tier: tier, effective: platform.effectiveDataTier(tier: tier), names: names, network: network))
        }
        for alarm in DataTierPlanner.alarms(platform: platform, names: names) { observed.alarms[alarm.name] = alarm }
        let second = DataTierPlanner.plan(platform: platform, tier: tier, observed: observed, network: network)
        #expect(second.actions.isEmpty)
        #expect(second.findings.isEmpty)
    }

    @Test func plan_whenTierGrows_modifiesClassStorageAndRetentionInTheMaintenanceWindowOnProduction() throws {
        let platform = try Fixtures.platform(tier: "production")
        var tier = try Fixtures.tier("production")
        tier.spec.database.instanceClass = "db.r5.xlarge"
        tier.spec.database.allocatedStorageGiB = 200
        tier.spec.database.backupRetentionDays = 14
        let names = DataTierNames(platform: platform)
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: observedAllOurs(names), network: network)
        let modify = try #require(plan.actions.compactMap { if case .modifyDBInstance(let m) = $0 { m } else { nil } }.first)
        #expect(modify.instanceClass == "db.r5.xlarge")
        #expect(modify.allocatedStorageGiB == 200)
        #expect(modify.backupRetentionPeriod == 14)
        #expect(modify.applyImmediately == false)
        #expect(plan.findings.contains { $0.reason == "PendingMaintenanceWindow" && $0.message.contains("next maintenance window") })
    }

    @Test func plan_whenTierShrinksStorage_neverShrinksAndSaysSo() throws {
        let platform = try Fixtures.platform(tier: "production")
        let tier = try Fixtures.tier("production")
        let names = DataTierNames(platform: platform)
        let observed = observedAllOurs(names, instance: Fixtures.instance(names.dbInstance, storage: 500, tags: names.tags(component: "database")))
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: observed, network: network)
        #expect(!plan.actions.contains { if case .modifyDBInstance = $0 { true } else { false } })
        #expect(plan.findings.contains { $0.reason == "StorageNeverShrinks" && $0.severity == .note })
    }

    @Test func plan_whenEncryptionDiffers_reportsReplacementRequiredInsteadOfChangingIt() throws {
        let platform = try Fixtures.platform(tier: "production")
        let names = DataTierNames(platform: platform)
        var observed = observedAllOurs(names, instance: Fixtures.instance(names.dbInstance, encrypted: false, tags: names.tags(component: "database")))
        observed.replicationGroup = Fixtures.group(names.replicationGroup, atRest: false)
        let plan = DataTierPlanner.plan(platform: platform, tier: try Fixtures.tier("production"), observed: observed, network: network)
        #expect(plan.findings.filter { $0.reason == "ReplacementRequired" && $0.severity == .degraded }.map(\.component) == [.database, .cache])
        #expect(!plan.actions.contains { if case .modifyDBInstance = $0 { true } else { false } })
    }

    @Test func plan_whileInstanceIsCreating_plansNoModificationOrReplica() throws {
        let platform = try Fixtures.platform(tier: "production")
        var tier = try Fixtures.tier("production")
        tier.spec.database.instanceClass = "db.r5.xlarge"
        let names = DataTierNames(platform: platform)
        var observed = observedAllOurs(names, instance: Fixtures.instance(names.dbInstance, status: "creating", tags: names.tags(component: "database")))
        observed.readReplicas = []
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: observed, network: network)
        #expect(!plan.actions.contains { if case .modifyDBInstance = $0 { true } else if case .createReadReplica = $0 { true } else { false } })
    }

    @Test func plan_whenPrimaryAvailableAndReplicaMissing_createsReplicaOfThePrimary() throws {
        let platform = try Fixtures.platform(tier: "production")
        let names = DataTierNames(platform: platform)
        var observed = observedAllOurs(names)
        observed.readReplicas = []
        let plan = DataTierPlanner.plan(platform: platform, tier: try Fixtures.tier("production"), observed: observed, network: network)
        let replicas = plan.actions.compactMap { if case .createReadReplica(let r) = $0 { r } else { nil } }
        #expect(replicas.map(\.identifier) == [names.readReplica(1)])
        #expect(replicas.first?.sourceIdentifier == names.dbInstance)
        // Explicitly off, so the replica can go when the tier wants fewer (moto would copy the primary's).
        #expect(replicas.first?.deletionProtection == false)
    }

    /// Staging wants no replica; production left one behind.
    func surplusPlan(_ replica: (DataTierNames) -> RDS.DBInstance) throws -> (DataTierPlan, DataTierNames) {
        let platform = try Fixtures.platform(tier: "staging")
        let names = DataTierNames(platform: platform)
        var observed = observedAllOurs(names)
        observed.readReplicas = []
        observed.surplusReadReplicas = [replica(names)]
        return (DataTierPlanner.plan(platform: platform, tier: try Fixtures.tier("staging"), observed: observed, network: network), names)
    }

    func replicaDeletes(_ plan: DataTierPlan) -> [String] {
        plan.actions.compactMap { if case .deleteReadReplica(let id, _) = $0 { id } else { nil } }
    }

    @Test func plan_whenTheTierWantsFewerReplicas_deletesOurSurplusReplica() throws {
        let (plan, names) = try surplusPlan { Fixtures.instance($0.readReplica(1), tags: $0.tags(component: "database"), source: $0.dbInstance) }
        #expect(replicaDeletes(plan) == [names.readReplica(1)])
        #expect(!plan.findings.contains { $0.reason == "ExtraReadReplicas" })
        #expect(!plan.actions.contains { if case .createReadReplica = $0 { true } else { false } })
    }

    @Test func plan_surplusReplicaWithoutOurTag_isLeftInPlaceWithANote() throws {
        let (plan, names) = try surplusPlan { Fixtures.instance($0.readReplica(1), tags: [], source: $0.dbInstance) }
        #expect(replicaDeletes(plan).isEmpty)
        let note = try #require(plan.findings.first { $0.reason == "ExtraReadReplicas" })
        #expect(note.severity == .note)
        #expect(note.message.contains(names.readReplica(1)))
    }

    @Test func plan_surplusReplicaOfAnotherPrimary_isLeftInPlace() throws {
        let (plan, _) = try surplusPlan { Fixtures.instance($0.readReplica(1), tags: $0.tags(component: "database"), source: "someone-elses-db") }
        #expect(replicaDeletes(plan).isEmpty)
        #expect(plan.findings.contains { $0.reason == "ExtraReadReplicas" })
    }

    @Test func plan_surplusReplicaWithDeletionProtection_isLeftInPlaceWithANote() throws {
        let (plan, _) = try surplusPlan { names in
            var replica = Fixtures.instance(names.readReplica(1), tags: names.tags(component: "database"), source: names.dbInstance)
            replica.deletionProtection = true
            return replica
        }
        #expect(replicaDeletes(plan).isEmpty)
        #expect(plan.findings.contains { $0.reason == "ExtraReadReplicas" && $0.message.contains("deletion protection") })
    }

    @Test func plan_surplusReplicaAlreadyDeleting_isNotDeletedAgain() throws {
        let (plan, _) = try surplusPlan {
            Fixtures.instance($0.readReplica(1), status: "deleting", tags: $0.tags(component: "database"), source: $0.dbInstance)
        }
        #expect(replicaDeletes(plan).isEmpty)
    }

    @Test func plan_whenNodeTypeChanges_modifiesTheReplicationGroup() throws {
        let platform = try Fixtures.platform(tier: "production")
        var tier = try Fixtures.tier("production")
        tier.spec.cache.nodeType = "cache.r5.xlarge"
        let names = DataTierNames(platform: platform)
        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: observedAllOurs(names), network: network)
        #expect(plan.actions.compactMap { if case .modifyReplicationGroup(let m) = $0 { m.nodeType } else { nil } } == ["cache.r5.xlarge"])
    }

    @Test func plan_descriptionsNeverContainSecretValues() throws {
        let (plan, _) = try plan(tier: "production")
        let text = plan.actions.map(\.description).joined(separator: "\n") + "\(plan)"
        #expect(!text.lowercased().contains("password\":"))
        #expect(!text.contains("Sup3r"))
        for action in plan.actions {
            if case .createDBInstance(let i, _) = action { #expect(i.masterUserPassword == nil) }
            if case .createReplicationGroup(let i, _) = action { #expect(i.authToken == nil) }
        }
    }
}

/// Edits applied to the fixture platform object, collected before decoding.
struct JSONValueEdit {
    var edits: [([String], JSONValue)] = []
    mutating func set(_ path: [String], _ value: JSONValue) { edits.append((path, value)) }
    func apply(_ object: inout JSONValue) { for (path, value) in edits { object[path: path] = value } }
}

import JSON
