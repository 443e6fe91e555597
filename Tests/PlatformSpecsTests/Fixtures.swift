import Foundation
import JSON
import PlatformAPI
import YAML

/// Example tiers and a fluent platform builder for desired-state tests.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let exampleTierNames = ["dev", "staging", "production"]

    static func tier(_ name: String) throws -> ServiceTier {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/tiers/\(name).yaml"), encoding: .utf8)
        return try ServiceTier.decode(YAMLParser.parse(text))
    }

    static func examplePlatform(_ file: String) throws -> MedicalSearchPlatform {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent(file), encoding: .utf8)
        return try MedicalSearchPlatform.decode(YAMLParser.parse(text))
    }
}

/// Builds a platform object step by step: `PlatformBuilder(tier: "dev").disabling(.ai).build()`.
struct PlatformBuilder {
    var object: JSONValue

    init(tier: String = "production", name: String = "demo", namespace: String = "clinic") {
        object = [
            "apiVersion": "platform.medsearch.io/v1alpha1",
            "kind": "MedicalSearchPlatform",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": "5b2f6a0e-1111-4c3a-9d2e-0123456789ab"],
            "spec": [
                "tierRef": ["name": .string(tier)],
                "region": "us-west-2",
                "image": ["registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com", "tag": "1.0.0"],
            ],
        ]
    }

    func setting(_ path: [String], _ value: JSONValue) -> PlatformBuilder {
        var copy = self
        copy.object[path: ["spec"] + path] = value
        return copy
    }

    func disabling(_ service: PlatformService) -> PlatformBuilder {
        setting(["services", service.rawValue, "enabled"], false)
    }

    func withoutUID() -> PlatformBuilder {
        var copy = self
        copy.object[path: ["metadata", "uid"]] = .null
        return copy
    }

    func build() throws -> MedicalSearchPlatform { try MedicalSearchPlatform.decode(object) }
}

extension Array where Element == JSONValue {
    func objects(kind: String) -> [JSONValue] { filter { $0["kind"].stringValue == kind } }

    func object(kind: String, name: String) -> JSONValue {
        first { $0["kind"].stringValue == kind && $0[path: ["metadata", "name"]].stringValue == name } ?? .null
    }
}

extension JSONValue {
    var container: JSONValue { self[path: ["spec", "template", "spec", "containers"]][0] }
}
