/// The ElastiCache operations the operator uses; `ElastiCacheClient` talks to AWS.
public protocol ElastiCacheAPI: Sendable {
    func createCacheSubnetGroup(_ input: ElastiCache.CreateCacheSubnetGroupInput) async throws(AWSError)
    func deleteCacheSubnetGroup(name: String) async throws(AWSError)
    func createReplicationGroup(_ input: ElastiCache.CreateReplicationGroupInput) async throws(AWSError) -> ElastiCache.ReplicationGroup
    /// One group by ID, or all groups when `id` is nil.
    func describeReplicationGroups(id: String?) async throws(AWSError) -> [ElastiCache.ReplicationGroup]
    func modifyReplicationGroup(_ input: ElastiCache.ModifyReplicationGroupInput) async throws(AWSError) -> ElastiCache.ReplicationGroup
    func deleteReplicationGroup(id: String, finalSnapshotIdentifier: String?) async throws(AWSError) -> ElastiCache.ReplicationGroup
    func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError)
    func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag]
    func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError)
}

/// Request and response shapes of the ElastiCache API (2015-02-02), only the fields used.
public enum ElastiCache {
    public struct CreateCacheSubnetGroupInput: Sendable, Equatable {
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

    /// How many nodes: a non-clustered group counts cache clusters, a clustered one
    /// counts replicas per shard.
    public enum Topology: Sendable, Equatable {
        case cacheClusters(Int)
        case replicasPerNodeGroup(Int, nodeGroups: Int)
    }

    public struct CreateReplicationGroupInput: Sendable, Equatable {
        public var id: String
        /// ReplicationGroupDescription.
        public var groupDescription: String
        public var nodeType: String
        public var engine: String
        public var engineVersion: String?
        public var topology: Topology
        public var automaticFailoverEnabled: Bool?
        public var multiAZEnabled: Bool?
        public var subnetGroupName: String?
        public var securityGroupIds: [String]
        public var transitEncryptionEnabled: Bool?
        public var atRestEncryptionEnabled: Bool?
        /// Redis AUTH token; requires transit encryption. Never logged or described.
        public var authToken: String?
        public var kmsKeyId: String?
        public var port: Int?
        public var snapshotRetentionLimit: Int?
        public var tags: [AWSTag]

        public init(
            id: String, groupDescription: String, nodeType: String, engine: String = "redis", engineVersion: String? = nil,
            topology: Topology, automaticFailoverEnabled: Bool? = nil, multiAZEnabled: Bool? = nil,
            subnetGroupName: String? = nil, securityGroupIds: [String] = [], transitEncryptionEnabled: Bool? = nil,
            atRestEncryptionEnabled: Bool? = nil, authToken: String? = nil, kmsKeyId: String? = nil, port: Int? = nil,
            snapshotRetentionLimit: Int? = nil, tags: [AWSTag] = []
        ) {
            self.id = id
            self.groupDescription = groupDescription
            self.nodeType = nodeType
            self.engine = engine
            self.engineVersion = engineVersion
            self.topology = topology
            self.automaticFailoverEnabled = automaticFailoverEnabled
            self.multiAZEnabled = multiAZEnabled
            self.subnetGroupName = subnetGroupName
            self.securityGroupIds = securityGroupIds
            self.transitEncryptionEnabled = transitEncryptionEnabled
            self.atRestEncryptionEnabled = atRestEncryptionEnabled
            self.authToken = authToken
            self.kmsKeyId = kmsKeyId
            self.port = port
            self.snapshotRetentionLimit = snapshotRetentionLimit
            self.tags = tags
        }
    }

    public struct ModifyReplicationGroupInput: Sendable, Equatable {
        public var id: String
        public var nodeType: String?
        public var engineVersion: String?
        public var automaticFailoverEnabled: Bool?
        public var multiAZEnabled: Bool?
        public var securityGroupIds: [String]?
        public var snapshotRetentionLimit: Int?
        public var applyImmediately: Bool?

        public init(
            id: String, nodeType: String? = nil, engineVersion: String? = nil, automaticFailoverEnabled: Bool? = nil,
            multiAZEnabled: Bool? = nil, securityGroupIds: [String]? = nil, snapshotRetentionLimit: Int? = nil,
            applyImmediately: Bool? = nil
        ) {
            self.id = id
            self.nodeType = nodeType
            self.engineVersion = engineVersion
            self.automaticFailoverEnabled = automaticFailoverEnabled
            self.multiAZEnabled = multiAZEnabled
            self.securityGroupIds = securityGroupIds
            self.snapshotRetentionLimit = snapshotRetentionLimit
            self.applyImmediately = applyImmediately
        }
    }

    public struct ReplicationGroup: Sendable, Equatable {
        public var id: String
        public var arn: String?
        /// "creating", "available", "modifying", "deleting", "create-failed", "snapshotting"
        public var status: String
        public var nodeType: String?
        public var memberClusters: [String]
        /// Primary endpoint of the first node group (non-clustered mode).
        public var primaryEndpointAddress: String?
        public var primaryEndpointPort: Int?
        public var readerEndpointAddress: String?
        /// Cluster-mode configuration endpoint.
        public var configurationEndpointAddress: String?
        public var configurationEndpointPort: Int?
        public var automaticFailover: String?
        public var transitEncryptionEnabled: Bool?
        public var atRestEncryptionEnabled: Bool?
        public var authTokenEnabled: Bool?

        public var isAvailable: Bool { status == "available" }
    }

    static func parameters(_ input: CreateReplicationGroupInput) -> QueryParameters {
        var p = QueryParameters(action: "CreateReplicationGroup", version: AWSService.elastiCache.apiVersion)
        p.add("ReplicationGroupId", input.id)
        p.add("ReplicationGroupDescription", input.groupDescription)
        p.add("AutomaticFailoverEnabled", input.automaticFailoverEnabled)
        p.add("MultiAZEnabled", input.multiAZEnabled)
        switch input.topology {
        case .cacheClusters(let count):
            p.add("NumCacheClusters", count)
        case .replicasPerNodeGroup(let replicas, let nodeGroups):
            p.add("NumNodeGroups", nodeGroups)
            p.add("ReplicasPerNodeGroup", replicas)
        }
        p.add("CacheNodeType", input.nodeType)
        p.add("Engine", input.engine)
        p.add("EngineVersion", input.engineVersion)
        p.add("CacheSubnetGroupName", input.subnetGroupName)
        p.add("SecurityGroupIds", list: input.securityGroupIds, member: "SecurityGroupId")
        p.add("Tags", tags: input.tags, member: "Tag")
        p.add("Port", input.port)
        p.add("SnapshotRetentionLimit", input.snapshotRetentionLimit)
        p.add("AuthToken", input.authToken)
        p.add("TransitEncryptionEnabled", input.transitEncryptionEnabled)
        p.add("AtRestEncryptionEnabled", input.atRestEncryptionEnabled)
        p.add("KmsKeyId", input.kmsKeyId)
        return p
    }

    static func parameters(_ input: ModifyReplicationGroupInput) -> QueryParameters {
        var p = QueryParameters(action: "ModifyReplicationGroup", version: AWSService.elastiCache.apiVersion)
        p.add("ReplicationGroupId", input.id)
        p.add("AutomaticFailoverEnabled", input.automaticFailoverEnabled)
        p.add("MultiAZEnabled", input.multiAZEnabled)
        p.add("SecurityGroupIds", list: input.securityGroupIds, member: "SecurityGroupId")
        p.add("ApplyImmediately", input.applyImmediately)
        p.add("EngineVersion", input.engineVersion)
        p.add("SnapshotRetentionLimit", input.snapshotRetentionLimit)
        p.add("CacheNodeType", input.nodeType)
        return p
    }

    static func decodeGroup(_ element: XMLElement) -> ReplicationGroup {
        let firstNodeGroup = element.child("NodeGroups")?.children("NodeGroup").first
        return ReplicationGroup(
            id: element.string("ReplicationGroupId") ?? "",
            arn: element.string("ARN"),
            status: element.string("Status") ?? "",
            nodeType: element.string("CacheNodeType"),
            memberClusters: element.strings("MemberClusters", member: "ClusterId"),
            primaryEndpointAddress: firstNodeGroup?.child("PrimaryEndpoint")?.string("Address"),
            primaryEndpointPort: firstNodeGroup?.child("PrimaryEndpoint")?.int("Port"),
            readerEndpointAddress: firstNodeGroup?.child("ReaderEndpoint")?.string("Address"),
            configurationEndpointAddress: element.child("ConfigurationEndpoint")?.string("Address"),
            configurationEndpointPort: element.child("ConfigurationEndpoint")?.int("Port"),
            automaticFailover: element.string("AutomaticFailover"),
            transitEncryptionEnabled: element.bool("TransitEncryptionEnabled"),
            atRestEncryptionEnabled: element.bool("AtRestEncryptionEnabled"),
            authTokenEnabled: element.bool("AuthTokenEnabled"))
    }
}

/// ElastiCache over the Query protocol.
public struct ElastiCacheClient: ElastiCacheAPI {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    private var version: String { AWSService.elastiCache.apiVersion }

    private func group(_ result: XMLElement, _ operation: String) throws(AWSError) -> ElastiCache.ReplicationGroup {
        guard let element = result.child("ReplicationGroup") else {
            throw AWSError(
                origin: .invalidResponse, service: "elasticache", operation: operation, code: "InvalidResponse",
                message: "no ReplicationGroup in the response")
        }
        return ElastiCache.decodeGroup(element)
    }

    public func createCacheSubnetGroup(_ input: ElastiCache.CreateCacheSubnetGroupInput) async throws(AWSError) {
        var p = QueryParameters(action: "CreateCacheSubnetGroup", version: version)
        p.add("CacheSubnetGroupName", input.name)
        p.add("CacheSubnetGroupDescription", input.description)
        p.add("SubnetIds", list: input.subnetIds, member: "SubnetIdentifier")
        p.add("Tags", tags: input.tags, member: "Tag")
        _ = try await client.query(.elastiCache, p)
    }

    public func deleteCacheSubnetGroup(name: String) async throws(AWSError) {
        var p = QueryParameters(action: "DeleteCacheSubnetGroup", version: version)
        p.add("CacheSubnetGroupName", name)
        _ = try await client.query(.elastiCache, p)
    }

    public func createReplicationGroup(
        _ input: ElastiCache.CreateReplicationGroupInput
    ) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        try group(try await client.query(.elastiCache, ElastiCache.parameters(input)), "CreateReplicationGroup")
    }

    public func describeReplicationGroups(id: String?) async throws(AWSError) -> [ElastiCache.ReplicationGroup] {
        var groups: [ElastiCache.ReplicationGroup] = []
        var marker: String?
        repeat {
            var p = QueryParameters(action: "DescribeReplicationGroups", version: version)
            p.add("ReplicationGroupId", id)
            p.add("Marker", marker)
            let result = try await client.query(.elastiCache, p)
            groups += result.child("ReplicationGroups")?.children("ReplicationGroup").map(ElastiCache.decodeGroup) ?? []
            marker = result.string("Marker").flatMap { $0.isEmpty ? nil : $0 }
        } while marker != nil
        return groups
    }

    public func modifyReplicationGroup(
        _ input: ElastiCache.ModifyReplicationGroupInput
    ) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        try group(try await client.query(.elastiCache, ElastiCache.parameters(input)), "ModifyReplicationGroup")
    }

    public func deleteReplicationGroup(
        id: String, finalSnapshotIdentifier: String?
    ) async throws(AWSError) -> ElastiCache.ReplicationGroup {
        var p = QueryParameters(action: "DeleteReplicationGroup", version: version)
        p.add("ReplicationGroupId", id)
        p.add("FinalSnapshotIdentifier", finalSnapshotIdentifier)
        return try group(try await client.query(.elastiCache, p), "DeleteReplicationGroup")
    }

    public func addTagsToResource(arn: String, tags: [AWSTag]) async throws(AWSError) {
        try await client.addTags(tags, toResource: arn, service: .elastiCache)
    }

    public func listTagsForResource(arn: String) async throws(AWSError) -> [AWSTag] {
        try await client.listTags(ofResource: arn, service: .elastiCache)
    }

    public func removeTagsFromResource(arn: String, keys: [String]) async throws(AWSError) {
        try await client.removeTags(keys: keys, fromResource: arn, service: .elastiCache)
    }
}
