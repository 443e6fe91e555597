import AWSSigning
import AWSTestSupport
import Foundation
import HTTPTransport
import Testing

@testable import AWS

private let transport = HTTPTransport()
private let moto = MotoLease(transport: transport)

private func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0..<UInt32.max))"
}

/// Every service client operation against moto_server on loopback.
@Suite(.enabled(if: MotoServer.isInstalled, "moto_server is not installed (pip install 'moto[server]'); AWS integration tests skipped"))
struct MotoIntegrationTests {
    func client() async throws -> AWSClient { try await moto.get().client(transport: transport) }

    @Test func rds_subnetGroupInstanceReplicaAndTags_roundTripThroughMoto() async throws {
        let aws = try await client()
        let rds = RDSClient(client: aws)
        let subnets = try await aws.makeTestSubnets()
        let groupName = uniqueName("subnets")

        let group = try await rds.createDBSubnetGroup(
            .init(name: groupName, description: "test group", subnetIds: subnets, tags: [AWSTag(key: "team", value: "search")]))
        #expect(group.name == groupName)
        #expect(Set(group.subnetIds) == Set(subnets))
        let described = try await rds.describeDBSubnetGroups(name: groupName)
        #expect(described.map(\.name) == [groupName])

        let primaryId = uniqueName("db")
        let created = try await rds.createDBInstance(
            .init(
                identifier: primaryId, instanceClass: "db.t3.micro", engine: "postgres", engineVersion: "16.3",
                allocatedStorageGiB: 20, masterUsername: "medsearch", masterUserPassword: "not-a-real-password-1",
                subnetGroupName: groupName, multiAZ: false, storageEncrypted: true,
                tags: [AWSTag(key: "owner", value: "medsearch-operator")]))
        #expect(created.identifier == primaryId)
        #expect(created.engine == "postgres")

        let replicaId = uniqueName("replica")
        let replica = try await rds.createDBInstanceReadReplica(
            .init(identifier: replicaId, sourceIdentifier: primaryId, instanceClass: "db.t3.micro"))
        #expect(replica.identifier == replicaId)

        let both = try await rds.describeDBInstances(identifiers: [primaryId, replicaId, "absent-\(primaryId)"])
        #expect(Set(both.map(\.identifier)) == [primaryId, replicaId])
        let primary = try #require(both.first { $0.identifier == primaryId })
        #expect(primary.endpointAddress != nil)
        #expect(primary.readReplicaIdentifiers == [replicaId])
        #expect(both.first { $0.identifier == replicaId }?.readReplicaSourceIdentifier == primaryId)

        let modified = try await rds.modifyDBInstance(
            .init(identifier: primaryId, instanceClass: "db.t3.small", applyImmediately: true))
        #expect(modified.identifier == primaryId)
        #expect(try await rds.describeDBInstances(identifiers: [primaryId]).first?.instanceClass == "db.t3.small")

        let arn = try #require(primary.arn)
        try await rds.addTagsToResource(arn: arn, tags: [AWSTag(key: "tier", value: "gold")])
        var tags = try await rds.listTagsForResource(arn: arn)
        #expect(tags.contains(AWSTag(key: "tier", value: "gold")))
        #expect(tags.contains(AWSTag(key: "owner", value: "medsearch-operator")))
        try await rds.removeTagsFromResource(arn: arn, keys: ["tier"])
        tags = try await rds.listTagsForResource(arn: arn)
        #expect(!tags.contains { $0.key == "tier" })

        _ = try await rds.deleteDBInstance(.init(identifier: replicaId, skipFinalSnapshot: true))
        _ = try await rds.deleteDBInstance(
            .init(identifier: primaryId, skipFinalSnapshot: false, finalSnapshotIdentifier: "\(primaryId)-final",
                deleteAutomatedBackups: true))
        #expect(try await rds.describeDBInstances(identifiers: [primaryId, replicaId]).isEmpty)
        try await rds.deleteDBSubnetGroup(name: groupName)
        #expect(try await rds.describeDBSubnetGroups(name: nil).allSatisfy { $0.name != groupName })
    }

    @Test func rds_describeDBInstances_whenMoreIdentifiersThanOneBatch_sendsSeveralFilteredRequests() async throws {
        let aws = try await client()
        let rds = RDSClient(client: aws)
        let id = uniqueName("batched")
        _ = try await rds.createDBInstance(
            .init(identifier: id, instanceClass: "db.t3.micro", engine: "postgres", allocatedStorageGiB: 20,
                masterUsername: "u", masterUserPassword: "password-123456"))
        // The real instance sits in the second batch, so a client that sent only the first
        // batch would not find it.
        let identifiers = (0..<RDS.describeBatchSize).map { "missing-\($0)" } + [id]
        let found = try await rds.describeDBInstances(identifiers: identifiers)
        #expect(found.map(\.identifier) == [id])
        _ = try await rds.deleteDBInstance(.init(identifier: id, skipFinalSnapshot: true))
    }

    @Test func rds_whenInstanceIsMissing_throwsTypedNotFound() async throws {
        let rds = RDSClient(client: try await client())
        let error = await #expect(throws: AWSError.self) {
            _ = try await rds.modifyDBInstance(.init(identifier: "no-such-db", instanceClass: "db.t3.small"))
        }
        #expect(error?.code == "DBInstanceNotFound")
        #expect(error?.status == 404)
        #expect(error?.isNotFound == true)
        #expect(error?.service == "rds")
        #expect(error?.operation == "ModifyDBInstance")
    }

    @Test func elastiCache_subnetGroupReplicationGroupAndTags_roundTripThroughMoto() async throws {
        let aws = try await client()
        let cache = ElastiCacheClient(client: aws)
        let subnets = try await aws.makeTestSubnets()
        let groupName = uniqueName("cache-subnets")
        try await cache.createCacheSubnetGroup(.init(name: groupName, description: "cache", subnetIds: subnets))

        let id = uniqueName("rg")
        let created = try await cache.createReplicationGroup(
            .init(
                id: id, groupDescription: "medsearch cache", nodeType: "cache.t3.micro", engine: "redis",
                topology: .cacheClusters(2), automaticFailoverEnabled: true, subnetGroupName: groupName,
                transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "auth-token-0123456789abcdef"))
        #expect(created.id == id)
        let described = try #require(try await cache.describeReplicationGroups(id: id).first)
        #expect(described.id == id)
        #expect(described.transitEncryptionEnabled == true)
        #expect(described.atRestEncryptionEnabled == true)
        // moto ignores NumCacheClusters (always one member when cluster mode is off); the
        // request's encoding of it is checked in the serialization tests.
        #expect(!described.memberClusters.isEmpty)
        #expect(described.primaryEndpointAddress != nil)

        let arn = try #require(described.arn)
        try await cache.addTagsToResource(arn: arn, tags: [AWSTag(key: "tier", value: "gold")])
        #expect(try await cache.listTagsForResource(arn: arn).contains(AWSTag(key: "tier", value: "gold")))
        try await cache.removeTagsFromResource(arn: arn, keys: ["tier"])
        #expect(try await cache.listTagsForResource(arn: arn).allSatisfy { $0.key != "tier" })

        // moto implements ModifyReplicationGroup since 5.2.5 (the pinned version); the answer's
        // ReplicationGroup element decodes like the create and describe ones.
        let modified = try await cache.modifyReplicationGroup(
            .init(id: id, nodeType: "cache.t3.small", snapshotRetentionLimit: 3, applyImmediately: true))
        #expect(modified.id == id)
        #expect(modified.nodeType == "cache.t3.small")
        #expect(try await cache.describeReplicationGroups(id: id).first?.nodeType == "cache.t3.small")

        let deleting = try await cache.deleteReplicationGroup(id: id, finalSnapshotIdentifier: "\(id)-final")
        #expect(deleting.id == id)
        #expect(deleting.status == "deleting")

        // Known moto gap: DeleteCacheSubnetGroup answers HTTP 500 with HTML; same expectation.
        do {
            try await cache.deleteCacheSubnetGroup(name: groupName)
        } catch {
            #expect(error.status == 500)
        }
    }

    @Test func elastiCache_whenGroupIsMissing_throwsTypedNotFound() async throws {
        let cache = ElastiCacheClient(client: try await client())
        let error = await #expect(throws: AWSError.self) { _ = try await cache.describeReplicationGroups(id: "absent-rg") }
        #expect(error?.code == "ReplicationGroupNotFoundFault")
        #expect(error?.isNotFound == true)
    }

    @Test func s3_bucketConfiguration_roundTripsThroughMoto() async throws {
        let s3 = S3Client(client: try await moto.get().client(transport: transport, region: "eu-west-1"))
        let bucket = uniqueName("medsearch-docs")
        try await s3.createBucket(bucket, tags: [AWSTag(key: "owner", value: "medsearch")])
        let head = try await s3.headBucket(bucket)
        #expect(head.region == "eu-west-1")

        #expect(try await s3.getBucketVersioning(bucket) == nil)
        try await s3.putBucketVersioning(bucket, status: .enabled)
        #expect(try await s3.getBucketVersioning(bucket) == .enabled)

        #expect(try await s3.getPublicAccessBlock(bucket) == nil)
        try await s3.putPublicAccessBlock(bucket, .blockAll)
        #expect(try await s3.getPublicAccessBlock(bucket) == .blockAll)

        let rule = S3.EncryptionRule(algorithm: "aws:kms", kmsKeyId: "alias/medsearch", bucketKeyEnabled: true)
        try await s3.putBucketEncryption(bucket, rule)
        #expect(try await s3.getBucketEncryption(bucket) == rule)

        #expect(try await s3.getBucketPolicy(bucket) == nil)
        let policy = #"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::\#(bucket)/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#
        try await s3.putBucketPolicy(bucket, policy: policy)
        #expect(try await s3.getBucketPolicy(bucket) == policy)

        #expect(try await s3.getBucketLifecycleConfiguration(bucket) == nil)
        let rules = [
            S3.LifecycleRule(
                id: "archive", prefix: "exports/", expirationDays: 365, transitions: [S3.Transition(days: 30, storageClass: "STANDARD_IA")],
                noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7)
        ]
        try await s3.putBucketLifecycleConfiguration(bucket, rules: rules)
        #expect(try await s3.getBucketLifecycleConfiguration(bucket) == rules)

        #expect(try await s3.getBucketTagging(bucket) == [AWSTag(key: "owner", value: "medsearch")])
        try await s3.putBucketTagging(bucket, tags: [AWSTag(key: "a", value: "1"), AWSTag(key: "b", value: "")])
        #expect(Set(try await s3.getBucketTagging(bucket) ?? []) == [AWSTag(key: "a", value: "1"), AWSTag(key: "b", value: "")])

        let listing = try await s3.listObjectsV2(bucket, prefix: nil, maxKeys: 1, continuationToken: nil)
        #expect(listing.isEmpty)
        try await s3.deleteBucket(bucket)
        let error = await #expect(throws: AWSError.self) { _ = try await s3.headBucket(bucket) }
        #expect(error?.status == 404)
        #expect(error?.isNotFound == true)
    }

    @Test func s3_createBucket_inUSEast1_sendsNoLocationConstraintAndSucceeds() async throws {
        let s3 = S3Client(client: try await client())
        let bucket = uniqueName("medsearch-east")
        try await s3.createBucket(bucket, tags: [])
        #expect(try await s3.headBucket(bucket).region == "us-east-1")
        try await s3.deleteBucket(bucket)
    }

    @Test func secretsManager_secretLifecycle_roundTripsThroughMoto() async throws {
        let secrets = SecretsManagerClient(client: try await client())
        let name = uniqueName("medsearch/db")
        let created = try await secrets.createSecret(
            .init(name: name, secretDescription: "db password", secretString: #"{"password":"first"}"#,
                tags: [AWSTag(key: "owner", value: "medsearch")]))
        #expect(created.name == name)
        #expect(created.arn.contains(name))
        #expect(try await secrets.getSecretValue(id: name).secretString == #"{"password":"first"}"#)

        let updated = try await secrets.putSecretValue(id: name, secretString: #"{"password":"second"}"#)
        #expect(updated.versionId != created.versionId)
        #expect(try await secrets.getSecretValue(id: created.arn).secretString == #"{"password":"second"}"#)

        try await secrets.tagResource(id: name, tags: [AWSTag(key: "tier", value: "gold")])
        let description = try await secrets.describeSecret(id: name)
        #expect(description.secretDescription == "db password")
        #expect(Set(description.tags) == [AWSTag(key: "owner", value: "medsearch"), AWSTag(key: "tier", value: "gold")])
        #expect(description.deletedDate == nil)

        let password = try await secrets.getRandomPassword(.init(length: 32, excludePunctuation: true))
        #expect(password.value.count == 32)
        #expect(password.value.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(!"\(password)".contains(password.value))

        _ = try await secrets.deleteSecret(id: name, recoveryWindowInDays: 7)
        #expect(try await secrets.describeSecret(id: name).deletedDate != nil)
    }

    @Test func secretsManager_whenSecretIsMissing_decodesJSONTypeIntoCode() async throws {
        let secrets = SecretsManagerClient(client: try await client())
        let error = await #expect(throws: AWSError.self) { _ = try await secrets.getSecretValue(id: "absent-secret") }
        #expect(error?.code == "ResourceNotFoundException")
        #expect(error?.isNotFound == true)
        #expect(error?.status != nil)
    }

    @Test func sts_getCallerIdentity_andAssumeRoleWithWebIdentity_roundTripThroughMoto() async throws {
        let sts = STSClient(client: try await client())
        let identity = try await sts.getCallerIdentity()
        #expect(identity.account.count == 12)
        #expect(identity.arn.hasPrefix("arn:aws:"))

        let credentials = try await sts.assumeRoleWithWebIdentity(
            .init(roleArn: "arn:aws:iam::123456789012:role/medsearch", sessionName: "test", webIdentityToken: "header.payload.signature"))
        #expect(!credentials.credentials.accessKeyId.isEmpty)
        #expect(credentials.credentials.sessionToken != nil)
        #expect(credentials.expiration != nil)
    }

    @Test func cloudWatch_alarmLifecycle_roundTripsThroughMoto() async throws {
        let cloudWatch = CloudWatchClient(client: try await client())
        let name = uniqueName("medsearch-cpu")
        let alarm = CloudWatch.MetricAlarm(
            name: name, description: "CPU high", namespace: "AWS/RDS", metricName: "CPUUtilization",
            dimensions: [CloudWatch.Dimension(name: "DBInstanceIdentifier", value: "db-1")], statistic: "Average",
            periodSeconds: 300, evaluationPeriods: 3, threshold: 80.5, comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching", alarmActions: ["arn:aws:sns:us-east-1:123456789012:ops"])
        try await cloudWatch.putMetricAlarm(alarm)
        let described = try #require(try await cloudWatch.describeAlarms(names: [name], namePrefix: nil).first)
        #expect(described.name == name)
        #expect(described.threshold == 80.5)
        #expect(described.dimensions == alarm.dimensions)
        #expect(described.alarmActions == alarm.alarmActions)
        #expect(described.comparisonOperator == "GreaterThanThreshold")
        #expect(described.arn != nil)
        try await cloudWatch.deleteAlarms(names: [name])
        #expect(try await cloudWatch.describeAlarms(names: [name], namePrefix: nil).isEmpty)
    }

    @Test func fromEnvironment_takesRegionEndpointAndKeysFromTheEnvironment() async throws {
        let server = try await moto.get()
        let client = try AWSClient.fromEnvironment(
            environment: [
                "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": server.baseURL, "AWS_ACCESS_KEY_ID": "AKIDENVIRONMENT",
                "AWS_SECRET_ACCESS_KEY": "environment-secret", "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            ], transport: transport)
        #expect(client.region == "eu-west-1")
        #expect(try await STSClient(client: client).getCallerIdentity().account.count == 12)
    }

    @Test func fromEnvironment_withoutAnyRegion_throwsMissingRegion() {
        let error = #expect(throws: AWSError.self) {
            _ = try AWSClient.fromEnvironment(environment: ["HOME": "/nonexistent"], transport: transport)
        }
        #expect(error?.code == "MissingRegion")
    }
}
