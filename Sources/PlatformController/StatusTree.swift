import ControllerRuntime
import Foundation
import JSON
import PlatformAPI

/// The on-call view of one platform: conditions, then each service and dependency, as a
/// tree of aligned text lines.
///
/// Guarantees: pure (platform and Deployments in, text out); with `colors` false the
/// output is plain ASCII-safe text with no escape codes, for pipes and logs.
public struct StatusTree: Sendable {
    public var platform: JSONValue
    /// Live Deployments by name.
    public var deployments: [String: JSONValue]
    public var now: Date
    public var colors: Bool

    public init(platform: JSONValue, deployments: [String: JSONValue], now: Date = Date(), colors: Bool = false) {
        self.platform = platform
        self.deployments = deployments
        self.now = now
        self.colors = colors
    }

    static let dependencies: [(String, PlatformConditionType)] = [("database", .databaseReady), ("cache", .cacheReady), ("storage", .storageReady)]

    public func render() -> String {
        let name = platform[path: ["metadata", "name"]].stringValue ?? "?"
        let namespace = platform[path: ["metadata", "namespace"]].stringValue ?? "?"
        let status = PlatformStatus(json: platform["status"])
        let generation = platform[path: ["metadata", "generation"]].intValue.map(String.init) ?? "?"
        let observed = status.observedGeneration.map(String.init) ?? "none"
        var lines = ["MedicalSearchPlatform \(namespace)/\(name) (tier \(platform[path: ["spec", "tierRef", "name"]].stringValue ?? "?"), generation \(generation), observed \(observed))"]
        if platform[path: ["metadata", "deletionTimestamp"]].stringValue != nil { lines[0] += " DELETING" }

        let dependencyTypes = Set(Self.dependencies.map(\.1.rawValue))
        // Summary conditions first, in a fixed order, whatever order they were added in.
        let order = [PlatformConditionType.ready, .progressing, .degraded, .servicesReady].map(\.rawValue)
        let conditions = status.conditions.filter { !dependencyTypes.contains($0.type) }.enumerated().sorted { a, b in
            (order.firstIndex(of: a.element.type) ?? order.count, a.offset) < (order.firstIndex(of: b.element.type) ?? order.count, b.offset)
        }.map(\.element)
        lines.append("├── Conditions")
        if conditions.isEmpty { lines.append("│   └── (none reported yet)") }
        lines += branch(table(conditions.map { [$0.type, paint($0.status), $0.reason, age($0.lastTransitionTime), $0.message] }), prefix: "│   ")

        lines.append("├── Services")
        let services = PlatformService.allCases.filter { status.services[$0] != nil }
        if services.isEmpty { lines.append("│   └── (none reported yet)") }
        lines += branch(table(services.map { service in
            let replicas = status.services[service]!
            let deploymentName = "\(name)-\(service.rawValue)"
            var deploymentState = "Deployment \(deploymentName) "
            if let deployment = deployments[deploymentName] {
                let observed = ObservedDeployment(deployment: deployment)
                deploymentState += "Available=" + (observed.availableStatus.map(paint) ?? "?") + (observed.availableReason.map { " (\($0))" } ?? "")
            } else {
                deploymentState += paint("missing")
            }
            return [service.rawValue, "\(replicas.readyReplicas)/\(replicas.desiredReplicas) ready", deploymentState]
        }), prefix: "│   ")

        lines.append("├── Dependencies")
        lines += branch(table(Self.dependencies.map { label, type in
            guard let c = Conditions.find(type, in: status.conditions) else { return [label, paint("Unknown"), "NotReported", "", ""] }
            return [label, paint(c.status), c.reason, age(c.lastTransitionTime), c.message]
        }), prefix: "│   ")

        let cost = status.estimatedMonthlyCost.map { "$" + CostEstimate.dollars($0.totalCents) } ?? "not estimated"
        var tail = ["Estimated monthly cost: \(cost)"]
        if !status.failedGuardrails.isEmpty { tail.append("Failed guardrails: " + status.failedGuardrails.joined(separator: "; ")) }
        for (i, line) in tail.enumerated() { lines.append((i == tail.count - 1 ? "└── " : "├── ") + line) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pads every column but the last to its widest cell (escape codes do not count).
    func table(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], visibleWidth(cell)) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - visibleWidth(cell))
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    func branch(_ rows: [String], prefix: String) -> [String] {
        rows.enumerated().map { i, row in prefix + (i == rows.count - 1 ? "└── " : "├── ") + row }
    }

    func paint(_ status: ConditionStatus) -> String { paint(status.rawValue) }

    func paint(_ word: String) -> String {
        guard colors else { return word }
        let code = switch word { case "True": "32"; case "False", "missing": "31"; default: "33" }
        return "\u{1B}[\(code)m\(word)\u{1B}[0m"
    }

    func visibleWidth(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if scalar == "\u{1B}" { inEscape = true; continue }
            if inEscape { if scalar == "m" { inEscape = false }; continue }
            count += 1
        }
        return count
    }

    /// kubectl's short ages: 45s, 12m, 3h, 5d.
    func age(_ timestamp: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: timestamp) else { return "" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }
}

extension StatusTree {
    /// Reads the platform and its Deployments from the API and builds the tree.
    /// - Throws: `ResourceClientError` (404 when the platform does not exist).
    public static func fetch(client: any ResourceClient, namespace: String, name: String, now: Date = Date(), colors: Bool = false) async throws -> StatusTree {
        let platform = try await client.get(PlatformResources.platforms, namespace: namespace, name: name)
        var deployments: [String: JSONValue] = [:]
        for service in PlatformService.allCases {
            let deploymentName = "\(name)-\(service.rawValue)"
            do {
                deployments[deploymentName] = try await client.get(.deployments, namespace: namespace, name: deploymentName)
            } catch let error as ResourceClientError where error.isNotFound {
                continue
            }
        }
        return StatusTree(platform: platform, deployments: deployments, now: now, colors: colors)
    }
}
