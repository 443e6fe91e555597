import AWS
import PlatformAPI

/// How an AWS resource status reads as a condition: ready, still changing (requeue), or failed.
public struct ResourceHealth: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case ready
        /// AWS is working on it; ask again later.
        case inProgress
        /// Needs attention; AWS will not fix it by itself.
        case failed
    }
    public var state: State
    /// The AWS status ("available", "storage-full").
    public var status: String
    /// The AWS status as a condition reason, which Kubernetes wants in CamelCase ("Available", "StorageFull").
    public var reason: String { AWSStatusMapping.conditionReason(status) }

    public init(state: State, status: String) {
        self.state = state
        self.status = status
    }

    public var conditionStatus: ConditionStatus { state == .ready ? .true : .false }
}

/// Maps RDS and ElastiCache statuses onto condition states.
///
/// Statuses that keep serving traffic (backing-up, maintenance, configuring-*, …) count as
/// ready but still ask for a requeue, since a change is under way; unknown statuses are
/// treated as in progress rather than failed, so a new AWS status never pages anyone.
public enum AWSStatusMapping {
    static let rdsServing: Set<String> = [
        "available", "backing-up", "maintenance", "configuring-enhanced-monitoring", "configuring-iam-database-auth",
        "configuring-log-exports", "upgrading", "storage-optimization", "renaming", "resetting-master-credentials",
        "moving-to-vpc", "modifying", "converting-to-vpc",
    ]
    static let rdsFailed: Set<String> = [
        "failed", "storage-full", "inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable",
        "restore-error", "stopped", "stopping", "insufficient-capacity",
    ]

    public static func rds(_ status: String) -> ResourceHealth {
        if status == "available" { return .init(state: .ready, status: "available") }
        if status.hasPrefix("incompatible-") || rdsFailed.contains(status) { return .init(state: .failed, status: status) }
        if rdsServing.contains(status) { return .init(state: .ready, status: status) }
        return .init(state: .inProgress, status: status.isEmpty ? "Unknown" : status)
    }

    public static func elastiCache(_ status: String) -> ResourceHealth {
        switch status {
        case "available", "modifying", "snapshotting": return .init(state: .ready, status: status)
        case "create-failed", "incompatible-network": return .init(state: .failed, status: status)
        default: return .init(state: .inProgress, status: status.isEmpty ? "Unknown" : status)
        }
    }

    /// "backing-up" → "BackingUp", "Transport.timeout" → "TransportTimeout": a valid
    /// metav1.Condition reason (letters, digits, underscores) from any AWS word.
    public static func conditionReason(_ text: String) -> String {
        var out = ""
        var upperNext = true
        for ch in text {
            if ch.isASCII && (ch.isLetter || ch.isNumber || ch == "_") {
                out.append(upperNext ? Character(ch.uppercased()) : ch)
                upperNext = false
            } else {
                upperNext = true
            }
        }
        if let first = out.first, !first.isLetter { out = "AWS" + out }
        return out.isEmpty ? "Unknown" : out
    }

    /// Whether the status means AWS is still changing the resource (the outcome requeues).
    public static func isSettling(_ status: String) -> Bool { status != "available" }

    /// An AWS error as a condition reason and message; the error text carries no request
    /// bodies or credentials (see `AWSError`), and messages are capped.
    public static func reason(for error: AWSError) -> (reason: String, message: String) {
        let reason = error.code.isEmpty ? "AWSError" : conditionReason(error.code)
        var message = "\(error.service) \(error.operation): \(error.code)"
        if !error.message.isEmpty { message += ": \(error.message)" }
        if message.count > 512 { message = String(message.prefix(512)) + "…" }
        return (reason, message)
    }
}
