import JSON
import Testing

@testable import AWS

@Suite struct ProtocolSerializationTests {
    @Test func query_createDBSubnetGroup_flattensListsWithTheModelsMemberNames() {
        let body = RDS.parameters(
            RDS.CreateDBSubnetGroupInput(
                name: "medsearch db", description: "Subnets & more", subnetIds: ["subnet-1", "subnet-2"],
                tags: [AWSTag(key: "owner", value: "team/search")])
        ).encoded
        #expect(
            body
                == "Action=CreateDBSubnetGroup&Version=2014-10-31&DBSubnetGroupName=medsearch%20db"
                + "&DBSubnetGroupDescription=Subnets%20%26%20more&SubnetIds.SubnetIdentifier.1=subnet-1"
                + "&SubnetIds.SubnetIdentifier.2=subnet-2&Tags.Tag.1.Key=owner&Tags.Tag.1.Value=team%2Fsearch")
    }

    @Test func query_createDBInstance_sendsOnlySetMembersWithBooleansAsWords() {
        let body = RDS.parameters(
            RDS.CreateDBInstanceInput(
                identifier: "db-1", instanceClass: "db.t3.micro", engine: "postgres", allocatedStorageGiB: 20,
                masterUsername: "admin", masterUserPassword: "p@ss word", vpcSecurityGroupIds: ["sg-1"], multiAZ: true,
                storageEncrypted: false)
        ).encoded
        #expect(
            body
                == "Action=CreateDBInstance&Version=2014-10-31&DBInstanceIdentifier=db-1&AllocatedStorage=20"
                + "&DBInstanceClass=db.t3.micro&Engine=postgres&MasterUsername=admin&MasterUserPassword=p%40ss%20word"
                + "&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&MultiAZ=true&StorageEncrypted=false")
    }

    @Test func query_describeDBInstances_usesOneDbInstanceIdFilterWithManyValues() {
        let body = RDS.describeParameters(identifiers: ["a", "b", "c"], marker: "m1").encoded
        #expect(
            body
                == "Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=db-instance-id"
                + "&Filters.Filter.1.Values.Value.1=a&Filters.Filter.1.Values.Value.2=b&Filters.Filter.1.Values.Value.3=c&Marker=m1")
    }

    @Test func query_deleteDBInstance_withFinalSnapshot() {
        let body = RDS.parameters(
            RDS.DeleteDBInstanceInput(
                identifier: "db-1", skipFinalSnapshot: false, finalSnapshotIdentifier: "db-1-final",
                deleteAutomatedBackups: false)
        ).encoded
        #expect(
            body
                == "Action=DeleteDBInstance&Version=2014-10-31&DBInstanceIdentifier=db-1&SkipFinalSnapshot=false"
                + "&FinalDBSnapshotIdentifier=db-1-final&DeleteAutomatedBackups=false")
    }

    @Test func query_createReplicationGroup_encodesTopologyEncryptionAndAuthToken() {
        let clusters = ElastiCache.parameters(
            ElastiCache.CreateReplicationGroupInput(
                id: "rg-1", groupDescription: "cache", nodeType: "cache.t3.micro", topology: .cacheClusters(2),
                automaticFailoverEnabled: true, subnetGroupName: "subnets", securityGroupIds: ["sg-1"],
                transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "tok+en/=")
        ).encoded
        #expect(
            clusters
                == "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId=rg-1"
                + "&ReplicationGroupDescription=cache&AutomaticFailoverEnabled=true&NumCacheClusters=2"
                + "&CacheNodeType=cache.t3.micro&Engine=redis&CacheSubnetGroupName=subnets"
                + "&SecurityGroupIds.SecurityGroupId.1=sg-1&AuthToken=tok%2Ben%2F%3D&TransitEncryptionEnabled=true"
                + "&AtRestEncryptionEnabled=true")
        let sharded = ElastiCache.parameters(
            ElastiCache.CreateReplicationGroupInput(
                id: "rg-2", groupDescription: "d", nodeType: "n", topology: .replicasPerNodeGroup(2, nodeGroups: 3))
        ).encoded
        #expect(sharded.contains("&NumNodeGroups=3&ReplicasPerNodeGroup=2&"))
        #expect(!sharded.contains("NumCacheClusters"))
    }

    @Test func query_putMetricAlarm_usesMemberListsForDimensionsActionsAndTags() {
        let body = CloudWatch.parameters(
            CloudWatch.MetricAlarm(
                name: "cpu", namespace: "AWS/RDS", metricName: "CPUUtilization",
                dimensions: [CloudWatch.Dimension(name: "DBInstanceIdentifier", value: "db-1")], statistic: "Average",
                periodSeconds: 60, evaluationPeriods: 5, threshold: 90, comparisonOperator: "GreaterThanThreshold",
                alarmActions: ["arn:sns"], tags: [AWSTag(key: "k", value: "v")])
        ).encoded
        #expect(
            body
                == "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=cpu&AlarmActions.member.1=arn%3Asns"
                + "&MetricName=CPUUtilization&Namespace=AWS%2FRDS&Statistic=Average"
                + "&Dimensions.member.1.Name=DBInstanceIdentifier&Dimensions.member.1.Value=db-1&Period=60"
                + "&EvaluationPeriods=5&Threshold=90&ComparisonOperator=GreaterThanThreshold"
                + "&Tags.member.1.Key=k&Tags.member.1.Value=v")
    }

    @Test func query_removeTagsFromResource_usesPlainMemberForStringLists() {
        var p = QueryParameters(action: "RemoveTagsFromResource", version: "2014-10-31")
        p.add("ResourceName", "arn:aws:rds:us-east-1:1:db:x")
        p.add("TagKeys", list: ["a", "b"])
        #expect(
            p.encoded
                == "Action=RemoveTagsFromResource&Version=2014-10-31&ResourceName=arn%3Aaws%3Ards%3Aus-east-1%3A1%3Adb%3Ax"
                + "&TagKeys.member.1=a&TagKeys.member.2=b")
    }

    @Test func query_assumeRoleWithWebIdentity_encodesTheToken() {
        let body = STS.parameters(
            STS.AssumeRoleWithWebIdentityInput(
                roleArn: "arn:aws:iam::1:role/r", sessionName: "s", webIdentityToken: "a.b-c_d", durationSeconds: 900)
        ).encoded
        #expect(
            body
                == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
                + "&RoleSessionName=s&WebIdentityToken=a.b-c_d&DurationSeconds=900")
    }

    @Test func json_createSecret_bodyHasTheModelsMemberNames() throws {
        let body = SecretsManager.body(
            SecretsManager.CreateSecretInput(
                name: "db", secretDescription: "pw", secretString: "{\"p\":1}", tags: [AWSTag(key: "k", value: "v")],
                clientRequestToken: "token-1"))
        #expect(
            body.serialized()
                == #"{"ClientRequestToken":"token-1","Description":"pw","Name":"db","SecretString":"{\"p\":1}","Tags":[{"Key":"k","Value":"v"}]}"#)
    }

    @Test func json_deleteSecret_withoutRecoveryWindow_forcesDeletion() {
        #expect(
            SecretsManager.deleteBody(id: "s", recoveryWindowInDays: 7).serialized()
                == #"{"RecoveryWindowInDays":7,"SecretId":"s"}"#)
        #expect(
            SecretsManager.deleteBody(id: "s", recoveryWindowInDays: nil).serialized()
                == #"{"ForceDeleteWithoutRecovery":true,"SecretId":"s"}"#)
    }

    @Test func json_getRandomPassword_body() {
        #expect(
            SecretsManager.body(SecretsManager.RandomPasswordInput(length: 40, excludeCharacters: "\"@/", excludePunctuation: false))
                .serialized() == #"{"ExcludeCharacters":"\"@/","ExcludePunctuation":false,"PasswordLength":40}"#)
    }

    @Test func s3_configurationBodies_matchTheRESTXMLShapes() {
        let ns = #"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#
        #expect(S3.createBucketBody(region: "us-east-1") == nil)
        #expect(
            S3.createBucketBody(region: "eu-west-1")?.serialized()
                == "<CreateBucketConfiguration \(ns)><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
        #expect(
            S3.versioningBody(.enabled).serialized()
                == "<VersioningConfiguration \(ns)><Status>Enabled</Status></VersioningConfiguration>")
        #expect(
            S3.encryptionBody(S3.EncryptionRule(algorithm: "aws:kms", kmsKeyId: "alias/k", bucketKeyEnabled: true)).serialized()
                == "<ServerSideEncryptionConfiguration \(ns)><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>"
                + "<KMSMasterKeyID>alias/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>"
                + "</Rule></ServerSideEncryptionConfiguration>")
        #expect(
            S3.publicAccessBlockBody(.blockAll).serialized()
                == "<PublicAccessBlockConfiguration \(ns)><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
                + "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>")
        #expect(
            S3.lifecycleBody([
                S3.LifecycleRule(
                    id: "r1", prefix: "", expirationDays: 90, transitions: [S3.Transition(days: 30, storageClass: "GLACIER")],
                    noncurrentVersionExpirationDays: 10, abortIncompleteMultipartUploadDays: 2)
            ]).serialized()
                == "<LifecycleConfiguration \(ns)><Rule><Expiration><Days>90</Days></Expiration><ID>r1</ID><Filter><Prefix/></Filter>"
                + "<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"
                + "<NoncurrentVersionExpiration><NoncurrentDays>10</NoncurrentDays></NoncurrentVersionExpiration>"
                + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
                + "</Rule></LifecycleConfiguration>")
        #expect(
            S3.taggingBody([AWSTag(key: "a&b", value: "")]).serialized()
                == "<Tagging \(ns)><TagSet><Tag><Key>a&amp;b</Key><Value/></Tag></TagSet></Tagging>")
    }

    @Test func s3_lifecycleRules_surviveAWriteAndReadBack() throws {
        let rules = [
            S3.LifecycleRule(id: "a", enabled: false, prefix: "logs/", expirationDays: 7),
            S3.LifecycleRule(id: "b", transitions: [S3.Transition(days: 1, storageClass: "STANDARD_IA")], abortIncompleteMultipartUploadDays: 3),
        ]
        let parsed = try XMLElement.parse(S3.lifecycleBody(rules).serialized())
        #expect(S3.decodeLifecycle(parsed) == rules)
    }

    @Test func s3_listObjectsV2Query_isSortedAndEncoded() {
        #expect(S3Client.listQuery(prefix: "a b/", maxKeys: 1, continuationToken: "t=1") == "continuation-token=t%3D1&list-type=2&max-keys=1&prefix=a%20b%2F")
        #expect(S3Client.listQuery(prefix: nil, maxKeys: nil, continuationToken: nil) == "list-type=2")
    }

    @Test(arguments: [
        ("", "1B2M2Y8AsgTpgAmY7PhCfg=="),
        ("a", "DMF1ucDxtqgxw5niaXcmYQ=="),
        ("The quick brown fox jumps over the lazy dog", "nhB9nTcrtoJr2B01QqQZ1g=="),
        (String(repeating: "1234567890", count: 8), "V+30oivjyVWsSdouIQe2eg=="),
    ])
    func md5_contentMD5_matchesRFC1321Vectors(_ input: String, _ expected: String) {
        #expect(MD5.base64(Array(input.utf8)) == expected)
    }

    @Test func percentEncoding_keepsOnlyUnreservedCharacters() {
        #expect(AWSPercentEncoding.encode("aZ09-_.~ /+=&é") == "aZ09-_.~%20%2F%2B%3D%26%C3%A9")
    }

    @Test func responseDecoding_readsDescribeDBInstancesResult() throws {
        let xml = """
            <DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
              <DescribeDBInstancesResult>
                <DBInstances>
                  <DBInstance>
                    <DBInstanceIdentifier>db-1</DBInstanceIdentifier>
                    <DBInstanceStatus>creating</DBInstanceStatus>
                    <Endpoint><Address>db-1.x.rds.amazonaws.com</Address><Port>5432</Port></Endpoint>
                    <MultiAZ>true</MultiAZ>
                    <ReadReplicaDBInstanceIdentifiers><ReadReplicaDBInstanceIdentifier>db-1-r</ReadReplicaDBInstanceIdentifier></ReadReplicaDBInstanceIdentifiers>
                    <TagList><Tag><Key>k</Key><Value>v</Value></Tag></TagList>
                  </DBInstance>
                </DBInstances>
              </DescribeDBInstancesResult>
              <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
            </DescribeDBInstancesResponse>
            """
        let root = try XMLElement.parse(xml)
        let instances = root.child("DescribeDBInstancesResult")?.child("DBInstances")?.children("DBInstance").map(RDS.decodeInstance)
        let instance = try #require(instances?.first)
        #expect(instance.identifier == "db-1")
        #expect(instance.status == "creating")
        #expect(!instance.isAvailable)
        #expect(instance.endpointAddress == "db-1.x.rds.amazonaws.com")
        #expect(instance.endpointPort == 5432)
        #expect(instance.multiAZ == true)
        #expect(instance.readReplicaIdentifiers == ["db-1-r"])
        #expect(instance.tags == [AWSTag(key: "k", value: "v")])
    }

    @Test func secretBearingInputs_neverPrintTheirSecrets() {
        let secret = "hunter2-very-secret"
        let values: [Any] = [
            RDS.CreateDBInstanceInput(identifier: "d", instanceClass: "c", engine: "e", masterUserPassword: secret),
            RDS.ModifyDBInstanceInput(identifier: "d", masterUserPassword: secret),
            ElastiCache.CreateReplicationGroupInput(id: "r", groupDescription: "d", nodeType: "n", topology: .cacheClusters(1), authToken: secret),
            SecretsManager.CreateSecretInput(name: "n", secretString: secret),
            SecretsManager.SecretValue(arn: "a", name: "n", versionId: nil, secretString: secret),
            SecretsManager.Password(value: secret),
            STS.AssumeRoleWithWebIdentityInput(roleArn: "r", sessionName: "s", webIdentityToken: secret),
        ]
        for value in values {
            #expect(!String(describing: value).contains(secret))
            #expect(!String(reflecting: value).contains(secret))
        }
    }
}
