import Foundation
import Synchronization

@testable import AWS
import DataTier

/// An in-memory AWS that records every call: RDS, ElastiCache, S3, Secrets Manager and
/// CloudWatch share one state so tests can look across services.
final class FakeCloud: Sendable {
    struct Bucket {
        var tags: [AWSTag]?
        var objects = 0
        var versioning: S3.VersioningStatus?
        var encryption: S3.EncryptionRule?
        var publicAccessBlock: S3.PublicAccessBlock?
        var policy: String?
        var lifecycle: [S3.LifecycleRule]?
    }
    struct Secret {
        var arn: String
        var value: String
        var version: Int
        var tags: [AWSTag]
        var deleted = false
    }
    struct State {
        var calls: [String] = []
        var instances: [String: RDS.DBInstance] = [:]
        var instanceInputs: [String: RDS.CreateDBInstanceInput] = [:]
        var modifies: [RDS.ModifyDBInstanceInput] = []
        var deletes: [RDS.DeleteDBInstanceInput] = []
        var groups: [String: ElastiCache.ReplicationGroup] = [:]
        var groupInputs: [String: ElastiCache.CreateReplicationGroupInput] = [:]
        var groupDeletes: [(String, String?)] = []
        var tags: [String: [AWSTag]] = [:]
        var subnetGroups: Set<String> = []
        var cacheSubnetGroups: Set<String> = []
        var secrets: [String: Secret] = [:]
        var buckets: [String: Bucket] = [:]
        var alarms: [String: CloudWatch.MetricAlarm] = [:]
        /// Errors to throw for an operation, consumed one per call.
        var faults: [String: [AWSError]] = [:]
        /// Status new instances and groups start in.
        var initialStatus = "creating"
        var passwordCounter = 0
        /// DescribeDBInstances calls that see nothing (RDS's eventual consistency after a create).
        var hiddenDescribes = 0
    }
    let state = Mutex(State())

    var rds: FakeRDS { FakeRDS(cloud: self) }
    var elastiCache: FakeElastiCache { FakeElastiCache(cloud: self) }
    var s3: FakeS3 { FakeS3(cloud: self) }
    var secretsManager: FakeSecrets { FakeSecrets(cloud: self) }
    var cloudWatch: FakeCloudWatch { FakeCloudWatch(cloud: self) }

    var calls: [String] { state.withLock { $0.calls } }
    func count(_ operation: String) -> Int { calls.filter { $0 == operation }.count }
    func inject(_ code: String, on operation: String, status: Int = 400, message: String = "injected", times: Int = 1) {
        state.withLock {
            $0.faults[operation, default: []] += Array(
                repeating: AWSError(origin: .service, service: "fake", operation: operation, code: code, message: message, status: status), count: times)
        }
    }

    /// Every creating/modifying resource becomes available.
    func settle() {
        state.withLock { s in
            for (id, var i) in s.instances where i.status != "deleting" {
                i.status = "available"
                s.instances[id] = i
            }
            for (id, var g) in s.groups where g.status != "deleting" {
                g.status = "available"
                s.groups[id] = g
            }
        }
    }

    /// Finishes deletions.
    func finishDeletes() {
        state.withLock { s in
            for (id, i) in s.instances where i.status == "deleting" { s.instances[id] = nil }
            for (id, g) in s.groups where g.status == "deleting" { s.groups[id] = nil }
        }
    }

    /// Records the call and throws an injected fault, if any.
    func record(_ operation: String) throws(AWSError) {
        let fault: AWSError? = state.withLock { s in
            s.calls.append(operation)
            guard var list = s.faults[operation], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            s.faults[operation] = list
            return first
        }
        if let fault { throw fault }
    }

    func error(_ operation: String, _ code: String, status: Int = 400) -> AWSError {
        AWSError(origin: .service, service: "fake", operation: operation, code: code, message: "\(code) from the fake", status: status)
    }
}

struct FakeRDS: RDSAPI {
    let cloud: FakeCloud
    func createDBSubnetGroup(_ input: RDS.CreateDBSubnetGroupInput) async throws(AWSError) -> RDS.DBSubnetGroup {
        try cloud.record("CreateDBSubnetGroup")
        let exists = cloud.state.withLock { s in !s.subnetGroups.insert(input.name).inserted }
        if exists { throw cloud.error("CreateDBSubnetGroup", "DBSubnetGroupAlreadyExists") }
        return RDS.DBSubnetGroup(name: input.name, subnetIds: input.subnetIds)
    }
    func describeDBSubnetGroups(name: String?) async throws(AWSError) -> [RDS.DBSubnetGroup] { [] }
    func deleteDBSubnetGroup(name: String) async throws(AWSError) {
        try cloud.record("DeleteDBSubnetGroup")
        let removed = cloud.state.withLock { $0.subnetGroups.remove(name) != nil }
        if !removed { throw cloud.error("DeleteDBSubnetGroup", "DBSubnetGroupNotFoundFault", status: 404) }
    }
    func createDBInstance(_ input: RDS.CreateDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try cloud.record("CreateDBInstance")
        let created: RDS.DBInstance? = cloud.state.withLock { s in
            guard s.instances[input.identifier] == nil else { return nil }
            var i = Fixtures.instance(input.identifier, status: s.initialStatus, instanceClass: input.instanceClass, storage: input.allocatedStorageGiB ?? 20,
                multiAZ: input.multiAZ ?? false, encrypted: input.storageEncrypted ?? false, tags: input.tags)
            i.deletionProtection = input.deletionProtection
            s.instances[input.identifier] = i
            s.instanceInputs[input.identifier] = input
            return i
        }
        guard let created else { throw cloud.error("CreateDBInstance", "DBInstanceAlreadyExists") }
        return created
    }
    func createDBInstanceReadReplica(_ input: RDS.CreateDBInstanceReadReplicaInput) async throws(AWSError) -> RDS.DBInstance {
        try cloud.record("CreateDBInstanceReadReplica")
        return cloud.state.withLock { s in
            let i = Fixtures.instance(input.identifier, status: s.initialStatus, instanceClass: input.instanceClass ?? "db.r5.large", tags: input.tags, source: input.sourceIdentifier)
            s.instances[input.identifier] = i
            return i
        }
    }
    func describeDBInstances(identifiers: [String]) async throws(AWSError) -> [RDS.DBInstance] {
        try cloud.record("DescribeDBInstances")
        return cloud.state.withLock { s in
            if s.hiddenDescribes > 0 {
                s.hiddenDescribes -= 1
                return []
            }
            return identifiers.compactMap { id in
                guard var i = s.instances[id] else { return nil }
                if let arn = i.arn, let tags = s.tags[arn] { i.tags = tags }
                return i
            }
        }
    }
    func modifyDBInstance(_ input: RDS.ModifyDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try cloud.record("ModifyDBInstance")
        return cloud.state.withLock { s in
            s.modifies.append(input)
            var i = s.instances[input.identifier]!
            if let p = input.deletionProtection { i.deletionProtection = p }
            if input.applyImmediately == true {
                i.instanceClass = input.instanceClass ?? i.instanceClass
                i.allocatedStorageGiB = input.allocatedStorageGiB ?? i.allocatedStorageGiB
                i.multiAZ = input.multiAZ ?? i.multiAZ
                if input.instanceClass != nil || input.allocatedStorageGiB != nil || input.multiAZ != nil { i.status = "modifying" }
            }
            s.instances[input.identifier] = i
            return i
        }
    }
    func deleteDBInstance(_ input: RDS.DeleteDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try cloud.record("DeleteDBInstance")
        let deleted: RDS.DBInstance? = cloud.state.withLock { s in
            guard var i = s.instances[input.identifier] else { return nil }
            s.deletes.append(input)
            i.status = "deleting"
            s.instances[input.identifier] = i
            return i
        }
        guard let deleted else { throw cloud.error("DeleteDBInstance", "DBInstanceNotFound", status: 404) }
        return deleted
    }
    func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError) {
        try cloud.record("AddTagsToResource")
        cloud.state.withLock { s in
            guard let id = s.instances.first(where: { $0.value.arn == arn })?.key else { return }
            var current = s.tags[arn] ?? s.instances[id]!.tags
            current = current.filter { t in !tags.contains { $0.key == t.key } } + tags
            s.tags[arn] = current
        }
    }
    func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError) {
        try cloud.record("RemoveTagsFromResource")
        cloud.state.withLock { s in
            guard let id = s.instances.first(where: { $0.value.arn == arn })?.key else { return }
            s.tags[arn] = (s.tags[arn] ?? s.instances[id]!.tags).filter { !keys.contains($0.key) }
        }
    }
    func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag] {
        try cloud.record("ListTagsForResource")
        return cloud.state.withLock { $0.tags[arn] ?? [] }
    }
}

struct FakeElastiCache: ElastiCacheAPI {
    let cloud: FakeCloud
    func createCacheSubnetGroup(_ input: ElastiCache.CreateCacheSubnetGroupInput) async throws(AWSError) {
        try cloud.record("CreateCacheSubnetGroup")
        _ = cloud.state.withLock { $0.cacheSubnetGroups.insert(input.name) }
    }
    func deleteCacheSubnetGroup(name: String) async throws(AWSError) {
        try cloud.record("DeleteCacheSubnetGroup")
        let removed = cloud.state.withLock { $0.cacheSubnetGroups.remove(name) != nil }
        if !removed { throw cloud.error("DeleteCacheSubnetGroup", "CacheSubnetGroupNotFoundFault", status: 404) }
    }
    func createReplicationGroup(_ input: ElastiCache.CreateReplicationGroupInput) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        try cloud.record("CreateReplicationGroup")
        let created: ElastiCache.ReplicationGroup? = cloud.state.withLock { s in
            guard s.groups[input.id] == nil else { return nil }
            let g = Fixtures.group(input.id, status: s.initialStatus, nodeType: input.nodeType,
                transit: input.transitEncryptionEnabled ?? false, atRest: input.atRestEncryptionEnabled ?? false)
            s.groups[input.id] = g
            s.groupInputs[input.id] = input
            s.tags[g.arn!] = input.tags
            return g
        }
        guard let created else { throw cloud.error("CreateReplicationGroup", "ReplicationGroupAlreadyExistsFault") }
        return created
    }
    func describeReplicationGroups(id: String?) async throws(AWSError) -> [ElastiCache.ReplicationGroup] {
        try cloud.record("DescribeReplicationGroups")
        return cloud.state.withLock { s in id.map { s.groups[$0].map { [$0] } ?? [] } ?? Array(s.groups.values) }
    }
    func modifyReplicationGroup(_ input: ElastiCache.ModifyReplicationGroupInput) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        try cloud.record("ModifyReplicationGroup")
        return cloud.state.withLock { s in
            var g = s.groups[input.id]!
            g.nodeType = input.nodeType ?? g.nodeType
            s.groups[input.id] = g
            return g
        }
    }
    func deleteReplicationGroup(id: String, finalSnapshotIdentifier: String?) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        try cloud.record("DeleteReplicationGroup")
        return cloud.state.withLock { s in
            var g = s.groups[id]!
            g.status = "deleting"
            s.groups[id] = g
            s.groupDeletes.append((id, finalSnapshotIdentifier))
            return g
        }
    }
    func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError) {
        try cloud.record("ElastiCache.AddTagsToResource")
        cloud.state.withLock { s in s.tags[arn] = (s.tags[arn] ?? []).filter { t in !tags.contains { $0.key == t.key } } + tags }
    }
    func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag] {
        try cloud.record("ElastiCache.ListTagsForResource")
        return cloud.state.withLock { $0.tags[arn] ?? [] }
    }
    func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError) {
        try cloud.record("ElastiCache.RemoveTagsFromResource")
        cloud.state.withLock { s in s.tags[arn] = (s.tags[arn] ?? []).filter { !keys.contains($0.key) } }
    }
}

struct FakeS3: S3API {
    let cloud: FakeCloud
    private func update(_ op: String, _ bucket: String, _ body: (inout FakeCloud.Bucket) -> Void) throws(AWSError) {
        try cloud.record(op)
        let found = cloud.state.withLock { s -> Bool in
            guard var b = s.buckets[bucket] else { return false }
            body(&b)
            s.buckets[bucket] = b
            return true
        }
        if !found { throw cloud.error(op, "NoSuchBucket", status: 404) }
    }
    func createBucket(_ bucket: String, tags: [AWSTag]) async throws(AWSError) {
        try cloud.record("CreateBucket")
        let existed = cloud.state.withLock { s -> Bool in
            if s.buckets[bucket] != nil { return true }
            s.buckets[bucket] = FakeCloud.Bucket(tags: tags.isEmpty ? nil : tags)
            return false
        }
        if existed { throw cloud.error("CreateBucket", "BucketAlreadyOwnedByYou", status: 409) }
    }
    func headBucket(_ bucket: String) async throws(AWSError) -> S3.BucketHead {
        try update("HeadBucket", bucket) { _ in }
        return S3.BucketHead(region: "us-west-2")
    }
    func putBucketVersioning(_ bucket: String, status: S3.VersioningStatus) async throws(AWSError) { try update("PutBucketVersioning", bucket) { $0.versioning = status } }
    func getBucketVersioning(_ bucket: String) async throws(AWSError) -> S3.VersioningStatus? { nil }
    func putBucketEncryption(_ bucket: String, _ rule: S3.EncryptionRule) async throws(AWSError) { try update("PutBucketEncryption", bucket) { $0.encryption = rule } }
    func getBucketEncryption(_ bucket: String) async throws(AWSError) -> S3.EncryptionRule? { nil }
    func putPublicAccessBlock(_ bucket: String, _ block: S3.PublicAccessBlock) async throws(AWSError) { try update("PutPublicAccessBlock", bucket) { $0.publicAccessBlock = block } }
    func getPublicAccessBlock(_ bucket: String) async throws(AWSError) -> S3.PublicAccessBlock? { nil }
    func putBucketPolicy(_ bucket: String, policy: String) async throws(AWSError) { try update("PutBucketPolicy", bucket) { $0.policy = policy } }
    func getBucketPolicy(_ bucket: String) async throws(AWSError) -> String? { nil }
    func putBucketLifecycleConfiguration(_ bucket: String, rules: [S3.LifecycleRule]) async throws(AWSError) { try update("PutBucketLifecycleConfiguration", bucket) { $0.lifecycle = rules } }
    func getBucketLifecycleConfiguration(_ bucket: String) async throws(AWSError) -> [S3.LifecycleRule]? { nil }
    func putBucketTagging(_ bucket: String, tags: [AWSTag]) async throws(AWSError) { try update("PutBucketTagging", bucket) { $0.tags = tags } }
    func getBucketTagging(_ bucket: String) async throws(AWSError) -> [AWSTag]? {
        var tags: [AWSTag]?
        try update("GetBucketTagging", bucket) { tags = $0.tags }
        return tags
    }
    func listObjectsV2(_ bucket: String, prefix: String?, maxKeys: Int?, continuationToken: String?) async throws(AWSError) -> S3.ObjectList {
        var count = 0
        try update("ListObjectsV2", bucket) { count = $0.objects }
        return S3.ObjectList(keys: (0..<min(count, maxKeys ?? 1000)).map { "k\($0)" }, keyCount: min(count, maxKeys ?? 1000), isTruncated: false, nextContinuationToken: nil)
    }
    func deleteBucket(_ bucket: String) async throws(AWSError) {
        try cloud.record("DeleteBucket")
        let result = cloud.state.withLock { s -> String? in
            guard let b = s.buckets[bucket] else { return "NoSuchBucket" }
            if b.objects > 0 { return "BucketNotEmpty" }
            s.buckets[bucket] = nil
            return nil
        }
        if let result { throw cloud.error("DeleteBucket", result, status: result == "NoSuchBucket" ? 404 : 409) }
    }
}

struct FakeSecrets: SecretsManagerAPI {
    let cloud: FakeCloud
    func createSecret(_ input: SecretsManager.CreateSecretInput) async throws(AWSError) -> SecretsManager.SecretReference {
        try cloud.record("CreateSecret")
        let arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:\(input.name)-AbCdEf"
        let existed = cloud.state.withLock { s -> Bool in
            if s.secrets[input.name] != nil { return true }
            s.secrets[input.name] = .init(arn: arn, value: input.secretString, version: 1, tags: input.tags)
            return false
        }
        if existed { throw cloud.error("CreateSecret", "ResourceExistsException") }
        return SecretsManager.SecretReference(arn: arn, name: input.name, versionId: "v1")
    }
    func getSecretValue(id: String) async throws(AWSError) -> SecretsManager.SecretValue {
        try cloud.record("GetSecretValue")
        guard let s = cloud.state.withLock({ $0.secrets[id] }), !s.deleted else { throw cloud.error("GetSecretValue", "ResourceNotFoundException", status: 400) }
        return SecretsManager.SecretValue(arn: s.arn, name: id, versionId: "v\(s.version)", secretString: s.value)
    }
    func putSecretValue(id: String, secretString: String) async throws(AWSError) -> SecretsManager.SecretReference {
        try cloud.record("PutSecretValue")
        let s = cloud.state.withLock { st -> FakeCloud.Secret in
            st.secrets[id]!.value = secretString
            st.secrets[id]!.version += 1
            return st.secrets[id]!
        }
        return SecretsManager.SecretReference(arn: s.arn, name: id, versionId: "v\(s.version)")
    }
    func describeSecret(id: String) async throws(AWSError) -> SecretsManager.SecretDescription {
        try cloud.record("DescribeSecret")
        guard let s = cloud.state.withLock({ $0.secrets[id] }) else { throw cloud.error("DescribeSecret", "ResourceNotFoundException", status: 400) }
        return SecretsManager.SecretDescription(arn: s.arn, name: id, tags: s.tags, deletedDate: s.deleted ? 1 : nil)
    }
    func tagResource(id: String, tags: [AWSTag]) async throws(AWSError) {
        try cloud.record("TagResource")
        cloud.state.withLock { s in s.secrets[id]?.tags += tags }
    }
    func deleteSecret(id: String, recoveryWindowInDays: Int?) async throws(AWSError) -> SecretsManager.SecretReference {
        try cloud.record("DeleteSecret")
        guard let s = cloud.state.withLock({ st -> FakeCloud.Secret? in st.secrets[id]?.deleted = true; return st.secrets[id] }) else {
            throw cloud.error("DeleteSecret", "ResourceNotFoundException", status: 400)
        }
        return SecretsManager.SecretReference(arn: s.arn, name: id)
    }
    func getRandomPassword(_ input: SecretsManager.RandomPasswordInput) async throws(AWSError) -> SecretsManager.Password {
        try cloud.record("GetRandomPassword")
        let n = cloud.state.withLock { s -> Int in s.passwordCounter += 1; return s.passwordCounter }
        return SecretsManager.Password(value: "Sup3rSecretValue\(n)" + String(repeating: "x", count: max(0, input.length - 17)))
    }
}

struct FakeCloudWatch: CloudWatchAPI {
    let cloud: FakeCloud
    func putMetricAlarm(_ alarm: CloudWatch.MetricAlarm) async throws(AWSError) {
        try cloud.record("PutMetricAlarm")
        cloud.state.withLock { $0.alarms[alarm.name] = alarm }
    }
    func describeAlarms(names: [String], namePrefix: String?) async throws(AWSError) -> [CloudWatch.MetricAlarm] {
        try cloud.record("DescribeAlarms")
        return cloud.state.withLock { s in names.compactMap { s.alarms[$0] } }
    }
    func deleteAlarms(names: [String]) async throws(AWSError) {
        try cloud.record("DeleteAlarms")
        cloud.state.withLock { s in for n in names { s.alarms[n] = nil } }
    }
}

extension FakeCloud {
    var services: AWSServices { AWSServices(rds: rds, elastiCache: elastiCache, s3: s3, secretsManager: secretsManager, cloudWatch: cloudWatch) }
}
