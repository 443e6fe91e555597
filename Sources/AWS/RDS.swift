/// The RDS operations the operator uses; `RDSClient` talks to AWS, tests use fakes.
public protocol RDSAPI: Sendable {
    func createDBSubnetGroup(_ input: RDS.CreateDBSubnetGroupInput) async throws(AWSError) -> RDS.DBSubnetGroup
    func describeDBSubnetGroups(name: String?) async throws(AWSError) -> [RDS.DBSubnetGroup]
    func deleteDBSubnetGroup(name: String) async throws(AWSError)
    func createDBInstance(_ input: RDS.CreateDBInstanceInput) async throws(AWSError) -> RDS.DBInstance
    func createDBInstanceReadReplica(_ input: RDS.CreateDBInstanceReadReplicaInput) async throws(AWSError) -> RDS.DBInstance
    /// Instances whose identifiers are in `identifiers`, fetched with `db-instance-id`
    /// filters in batches; unknown identifiers are simply absent from the result.
    func describeDBInstances(identifiers: [String]) async throws(AWSError) -> [RDS.DBInstance]
    func modifyDBInstance(_ input: RDS.ModifyDBInstanceInput) async throws(AWSError) -> RDS.DBInstance
    func deleteDBInstance(_ input: RDS.DeleteDBInstanceInput) async throws(AWSError) -> RDS.DBInstance
    func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError)
    func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError)
    func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag]
}

/// Request and response shapes of the RDS API (2014-10-31), only the fields the operator uses.
public enum RDS {
    public struct CreateDBSubnetGroupInput: Sendable, Equatable {
        public var name: String
        public var description: String
        public var subnetIds: [String]
        public var tags: [AWSTag]
        public init(name: String, description: String, subnetIds: [String], tags: [AWSTag] = []) {
            self.name = name
            self.description = description
            self.subnetIds = subnetIds
            self.tags = tags
        }
    }

    public struct DBSubnetGroup: Sendable, Equatable {
        public var name: String
        public var description: String?
        public var vpcId: String?
        public var status: String?
        public var subnetIds: [String]
        public var arn: String?
    }

    public struct CreateDBInstanceInput: Sendable, Equatable {
        public var identifier: String
        public var instanceClass: String
        public var engine: String
        public var engineVersion: String?
        public var allocatedStorageGiB: Int?
        public var storageType: String?
        public var databaseName: String?
        public var masterUsername: String?
        /// Sent to AWS only; never logged or described.
        public var masterUserPassword: String?
        public var subnetGroupName: String?
        public var vpcSecurityGroupIds: [String]
        public var multiAZ: Bool?
        public var storageEncrypted: Bool?
        public var kmsKeyId: String?
        public var backupRetentionPeriod: Int?
        public var publiclyAccessible: Bool?
        public var deletionProtection: Bool?
        public var port: Int?
        public var tags: [AWSTag]

        public init(
            identifier: String, instanceClass: String, engine: String, engineVersion: String? = nil,
            allocatedStorageGiB: Int? = nil, storageType: String? = nil, databaseName: String? = nil,
            masterUsername: String? = nil, masterUserPassword: String? = nil, subnetGroupName: String? = nil,
            vpcSecurityGroupIds: [String] = [], multiAZ: Bool? = nil, storageEncrypted: Bool? = nil,
            kmsKeyId: String? = nil, backupRetentionPeriod: Int? = nil, publiclyAccessible: Bool? = nil,
            deletionProtection: Bool? = nil, port: Int? = nil, tags: [AWSTag] = []
        ) {
            self.identifier = identifier
            self.instanceClass = instanceClass
            self.engine = engine
            self.engineVersion = engineVersion
            self.allocatedStorageGiB = allocatedStorageGiB
            self.storageType = storageType
            self.databaseName = databaseName
            self.masterUsername = masterUsername
            self.masterUserPassword = masterUserPassword
            self.subnetGroupName = subnetGroupName
            self.vpcSecurityGroupIds = vpcSecurityGroupIds
            self.multiAZ = multiAZ
            self.storageEncrypted = storageEncrypted
            self.kmsKeyId = kmsKeyId
            self.backupRetentionPeriod = backupRetentionPeriod
            self.publiclyAccessible = publiclyAccessible
            self.deletionProtection = deletionProtection
            self.port = port
            self.tags = tags
        }
    }

    public struct CreateDBInstanceReadReplicaInput: Sendable, Equatable {
        public var identifier: String
        public var sourceIdentifier: String
        public var instanceClass: String?
        public var subnetGroupName: String?
        public var vpcSecurityGroupIds: [String]
        public var multiAZ: Bool?
        public var publiclyAccessible: Bool?
        /// RDS defaults to off; moto copies the primary's setting unless told.
        public var deletionProtection: Bool?
        public var tags: [AWSTag]

        public init(
            identifier: String, sourceIdentifier: String, instanceClass: String? = nil, subnetGroupName: String? = nil,
            vpcSecurityGroupIds: [String] = [], multiAZ: Bool? = nil, publiclyAccessible: Bool? = nil,
            deletionProtection: Bool? = nil, tags: [AWSTag] = []
        ) {
            self.identifier = identifier
            self.sourceIdentifier = sourceIdentifier
            self.instanceClass = instanceClass
            self.subnetGroupName = subnetGroupName
            self.vpcSecurityGroupIds = vpcSecurityGroupIds
            self.multiAZ = multiAZ
            self.publiclyAccessible = publiclyAccessible
            self.deletionProtection = deletionProtection
            self.tags = tags
        }
    }

    public struct ModifyDBInstanceInput: Sendable, Equatable {
        public var identifier: String
        public var instanceClass: String?
        public var allocatedStorageGiB: Int?
        public var multiAZ: Bool?
        public var engineVersion: String?
        public var backupRetentionPeriod: Int?
        public var deletionProtection: Bool?
        public var vpcSecurityGroupIds: [String]?
        public var masterUserPassword: String?
        public var applyImmediately: Bool?

        public init(
            identifier: String, instanceClass: String? = nil, allocatedStorageGiB: Int? = nil, multiAZ: Bool? = nil,
            engineVersion: String? = nil, backupRetentionPeriod: Int? = nil, deletionProtection: Bool? = nil,
            vpcSecurityGroupIds: [String]? = nil, masterUserPassword: String? = nil, applyImmediately: Bool? = nil
        ) {
            self.identifier = identifier
            self.instanceClass = instanceClass
            self.allocatedStorageGiB = allocatedStorageGiB
            self.multiAZ = multiAZ
            self.engineVersion = engineVersion
            self.backupRetentionPeriod = backupRetentionPeriod
            self.deletionProtection = deletionProtection
            self.vpcSecurityGroupIds = vpcSecurityGroupIds
            self.masterUserPassword = masterUserPassword
            self.applyImmediately = applyImmediately
        }
    }

    public struct DeleteDBInstanceInput: Sendable, Equatable {
        public var identifier: String
        /// Required unless `finalSnapshotIdentifier` is set.
        public var skipFinalSnapshot: Bool
        public var finalSnapshotIdentifier: String?
        public var deleteAutomatedBackups: Bool?

        public init(
            identifier: String, skipFinalSnapshot: Bool, finalSnapshotIdentifier: String? = nil,
            deleteAutomatedBackups: Bool? = nil
        ) {
            self.identifier = identifier
            self.skipFinalSnapshot = skipFinalSnapshot
            self.finalSnapshotIdentifier = finalSnapshotIdentifier
            self.deleteAutomatedBackups = deleteAutomatedBackups
        }
    }

    /// The state of an instance as DescribeDBInstances reports it.
    public struct DBInstance: Sendable, Equatable {
        public var identifier: String
        public var arn: String?
        /// "creating", "available", "modifying", "deleting", …
        public var status: String
        public var instanceClass: String?
        public var engine: String?
        public var engineVersion: String?
        public var endpointAddress: String?
        public var endpointPort: Int?
        public var allocatedStorageGiB: Int?
        public var multiAZ: Bool?
        public var storageEncrypted: Bool?
        public var deletionProtection: Bool?
        public var subnetGroupName: String?
        public var readReplicaSourceIdentifier: String?
        public var readReplicaIdentifiers: [String]
        public var tags: [AWSTag]

        public var isAvailable: Bool { status == "available" }
    }

    /// Values per `db-instance-id` filter request; RDS accepts up to 100 filter values.
    public static let describeBatchSize = 100

    // MARK: Wire encoding (pure, tested without a server)

    static func parameters(_ input: CreateDBSubnetGroupInput) -> QueryParameters {
        var p = QueryParameters(action: "CreateDBSubnetGroup", version: AWSService.rds.apiVersion)
        p.add("DBSubnetGroupName", input.name)
        p.add("DBSubnetGroupDescription", input.description)
        p.add("SubnetIds", list: input.subnetIds, member: "SubnetIdentifier")
        p.add("Tags", tags: input.tags, member: "Tag")
        return p
    }

    static func parameters(_ input: CreateDBInstanceInput) -> QueryParameters {
        var p = QueryParameters(action: "CreateDBInstance", version: AWSService.rds.apiVersion)
        p.add("DBName", input.databaseName)
        p.add("DBInstanceIdentifier", input.identifier)
        p.add("AllocatedStorage", input.allocatedStorageGiB)
        p.add("DBInstanceClass", input.instanceClass)
        p.add("Engine", input.engine)
        p.add("MasterUsername", input.masterUsername)
        p.add("MasterUserPassword", input.masterUserPassword)
        p.add("VpcSecurityGroupIds", list: input.vpcSecurityGroupIds, member: "VpcSecurityGroupId")
        p.add("DBSubnetGroupName", input.subnetGroupName)
        p.add("BackupRetentionPeriod", input.backupRetentionPeriod)
        p.add("Port", input.port)
        p.add("MultiAZ", input.multiAZ)
        p.add("EngineVersion", input.engineVersion)
        p.add("PubliclyAccessible", input.publiclyAccessible)
        p.add("Tags", tags: input.tags, member: "Tag")
        p.add("StorageType", input.storageType)
        p.add("StorageEncrypted", input.storageEncrypted)
        p.add("KmsKeyId", input.kmsKeyId)
        p.add("DeletionProtection", input.deletionProtection)
        return p
    }

    static func parameters(_ input: CreateDBInstanceReadReplicaInput) -> QueryParameters {
        var p = QueryParameters(action: "CreateDBInstanceReadReplica", version: AWSService.rds.apiVersion)
        p.add("DBInstanceIdentifier", input.identifier)
        p.add("SourceDBInstanceIdentifier", input.sourceIdentifier)
        p.add("DBInstanceClass", input.instanceClass)
        p.add("MultiAZ", input.multiAZ)
        p.add("PubliclyAccessible", input.publiclyAccessible)
        p.add("DeletionProtection", input.deletionProtection)
        p.add("Tags", tags: input.tags, member: "Tag")
        p.add("DBSubnetGroupName", input.subnetGroupName)
        p.add("VpcSecurityGroupIds", list: input.vpcSecurityGroupIds, member: "VpcSecurityGroupId")
        return p
    }

    static func describeParameters(identifiers: [String], marker: String?) -> QueryParameters {
        var p = QueryParameters(action: "DescribeDBInstances", version: AWSService.rds.apiVersion)
        p.add("Filters.Filter.1.Name", "db-instance-id")
        p.add("Filters.Filter.1.Values", list: identifiers, member: "Value")
        p.add("Marker", marker)
        return p
    }

    static func parameters(_ input: ModifyDBInstanceInput) -> QueryParameters {
        var p = QueryParameters(action: "ModifyDBInstance", version: AWSService.rds.apiVersion)
        p.add("DBInstanceIdentifier", input.identifier)
        p.add("AllocatedStorage", input.allocatedStorageGiB)
        p.add("DBInstanceClass", input.instanceClass)
        p.add("VpcSecurityGroupIds", list: input.vpcSecurityGroupIds, member: "VpcSecurityGroupId")
        p.add("ApplyImmediately", input.applyImmediately)
        p.add("MasterUserPassword", input.masterUserPassword)
        p.add("BackupRetentionPeriod", input.backupRetentionPeriod)
        p.add("MultiAZ", input.multiAZ)
        p.add("EngineVersion", input.engineVersion)
        p.add("DeletionProtection", input.deletionProtection)
        return p
    }

    static func parameters(_ input: DeleteDBInstanceInput) -> QueryParameters {
        var p = QueryParameters(action: "DeleteDBInstance", version: AWSService.rds.apiVersion)
        p.add("DBInstanceIdentifier", input.identifier)
        p.add("SkipFinalSnapshot", input.skipFinalSnapshot)
        p.add("FinalDBSnapshotIdentifier", input.finalSnapshotIdentifier)
        p.add("DeleteAutomatedBackups", input.deleteAutomatedBackups)
        return p
    }

    static func decodeInstance(_ element: XMLElement) -> DBInstance {
        DBInstance(
            identifier: element.string("DBInstanceIdentifier") ?? "",
            arn: element.string("DBInstanceArn"),
            status: element.string("DBInstanceStatus") ?? "",
            instanceClass: element.string("DBInstanceClass"),
            engine: element.string("Engine"),
            engineVersion: element.string("EngineVersion"),
            endpointAddress: element.child("Endpoint")?.string("Address"),
            endpointPort: element.child("Endpoint")?.int("Port"),
            allocatedStorageGiB: element.int("AllocatedStorage"),
            multiAZ: element.bool("MultiAZ"),
            storageEncrypted: element.bool("StorageEncrypted"),
            deletionProtection: element.bool("DeletionProtection"),
            subnetGroupName: element.child("DBSubnetGroup")?.string("DBSubnetGroupName"),
            readReplicaSourceIdentifier: element.string("ReadReplicaSourceDBInstanceIdentifier"),
            readReplicaIdentifiers: element.strings("ReadReplicaDBInstanceIdentifiers", member: "ReadReplicaDBInstanceIdentifier"),
            tags: decodeTags(element.child("TagList")))
    }

    static func decodeSubnetGroup(_ element: XMLElement) -> DBSubnetGroup {
        DBSubnetGroup(
            name: element.string("DBSubnetGroupName") ?? "",
            description: element.string("DBSubnetGroupDescription"),
            vpcId: element.string("VpcId"),
            status: element.string("SubnetGroupStatus"),
            subnetIds: element.child("Subnets")?.children("Subnet").compactMap { $0.string("SubnetIdentifier") } ?? [],
            arn: element.string("DBSubnetGroupArn"))
    }

    static func decodeTags(_ list: XMLElement?, member: String = "Tag") -> [AWSTag] {
        list?.children(member).map { AWSTag(key: $0.string("Key") ?? "", value: $0.string("Value") ?? "") } ?? []
    }
}

/// RDS over the Query protocol.
public struct RDSClient: RDSAPI {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    private func instance(_ result: XMLElement, operation: String) throws(AWSError) -> RDS.DBInstance {
        guard let element = result.child("DBInstance") else {
            throw AWSError(
                origin: .invalidResponse, service: "rds", operation: operation, code: "InvalidResponse",
                message: "no DBInstance in the response")
        }
        return RDS.decodeInstance(element)
    }

    public func createDBSubnetGroup(_ input: RDS.CreateDBSubnetGroupInput) async throws(AWSError) -> RDS.DBSubnetGroup {
        let result = try await client.query(.rds, RDS.parameters(input))
        return RDS.decodeSubnetGroup(result.child("DBSubnetGroup") ?? result)
    }

    public func describeDBSubnetGroups(name: String?) async throws(AWSError) -> [RDS.DBSubnetGroup] {
        var groups: [RDS.DBSubnetGroup] = []
        var marker: String?
        repeat {
            var p = QueryParameters(action: "DescribeDBSubnetGroups", version: AWSService.rds.apiVersion)
            p.add("DBSubnetGroupName", name)
            p.add("Marker", marker)
            let result = try await client.query(.rds, p)
            groups += result.child("DBSubnetGroups")?.children("DBSubnetGroup").map(RDS.decodeSubnetGroup) ?? []
            marker = result.string("Marker").flatMap { $0.isEmpty ? nil : $0 }
        } while marker != nil
        return groups
    }

    public func deleteDBSubnetGroup(name: String) async throws(AWSError) {
        var p = QueryParameters(action: "DeleteDBSubnetGroup", version: AWSService.rds.apiVersion)
        p.add("DBSubnetGroupName", name)
        _ = try await client.query(.rds, p)
    }

    public func createDBInstance(_ input: RDS.CreateDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try instance(try await client.query(.rds, RDS.parameters(input)), operation: "CreateDBInstance")
    }

    public func createDBInstanceReadReplica(
        _ input: RDS.CreateDBInstanceReadReplicaInput
    ) async throws(AWSError) -> RDS.DBInstance {
        try instance(try await client.query(.rds, RDS.parameters(input)), operation: "CreateDBInstanceReadReplica")
    }

    public func describeDBInstances(identifiers: [String]) async throws(AWSError) -> [RDS.DBInstance] {
        var instances: [RDS.DBInstance] = []
        var start = 0
        while start < identifiers.count {
            let batch = Array(identifiers[start..<min(start + RDS.describeBatchSize, identifiers.count)])
            start += batch.count
            var marker: String?
            repeat {
                let result = try await client.query(.rds, RDS.describeParameters(identifiers: batch, marker: marker))
                instances += result.child("DBInstances")?.children("DBInstance").map(RDS.decodeInstance) ?? []
                marker = result.string("Marker").flatMap { $0.isEmpty ? nil : $0 }
            } while marker != nil
        }
        return instances
    }

    public func modifyDBInstance(_ input: RDS.ModifyDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try instance(try await client.query(.rds, RDS.parameters(input)), operation: "ModifyDBInstance")
    }

    public func deleteDBInstance(_ input: RDS.DeleteDBInstanceInput) async throws(AWSError) -> RDS.DBInstance {
        try instance(try await client.query(.rds, RDS.parameters(input)), operation: "DeleteDBInstance")
    }

    public func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError) {
        try await client.addTags(tags, toResource: arn, service: .rds)
    }

    public func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError) {
        try await client.removeTags(keys: keys, fromResource: arn, service: .rds)
    }

    public func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag] {
        try await client.listTags(ofResource: arn, service: .rds)
    }
}
