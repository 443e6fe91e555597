import Foundation
import JSON
import PlatformAPI
import YAML

@testable import AWS
@testable import DataTier

/// Tiers from examples/tiers and platforms built from the smallest valid object.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func tier(_ name: String) throws -> ServiceTier {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/tiers/\(name).yaml"), encoding: .utf8)
        return try ServiceTier.decode(try YAMLParser.parseDocuments(text, file: name)[0].value)
    }

    static func platform(
        name: String = "demo", namespace: String = "clinic", tier: String = "production", edit: (inout JSONValue) -> Void = { _ in }
    ) throws -> MedicalSearchPlatform {
        var object: JSONValue = [
            "apiVersion": "platform.medsearch.io/v1alpha1",
            "kind": "MedicalSearchPlatform",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": "5b2f6a0e-1111-4c3a-9d2e-0123456789ab", "generation": 3],
            "spec": [
                "tierRef": ["name": .string(tier)],
                "region": "us-west-2",
                "image": ["registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com", "tag": "1.0.0"],
            ],
        ]
        edit(&object)
        return try MedicalSearchPlatform.decode(object)
    }

    static let network = DataTierNetwork(subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-data"])

    static func instance(
        _ id: String, status: String = "available", instanceClass: String = "db.r5.large", storage: Int = 100, multiAZ: Bool = true,
        encrypted: Bool = true, tags: [AWSTag] = [], source: String? = nil
    ) -> RDS.DBInstance {
        RDS.DBInstance(
            identifier: id, arn: "arn:aws:rds:us-west-2:123456789012:db:\(id)", status: status, instanceClass: instanceClass,
            engine: "postgres", engineVersion: "16", endpointAddress: "\(id).abc.us-west-2.rds.amazonaws.com", endpointPort: 5432,
            allocatedStorageGiB: storage, multiAZ: multiAZ, storageEncrypted: encrypted, deletionProtection: false,
            subnetGroupName: nil, readReplicaSourceIdentifier: source, readReplicaIdentifiers: [], tags: tags)
    }

    static func group(_ id: String, status: String = "available", nodeType: String = "cache.r5.large", transit: Bool = true, atRest: Bool = true) -> ElastiCache.ReplicationGroup {
        ElastiCache.ReplicationGroup(
            id: id, arn: "arn:aws:elasticache:us-west-2:123456789012:replicationgroup:\(id)", status: status, nodeType: nodeType,
            memberClusters: ["\(id)-001"], primaryEndpointAddress: "master.\(id).cache.amazonaws.com", primaryEndpointPort: 6379,
            readerEndpointAddress: nil, configurationEndpointAddress: nil, configurationEndpointPort: nil, automaticFailover: "enabled",
            transitEncryptionEnabled: transit, atRestEncryptionEnabled: atRest, authTokenEnabled: transit)
    }
}

extension JSONValue {
    /// A copy with `path` set, for building inputs fluently.
    mutating func set(_ path: [String], _ value: JSONValue) { self[path: path] = value }
}
