import Foundation
import JSON
import PlatformAPI
import YAML

/// Paths and builders shared by the PlatformAPI tests.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
    }

    static func document(_ relativePath: String) throws -> YAMLDocument {
        let documents = try YAMLParser.parseDocuments(text(relativePath), file: relativePath)
        return documents[0]
    }

    static func tier(_ name: String) throws -> ServiceTier {
        try ServiceTier.decode(document("examples/tiers/\(name).yaml").value)
    }

    static let exampleTierNames = ["dev", "staging", "production"]
    static let examplePlatformFiles = ["examples/platform.yaml", "examples/platform-dev.yaml"]

    /// The smallest valid platform object; tests edit it with `editing`.
    static func platformObject(tier: String = "production") -> JSONValue {
        [
            "apiVersion": "platform.medsearch.io/v1alpha1",
            "kind": "MedicalSearchPlatform",
            "metadata": ["name": "demo", "namespace": "clinic", "uid": "5b2f6a0e-1111-4c3a-9d2e-0123456789ab", "generation": 3],
            "spec": [
                "tierRef": ["name": .string(tier)],
                "region": "us-west-2",
                "image": ["registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com", "tag": "1.0.0"],
            ],
        ]
    }

    static func tierObject(name: String = "custom", spec: JSONValue = .emptyObject) -> JSONValue {
        [
            "apiVersion": "platform.medsearch.io/v1alpha1",
            "kind": "ServiceTier",
            "metadata": ["name": .string(name)],
            "spec": spec,
        ]
    }
}

extension JSONValue {
    /// A copy with the value at `path` replaced, for building test inputs fluently.
    func editing(_ path: [String], _ value: JSONValue) -> JSONValue {
        var copy = self
        copy[path: path] = value
        return copy
    }
}

/// The violations a decode reports, or an empty list when it succeeds.
func decodeViolations(platform object: JSONValue) -> [SpecViolation] {
    do {
        _ = try MedicalSearchPlatform.decode(object)
        return []
    } catch {
        return error.violations
    }
}

func decodeViolations(tier object: JSONValue) -> [SpecViolation] {
    do {
        _ = try ServiceTier.decode(object)
        return []
    } catch {
        return error.violations
    }
}
