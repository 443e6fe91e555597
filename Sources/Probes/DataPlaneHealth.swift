import Foundation
import JSON

/// What status says about one data store, carried from one probe run to the next so that
/// `lastSuccess` survives failures and a restarted operator can pick it up from status.
///
/// Guarantees: `lastSuccess` only moves forward on a healthy result; `consecutiveFailures`
/// resets on success; the status JSON never holds more than the probe's own (redacted) message.
public struct ProbeHealthRecord: Sendable, Hashable {
    public var target: ProbeTarget
    public var healthy: Bool
    /// The latest healthy probe's latency; nil while unhealthy.
    public var latency: Duration?
    public var lastChecked: Date
    public var lastSuccess: Date?
    /// The latest failure; nil while healthy.
    public var failure: ProbeFailure?
    public var consecutiveFailures: Int

    public init(
        target: ProbeTarget, healthy: Bool, latency: Duration?, lastChecked: Date, lastSuccess: Date?,
        failure: ProbeFailure?, consecutiveFailures: Int
    ) {
        self.target = target
        self.healthy = healthy
        self.latency = latency
        self.lastChecked = lastChecked
        self.lastSuccess = lastSuccess
        self.failure = failure
        self.consecutiveFailures = consecutiveFailures
    }

    /// The record after `result`, given the one before it (nil for a first probe).
    public static func updating(_ previous: ProbeHealthRecord?, with result: ProbeResult) -> ProbeHealthRecord {
        switch result.outcome {
        case .healthy(let latency):
            return ProbeHealthRecord(
                target: result.target, healthy: true, latency: latency, lastChecked: result.checkedAt,
                lastSuccess: result.checkedAt, failure: nil, consecutiveFailures: 0)
        case .unhealthy(let failure):
            return ProbeHealthRecord(
                target: result.target, healthy: false, latency: nil, lastChecked: result.checkedAt,
                lastSuccess: previous?.lastSuccess, failure: failure, consecutiveFailures: (previous?.consecutiveFailures ?? 0) + 1)
        }
    }

    /// The status entry: `kind`, `endpoint`, `healthy`, `latencyMilliseconds`, `lastChecked`,
    /// `lastSuccess` (RFC 3339, UTC, seconds), and on failure `stage`, `reason`, `message`,
    /// `serverCode`, `consecutiveFailures`.
    public var statusJSON: JSONValue {
        var entry = JSONValue.object([
            "kind": .string(target.kind.rawValue),
            "endpoint": .string("\(target.host):\(target.port)"),
            "healthy": .bool(healthy),
            "lastChecked": .string(Self.timestamp(lastChecked)),
        ])
        if let latency {
            entry["latencyMilliseconds"] = .int(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)
        }
        if let lastSuccess { entry["lastSuccess"] = .string(Self.timestamp(lastSuccess)) }
        if let failure {
            entry["stage"] = .string(failure.stage.rawValue)
            entry["reason"] = .string(failure.reason)
            entry["message"] = .string(failure.message)
            if let code = failure.serverCode { entry["serverCode"] = .string(code) }
            entry["consecutiveFailures"] = .int(Int64(consecutiveFailures))
        }
        return entry
    }

    /// Reads an entry written by `statusJSON` (after a restart); nil if it is not one.
    public init?(statusJSON entry: JSONValue) {
        guard let kind = entry["kind"].stringValue, let endpoint = entry["endpoint"].stringValue,
            let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
            let healthy = entry["healthy"].boolValue,
            let lastChecked = entry["lastChecked"].stringValue.flatMap(Self.date)
        else { return nil }
        target = ProbeTarget(kind: .init(rawValue: kind), host: String(endpoint[..<colon]), port: port)
        self.healthy = healthy
        latency = entry["latencyMilliseconds"].intValue.map { .milliseconds($0) }
        self.lastChecked = lastChecked
        lastSuccess = entry["lastSuccess"].stringValue.flatMap(Self.date)
        if let reason = entry["reason"].stringValue {
            failure = ProbeFailure(
                stage: ProbeStage(rawValue: entry["stage"].stringValue ?? ProbeStage.connect.rawValue),
                reason: reason, message: entry["message"].stringValue ?? "", serverCode: entry["serverCode"].stringValue)
        } else {
            failure = nil
        }
        consecutiveFailures = Int(entry["consecutiveFailures"].intValue ?? 0)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// The data plane's health in the shape of a `Degraded` condition: any unhealthy store makes
/// it degraded with that store's reason; all healthy clears it.
public struct DataPlaneHealthSummary: Sendable, Hashable {
    public var isDegraded: Bool
    /// The first unhealthy store's reason (e.g. "AuthenticationFailed"), or "DataPlaneHealthy".
    public var reason: String
    /// Every unhealthy store with its failure, or the stores checked.
    public var message: String

    /// Summarises `records` in their order (put the most important store first).
    public static func summarize(_ records: [ProbeHealthRecord]) -> DataPlaneHealthSummary {
        let unhealthy = records.filter { !$0.healthy }
        guard let first = unhealthy.first else {
            let names = records.map { $0.target.kind.rawValue }.joined(separator: ", ")
            return DataPlaneHealthSummary(
                isDegraded: false, reason: "DataPlaneHealthy",
                message: records.isEmpty ? "no data stores are probed" : "\(names) reachable")
        }
        let message = unhealthy.map { record in
            "\(record.target): \(record.failure.map(\.description) ?? "unhealthy")"
        }.joined(separator: "; ")
        return DataPlaneHealthSummary(isDegraded: true, reason: first.failure?.reason ?? "ProbeFailed", message: message)
    }
}

/// Runs probes concurrently, each under its own deadline.
public enum DataPlaneProbing {
    /// The results in the order of `probes`.
    public static func probeAll(_ probes: [any DataPlaneProbe]) async -> [ProbeResult] {
        await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask { (index, await probe.probe()) }
            }
            var results: [ProbeResult?] = Array(repeating: nil, count: probes.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }
}
