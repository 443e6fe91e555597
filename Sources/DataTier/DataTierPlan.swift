import AWS
import Foundation
import PlatformAPI

/// The data-tier components a platform reports a condition for.
public enum DataTierComponent: String, Sendable, CaseIterable {
    case database, cache, storage

    public var conditionType: PlatformConditionType {
        switch self {
        case .database: .databaseReady
        case .cache: .cacheReady
        case .storage: .storageReady
        }
    }
}

/// What the operator knows about one bucket: its tags (nil when it has none) and the
/// configuration it last applied (nil when unknown, e.g. after a restart).
public struct ObservedBucket: Sendable, Equatable {
    public var tags: [AWSTag]?
    public var appliedConfiguration: BucketConfiguration?
    public init(tags: [AWSTag]?, appliedConfiguration: BucketConfiguration? = nil) {
        self.tags = tags
        self.appliedConfiguration = appliedConfiguration
    }
}

/// The AWS side of one platform as last observed; absent entries do not exist.
public struct ObservedAWSState: Sendable, Equatable {
    public var dbInstance: RDS.DBInstance?
    public var readReplicas: [RDS.DBInstance] = []
    /// Read replicas under our names beyond the count now wanted (left from a larger tier).
    public var surplusReadReplicas: [RDS.DBInstance] = []
    /// Backup retention the operator last set (DescribeDBInstances' value is not decoded); nil = unknown.
    public var appliedBackupRetentionDays: Int?
    public var replicationGroup: ElastiCache.ReplicationGroup?
    public var replicationGroupTags: [AWSTag]?
    /// Secrets Manager secrets that exist, by name → ARN.
    public var secrets: [String: String] = [:]
    public var buckets: [String: ObservedBucket] = [:]
    /// Alarms as last put, by name.
    public var alarms: [String: CloudWatch.MetricAlarm] = [:]
    public init() {}
}

/// The whole desired configuration of one bucket; compared as a unit so one difference re-puts it.
public struct BucketConfiguration: Sendable, Equatable {
    public var role: BucketRole
    public var versioning: Bool
    public var encryption: S3.EncryptionRule
    public var publicAccessBlock: S3.PublicAccessBlock
    /// Bucket policy JSON denying requests without TLS.
    public var policy: String
    public var lifecycle: [S3.LifecycleRule]
    public var tags: [AWSTag]
}

/// Which credential a Secrets Manager secret holds.
public enum CredentialKind: String, Sendable, Equatable {
    /// RDS master password (`username`, `password` in the Kubernetes Secret).
    case database
    /// Redis AUTH token.
    case cache
}

/// One step of applying a plan. Descriptions never include secret values: passwords are
/// not part of the plan at all, the apply step reads them from Secrets Manager.
public enum DataTierAction: Sendable, Equatable, CustomStringConvertible {
    case createSecret(name: String, kind: CredentialKind, tags: [AWSTag])
    case createDBSubnetGroup(RDS.CreateDBSubnetGroupInput)
    /// `masterUserPassword` is nil here; the apply step fills it from the database secret.
    case createDBInstance(RDS.CreateDBInstanceInput, passwordSecret: String)
    case createReadReplica(RDS.CreateDBInstanceReadReplicaInput)
    /// A replica beyond the `wanted` count; no final snapshot (the primary has all its data).
    case deleteReadReplica(identifier: String, wanted: Int)
    case modifyDBInstance(RDS.ModifyDBInstanceInput)
    /// Tag an existing resource as ours (explicit adoption through the spec).
    case tagDBInstance(arn: String, tags: [AWSTag])
    case createCacheSubnetGroup(ElastiCache.CreateCacheSubnetGroupInput)
    /// `authToken` is nil here; the apply step fills it from the cache secret.
    case createReplicationGroup(ElastiCache.CreateReplicationGroupInput, authTokenSecret: String?)
    case modifyReplicationGroup(ElastiCache.ModifyReplicationGroupInput)
    case tagReplicationGroup(arn: String, tags: [AWSTag])
    case createBucket(name: String, tags: [AWSTag])
    case configureBucket(name: String, BucketConfiguration)
    case putAlarm(CloudWatch.MetricAlarm)

    public var component: DataTierComponent {
        switch self {
        case .createSecret(_, let kind, _): kind == .database ? .database : .cache
        case .createDBSubnetGroup, .createDBInstance, .createReadReplica, .deleteReadReplica, .modifyDBInstance, .tagDBInstance,
            .putAlarm:
            .database
        case .createCacheSubnetGroup, .createReplicationGroup, .modifyReplicationGroup, .tagReplicationGroup: .cache
        case .createBucket, .configureBucket: .storage
        }
    }

    public var description: String {
        switch self {
        case .createSecret(let name, let kind, _): "create \(kind.rawValue) credential secret \(name)"
        case .createDBSubnetGroup(let i): "create DB subnet group \(i.name)"
        case .createDBInstance(let i, _):
            "create DB instance \(i.identifier) (\(i.instanceClass), \(i.allocatedStorageGiB ?? 0) GiB, multiAZ \(i.multiAZ ?? false), encrypted \(i.storageEncrypted ?? false))"
        case .createReadReplica(let i): "create read replica \(i.identifier) of \(i.sourceIdentifier)"
        case .deleteReadReplica(let identifier, let wanted): "delete read replica \(identifier) (the tier now wants \(wanted))"
        case .modifyDBInstance(let i):
            "modify DB instance \(i.identifier)"
                + (i.instanceClass.map { " class \($0)" } ?? "") + (i.allocatedStorageGiB.map { " storage \($0) GiB" } ?? "")
                + (i.multiAZ.map { " multiAZ \($0)" } ?? "") + (i.backupRetentionPeriod.map { " backup retention \($0) d" } ?? "")
                + ((i.applyImmediately ?? false) ? " now" : " in the next maintenance window")
        case .tagDBInstance(let arn, _): "tag DB instance \(arn) as ours"
        case .createCacheSubnetGroup(let i): "create cache subnet group \(i.name)"
        case .createReplicationGroup(let i, _): "create replication group \(i.id) (\(i.nodeType))"
        case .modifyReplicationGroup(let i): "modify replication group \(i.id)" + (i.nodeType.map { " node type \($0)" } ?? "")
        case .tagReplicationGroup(let arn, _): "tag replication group \(arn) as ours"
        case .createBucket(let name, _): "create bucket \(name)"
        case .configureBucket(let name, _): "configure bucket \(name) (versioning, encryption, public access block, TLS-only policy, lifecycle, tags)"
        case .putAlarm(let a): "put alarm \(a.name)"
        }
    }
}

/// Something the plan noticed that is not an action: a refusal, a field that cannot change,
/// a change that waits for a maintenance window.
public struct DataTierFinding: Sendable, Equatable {
    public enum Severity: Sendable, Equatable {
        /// Informational; the component can still be ready.
        case note
        /// Needs a person (e.g. replacement); the platform is degraded but keeps running.
        case degraded
        /// The operator will not touch the resource; the component is not ready.
        case blocking
    }
    public var component: DataTierComponent
    public var severity: Severity
    public var reason: String
    public var message: String
}

/// The actions that bring one platform's data tier to its desired state, and what to report.
public struct DataTierPlan: Sendable, Equatable {
    public var actions: [DataTierAction] = []
    public var findings: [DataTierFinding] = []
    public init() {}
}

/// Network placement the operator is configured with (the platform spec carries none).
public struct DataTierNetwork: Sendable, Equatable {
    public var subnetIds: [String]
    public var securityGroupIds: [String]
    public var kmsKeyId: String?
    public init(subnetIds: [String], securityGroupIds: [String] = [], kmsKeyId: String? = nil) {
        self.subnetIds = subnetIds
        self.securityGroupIds = securityGroupIds
        self.kmsKeyId = kmsKeyId
    }
}

/// Computes a platform's data-tier plan from its spec, tier and the observed AWS state.
///
/// Guarantees: pure and deterministic; never shrinks storage; never plans a change to a
/// resource whose tags name another owner or no owner (unless the spec adopts it); HIPAA
/// tiers always get encryption, blocked public access and at least 7 days of backups.
public enum DataTierPlanner {
    public static let engine = "postgres"
    public static let masterUsername = "medsearch"

    public static func isProduction(_ tier: ServiceTier) -> Bool { tier.spec.hipaa || tier.name == "production" }

    public static func plan(
        platform: MedicalSearchPlatform, tier: ServiceTier, observed: ObservedAWSState, network: DataTierNetwork
    ) -> DataTierPlan {
        var plan = DataTierPlan()
        let names = DataTierNames(platform: platform)
        let effective = platform.effectiveDataTier(tier: tier)
        planDatabase(platform, tier, effective, names, observed, network, &plan)
        planCache(platform, tier, effective, names, observed, network, &plan)
        planStorage(platform, tier, effective, names, observed, network, &plan)
        planAlarms(platform, names, observed, &plan)
        return plan
    }

    // MARK: Database

    static func planDatabase(
        _ platform: MedicalSearchPlatform, _ tier: ServiceTier, _ e: EffectiveDataTier, _ names: DataTierNames,
        _ observed: ObservedAWSState, _ network: DataTierNetwork, _ plan: inout DataTierPlan
    ) {
        let hipaa = tier.spec.hipaa
        let encrypted = e.database.storageEncrypted || hipaa
        let retention = Int(hipaa ? max(e.database.backupRetentionDays, 7) : e.database.backupRetentionDays)
        let adopting = platform.spec.database.adoptInstanceIdentifier != nil
        let tags = names.tags(component: "database")
        if !adopting && observed.secrets[names.databaseSecret] == nil {
            plan.actions.append(.createSecret(name: names.databaseSecret, kind: .database, tags: tags))
        }
        guard let db = observed.dbInstance else {
            if adopting {
                plan.findings.append(.init(
                    component: .database, severity: .blocking, reason: "AdoptionTargetNotFound",
                    message: "DB instance \(names.dbInstance) named in spec.database.adopt does not exist"))
                return
            }
            plan.actions.append(.createDBSubnetGroup(.init(
                name: names.dbSubnetGroup, description: "medsearch \(names.owner) database", subnetIds: network.subnetIds, tags: tags)))
            plan.actions.append(.createDBInstance(.init(
                identifier: names.dbInstance, instanceClass: e.database.instanceClass, engine: engine,
                engineVersion: e.database.engineVersion, allocatedStorageGiB: Int(e.database.allocatedStorageGiB),
                storageType: "gp3", databaseName: platform.spec.database.databaseName, masterUsername: masterUsername,
                subnetGroupName: names.dbSubnetGroup, vpcSecurityGroupIds: network.securityGroupIds,
                multiAZ: e.database.multiAZ, storageEncrypted: encrypted, kmsKeyId: encrypted ? network.kmsKeyId : nil,
                backupRetentionPeriod: retention, publiclyAccessible: false, deletionProtection: isProduction(tier),
                tags: tags), passwordSecret: names.databaseSecret))
            return
        }
        switch names.ownership(of: db.tags) {
        case .ours: break
        case .untagged where adopting:
            if let arn = db.arn { plan.actions.append(.tagDBInstance(arn: arn, tags: tags)) }
        case .untagged:
            plan.findings.append(.init(
                component: .database, severity: .blocking, reason: "NotOurs",
                message: "DB instance \(db.identifier) exists without our tag; adopt it through spec.database.adopt to manage it"))
            return
        case .another(let other):
            plan.findings.append(.init(
                component: .database, severity: .blocking, reason: "AlreadyOwnedByAnother",
                message: "DB instance \(db.identifier) belongs to platform \(other)"))
            return
        }
        if let observedEncrypted = db.storageEncrypted, observedEncrypted != encrypted {
            plan.findings.append(.init(
                component: .database, severity: .degraded, reason: "ReplacementRequired",
                message: "storage encryption is fixed at creation (\(observedEncrypted ? "on" : "off")); changing it needs a new instance and a data migration"))
        }
        // Changes wait for a settled instance: RDS rejects modifications while it is creating or modifying.
        guard db.status == "available" else { return }
        let production = isProduction(tier)
        var modify = RDS.ModifyDBInstanceInput(identifier: db.identifier)
        var changed = false
        if let current = db.instanceClass, current != e.database.instanceClass {
            modify.instanceClass = e.database.instanceClass
            changed = true
            plan.findings.append(.init(
                component: .database, severity: .note, reason: production ? "PendingMaintenanceWindow" : "Modifying",
                message: production
                    ? "instance class change \(current) → \(e.database.instanceClass) applies in the next maintenance window"
                    : "instance class change \(current) → \(e.database.instanceClass) applies now"))
        }
        let desiredStorage = Int(e.database.allocatedStorageGiB)
        if let current = db.allocatedStorageGiB {
            if desiredStorage > current {
                modify.allocatedStorageGiB = desiredStorage
                changed = true
            } else if desiredStorage < current {
                plan.findings.append(.init(
                    component: .database, severity: .note, reason: "StorageNeverShrinks",
                    message: "RDS storage cannot shrink: keeping \(current) GiB (desired \(desiredStorage) GiB)"))
            }
        }
        if let current = db.multiAZ, current != e.database.multiAZ {
            modify.multiAZ = e.database.multiAZ
            changed = true
        }
        if let applied = observed.appliedBackupRetentionDays, applied != retention {
            modify.backupRetentionPeriod = retention
            changed = true
        }
        if changed {
            modify.applyImmediately = !production
            plan.actions.append(.modifyDBInstance(modify))
        }
        let wanted = Int(e.database.readReplicas)
        let existing = Set(observed.readReplicas.map(\.identifier))
        if wanted > 0 {
            for index in 1...wanted where !existing.contains(names.readReplica(index)) {
                plan.actions.append(.createReadReplica(.init(
                    identifier: names.readReplica(index), sourceIdentifier: db.identifier, instanceClass: e.database.instanceClass,
                    // Explicitly off: a replica holds no data of its own, and must be removable
                    // when the tier wants fewer.
                    vpcSecurityGroupIds: network.securityGroupIds, publiclyAccessible: false, deletionProtection: false,
                    tags: tags)))
            }
        }
        // A smaller tier (or override) wants fewer replicas. A read replica holds no data the
        // primary lacks, so the surplus goes (it costs as much as the primary); only replicas
        // that are ours by tag and replicate our primary, never anything else under the name.
        for replica in observed.surplusReadReplicas where replica.status != "deleting" {
            guard isOurReplica(replica, of: db, names) else {
                plan.findings.append(.init(
                    component: .database, severity: .note, reason: "ExtraReadReplicas",
                    message: "\(replica.identifier) is beyond the \(wanted) read replica(s) wanted but is not a replica of ours; left in place"))
                continue
            }
            guard replica.deletionProtection != true else {
                // Someone turned protection on by hand; that outranks the tier.
                plan.findings.append(.init(
                    component: .database, severity: .note, reason: "ExtraReadReplicas",
                    message: "\(replica.identifier) is beyond the \(wanted) read replica(s) wanted but has deletion protection on; left in place until it is turned off"))
                continue
            }
            plan.actions.append(.deleteReadReplica(identifier: replica.identifier, wanted: wanted))
        }
    }

    /// A surplus replica the planner removes (or is removing): tagged ours, replicating our
    /// primary, not deletion-protected. The rest stay, with a note.
    public static func isRemovableSurplus(_ replica: RDS.DBInstance, primary: RDS.DBInstance, _ names: DataTierNames) -> Bool {
        isOurReplica(replica, of: primary, names) && replica.deletionProtection != true
    }

    static func isOurReplica(_ replica: RDS.DBInstance, of primary: RDS.DBInstance, _ names: DataTierNames) -> Bool {
        names.ownership(of: replica.tags) == .ours && replica.readReplicaSourceIdentifier == primary.identifier
    }

    // MARK: Cache

    static func planCache(
        _ platform: MedicalSearchPlatform, _ tier: ServiceTier, _ e: EffectiveDataTier, _ names: DataTierNames,
        _ observed: ObservedAWSState, _ network: DataTierNetwork, _ plan: inout DataTierPlan
    ) {
        let hipaa = tier.spec.hipaa
        let transit = e.cache.transitEncryption || hipaa
        let atRest = e.cache.atRestEncryption || hipaa
        let adopting = platform.spec.cache.adoptReplicationGroupId != nil
        let tags = names.tags(component: "cache")
        // ElastiCache accepts an AUTH token only with in-transit encryption.
        if transit && !adopting && observed.secrets[names.cacheSecret] == nil {
            plan.actions.append(.createSecret(name: names.cacheSecret, kind: .cache, tags: tags))
        }
        guard let group = observed.replicationGroup else {
            if adopting {
                plan.findings.append(.init(
                    component: .cache, severity: .blocking, reason: "AdoptionTargetNotFound",
                    message: "replication group \(names.replicationGroup) named in spec.cache.adopt does not exist"))
                return
            }
            let replicas = Int(e.cache.replicas)
            plan.actions.append(.createCacheSubnetGroup(.init(
                name: names.cacheSubnetGroup, description: "medsearch \(names.owner) cache", subnetIds: network.subnetIds, tags: tags)))
            plan.actions.append(.createReplicationGroup(.init(
                id: names.replicationGroup, groupDescription: "medsearch \(names.owner)", nodeType: e.cache.nodeType,
                topology: .cacheClusters(1 + replicas), automaticFailoverEnabled: replicas > 0, multiAZEnabled: replicas > 0,
                subnetGroupName: names.cacheSubnetGroup, securityGroupIds: network.securityGroupIds,
                transitEncryptionEnabled: transit, atRestEncryptionEnabled: atRest, kmsKeyId: atRest ? network.kmsKeyId : nil,
                port: 6379, snapshotRetentionLimit: isProduction(tier) ? 7 : 1, tags: tags),
                authTokenSecret: transit ? names.cacheSecret : nil))
            return
        }
        switch names.ownership(of: observed.replicationGroupTags ?? []) {
        case .ours: break
        case .untagged where adopting:
            if let arn = group.arn { plan.actions.append(.tagReplicationGroup(arn: arn, tags: tags)) }
        case .untagged:
            plan.findings.append(.init(
                component: .cache, severity: .blocking, reason: "NotOurs",
                message: "replication group \(group.id) exists without our tag; adopt it through spec.cache.adopt to manage it"))
            return
        case .another(let other):
            plan.findings.append(.init(
                component: .cache, severity: .blocking, reason: "AlreadyOwnedByAnother",
                message: "replication group \(group.id) belongs to platform \(other)"))
            return
        }
        var fixed: [String] = []
        if let observedTransit = group.transitEncryptionEnabled, observedTransit != transit { fixed.append("in-transit encryption") }
        if let observedAtRest = group.atRestEncryptionEnabled, observedAtRest != atRest { fixed.append("at-rest encryption") }
        if !fixed.isEmpty {
            plan.findings.append(.init(
                component: .cache, severity: .degraded, reason: "ReplacementRequired",
                message: "\(fixed.joined(separator: " and ")) is fixed at creation; changing it needs a new replication group"))
        }
        guard group.status == "available" else { return }
        if let current = group.nodeType, current != e.cache.nodeType {
            plan.actions.append(.modifyReplicationGroup(.init(id: group.id, nodeType: e.cache.nodeType, applyImmediately: !isProduction(tier))))
        }
    }

    // MARK: Storage

    /// The bucket policy denying every request made without TLS.
    public static func tlsOnlyPolicy(bucket: String) -> String {
        return """
            {"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",\
            "Resource":["arn:aws:s3:::\(bucket)","arn:aws:s3:::\(bucket)/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
            """
    }

    /// Lifecycle rules per role: data that ages (documents, logs, backups) moves down the
    /// storage classes; static assets and model artefacts are read often and stay Standard.
    public static func lifecycle(role: BucketRole, _ l: StorageLifecycle) -> [S3.LifecycleRule] {
        let abort = S3.LifecycleRule(id: "abort-incomplete-uploads", abortIncompleteMultipartUploadDays: 7)
        switch role {
        case .staticAssets, .mlArtifacts:
            return [abort]
        case .documents, .logs, .backups:
            let transitions = [
                S3.Transition(days: Int(l.infrequentAccessAfterDays), storageClass: "STANDARD_IA"),
                S3.Transition(days: Int(l.glacierAfterDays), storageClass: "GLACIER"),
                S3.Transition(days: Int(l.deepArchiveAfterDays), storageClass: "DEEP_ARCHIVE"),
            ]
            return [S3.LifecycleRule(id: "tiering", transitions: transitions), abort]
        }
    }

    public static func bucketConfiguration(
        role: BucketRole, name: String, tier: ServiceTier, effective e: EffectiveDataTier, names: DataTierNames, network: DataTierNetwork
    ) -> BucketConfiguration {
        let hipaa = tier.spec.hipaa
        let kms = network.kmsKeyId
        let encryption = kms.map { S3.EncryptionRule(algorithm: "aws:kms", kmsKeyId: $0, bucketKeyEnabled: true) }
            ?? S3.EncryptionRule(algorithm: "AES256")
        // Static assets may be public only where the tier allows it and it is not HIPAA.
        let publicAllowed = role == .staticAssets && e.storage.publicStaticAssets && !hipaa
        let block = publicAllowed
            ? S3.PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false)
            : S3.PublicAccessBlock.blockAll
        return BucketConfiguration(
            role: role, versioning: e.storage.versioning || hipaa || role == .backups, encryption: encryption,
            publicAccessBlock: block, policy: tlsOnlyPolicy(bucket: name), lifecycle: lifecycle(role: role, e.storage.lifecycle),
            tags: names.tags(component: "storage") + [AWSTag(key: "medsearch.io/bucket-role", value: role.nameSuffix)])
    }

    static func planStorage(
        _ platform: MedicalSearchPlatform, _ tier: ServiceTier, _ e: EffectiveDataTier, _ names: DataTierNames,
        _ observed: ObservedAWSState, _ network: DataTierNetwork, _ plan: inout DataTierPlan
    ) {
        for role in BucketRole.allCases {
            let name = names.buckets[role]!
            let adopting = platform.spec.storage.adoptBuckets[role] != nil
            let desired = bucketConfiguration(role: role, name: name, tier: tier, effective: e, names: names, network: network)
            guard let bucket = observed.buckets[name] else {
                if adopting {
                    plan.findings.append(.init(
                        component: .storage, severity: .blocking, reason: "AdoptionTargetNotFound",
                        message: "bucket \(name) named in spec.storage.adopt does not exist"))
                    continue
                }
                plan.actions.append(.createBucket(name: name, tags: desired.tags))
                plan.actions.append(.configureBucket(name: name, desired))
                continue
            }
            switch names.ownership(of: bucket.tags ?? []) {
            case .ours: break
            case .untagged where adopting: break  // configureBucket puts our tags
            case .untagged:
                plan.findings.append(.init(
                    component: .storage, severity: .blocking, reason: "NotOurs",
                    message: "bucket \(name) exists without our tag; adopt it through spec.storage.adopt to manage it"))
                continue
            case .another(let other):
                plan.findings.append(.init(
                    component: .storage, severity: .blocking, reason: "AlreadyOwnedByAnother",
                    message: "bucket \(name) belongs to platform \(other)"))
                continue
            }
            if bucket.appliedConfiguration != desired {
                plan.actions.append(.configureBucket(name: name, desired))
            }
        }
    }

    // MARK: Alarms

    public static func alarms(platform: MedicalSearchPlatform, names: DataTierNames) -> [CloudWatch.MetricAlarm] {
        let settings = platform.spec.alarms
        guard settings.enabled else { return [] }
        let tags = names.tags(component: "alarm")
        return [
            CloudWatch.MetricAlarm(
                name: names.cpuAlarm, description: "medsearch \(names.owner): database CPU above \(settings.cpuUtilizationPercent) %",
                namespace: "AWS/RDS", metricName: "CPUUtilization",
                dimensions: [.init(name: "DBInstanceIdentifier", value: names.dbInstance)], statistic: "Average",
                periodSeconds: 300, evaluationPeriods: 2, threshold: Double(settings.cpuUtilizationPercent),
                comparisonOperator: "GreaterThanThreshold", treatMissingData: "missing", tags: tags),
            // Services publish their 5xx rate (percent of requests) as MedSearch/ErrorRate.
            CloudWatch.MetricAlarm(
                name: names.errorRateAlarm, description: "medsearch \(names.owner): error rate above \(settings.http5xxRatePercent) %",
                namespace: "MedSearch", metricName: "ErrorRate", dimensions: [.init(name: "Platform", value: names.owner)],
                statistic: "Average", periodSeconds: 300, evaluationPeriods: 1, threshold: Double(settings.http5xxRatePercent),
                comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching", tags: tags),
        ]
    }

    static func planAlarms(_ platform: MedicalSearchPlatform, _ names: DataTierNames, _ observed: ObservedAWSState, _ plan: inout DataTierPlan) {
        for alarm in alarms(platform: platform, names: names) where observed.alarms[alarm.name] != alarm {
            plan.actions.append(.putAlarm(alarm))
        }
    }
}
