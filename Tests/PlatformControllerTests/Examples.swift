import Foundation
import JSON
import YAML

/// The repository's example manifests, read from disk, so tests exercise what users apply.
enum Examples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    static func tier(_ name: String) throws -> JSONValue {
        try YAMLParser.parse(try text("examples/tiers/\(name).yaml"))
    }

    static var allTiers: [JSONValue] {
        get throws { try ["dev", "staging", "production"].map { try tier($0) } }
    }

    /// examples/platform.yaml renamed, with every service enabled (the example switches
    /// analytics off), so a platform owns all 36 service children plus ConfigMap and Secret.
    static func platform(name: String, namespace: String, tier: String = "production") throws -> JSONValue {
        var object = try YAMLParser.parse(try text("examples/platform.yaml"))
        object[path: ["metadata", "name"]] = .string(name)
        object[path: ["metadata", "namespace"]] = .string(namespace)
        object[path: ["spec", "tierRef", "name"]] = .string(tier)
        object[path: ["spec", "services", "analytics"]] = nil
        return object
    }
}
