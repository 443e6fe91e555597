import Foundation
import JSON

/// The condition types a platform reports; `Ready` is the kstatus summary.
public enum PlatformConditionType: String, Sendable, CaseIterable {
    case ready = "Ready"
    case progressing = "Progressing"
    case degraded = "Degraded"
    case servicesReady = "ServicesReady"
    case databaseReady = "DatabaseReady"
    case cacheReady = "CacheReady"
    case storageReady = "StorageReady"
}

/// A condition's status, as Kubernetes spells it.
public enum ConditionStatus: String, Sendable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}

/// A `metav1.Condition`.
public struct Condition: Sendable, Equatable {
    public var type: String
    public var status: ConditionStatus
    public var reason: String
    public var message: String
    /// RFC 3339, seconds precision, UTC (what `metav1.Time` serialises to).
    public var lastTransitionTime: String
    public var observedGeneration: Int64?

    public init(type: String, status: ConditionStatus, reason: String, message: String, lastTransitionTime: String, observedGeneration: Int64?) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// Condition transitions as pure functions over a list.
///
/// Guarantees: `lastTransitionTime` changes only when `status` changes, so watchers can
/// tell how long a condition has held; reason, message and observedGeneration are always
/// refreshed. Order of existing conditions is kept; new ones are appended.
public enum Conditions {
    public static func set(
        _ type: PlatformConditionType, _ status: ConditionStatus, reason: String, message: String,
        generation: Int64?, now: Date, in conditions: inout [Condition]
    ) {
        set(type.rawValue, status, reason: reason, message: message, generation: generation, now: now, in: &conditions)
    }

    public static func set(
        _ type: String, _ status: ConditionStatus, reason: String, message: String,
        generation: Int64?, now: Date, in conditions: inout [Condition]
    ) {
        if let i = conditions.firstIndex(where: { $0.type == type }) {
            var c = conditions[i]
            if c.status != status {
                c.status = status
                c.lastTransitionTime = Condition.timestamp(now)
            }
            c.reason = reason
            c.message = message
            c.observedGeneration = generation
            conditions[i] = c
        } else {
            conditions.append(Condition(
                type: type, status: status, reason: reason, message: message,
                lastTransitionTime: Condition.timestamp(now), observedGeneration: generation))
        }
    }

    public static func find(_ type: PlatformConditionType, in conditions: [Condition]) -> Condition? {
        conditions.first { $0.type == type.rawValue }
    }

    /// Marks the platform invalid the way the controller reports a bad spec: Ready=False
    /// with reason `InvalidSpec` and the violations (field paths included) as the message.
    public static func setInvalidSpec(_ violations: [SpecViolation], generation: Int64?, now: Date, in conditions: inout [Condition]) {
        let message = violations.map(\.description).joined(separator: "; ")
        set(.ready, .false, reason: "InvalidSpec", message: message, generation: generation, now: now, in: &conditions)
        set(.progressing, .false, reason: "InvalidSpec", message: "waiting for the spec to be fixed", generation: generation, now: now, in: &conditions)
    }
}

extension Conditions {
    /// The component conditions `Ready` summarises, in the order messages name them.
    public static let components: [PlatformConditionType] = [.servicesReady, .databaseReady, .cacheReady, .storageReady]

    /// Sets `Ready` and `Progressing` from the component conditions, so kstatus reads the
    /// platform as Current exactly when every component is ready at this generation.
    ///
    /// Ready is True only when all four components are True. Otherwise it is False (any
    /// component False) or Unknown (none False, some not reported yet), and its reason names
    /// the first component that is not ready. `Degraded` is left to the caller, which alone
    /// knows whether a failure is transient.
    public static func summarize(generation: Int64?, now: Date, in conditions: inout [Condition]) {
        let states = components.map { type in (type, find(type, in: conditions)) }
        let notReady = states.filter { $0.1?.status != .true }
        if notReady.isEmpty {
            set(.ready, .true, reason: "Ready", message: "services, database, cache and storage are ready", generation: generation, now: now, in: &conditions)
            set(.progressing, .false, reason: "Ready", message: "nothing left to do", generation: generation, now: now, in: &conditions)
            return
        }
        let anyFalse = notReady.contains { $0.1?.status == .false }
        let first = notReady[0].0
        let reason = "\(first.rawValue.replacingOccurrences(of: "Ready", with: ""))NotReady"
        let message = notReady.map { type, c in
            "\(type.rawValue)=\(c?.status.rawValue ?? "Unknown")" + (c.map { $0.message.isEmpty ? "" : " (\($0.message))" } ?? "")
        }.joined(separator: ", ")
        set(.ready, anyFalse ? .false : .unknown, reason: reason, message: message, generation: generation, now: now, in: &conditions)
        set(.progressing, .true, reason: "Reconciling", message: message, generation: generation, now: now, in: &conditions)
    }
}

/// Replica counts of one service.
public struct ServiceReplicaStatus: Sendable, Equatable {
    public var desiredReplicas: Int64
    public var readyReplicas: Int64
    public init(desiredReplicas: Int64, readyReplicas: Int64) {
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
    }
}

/// A monthly cost estimate in US dollars, itemised.
public struct CostEstimate: Sendable, Equatable {
    /// Line items in cents, keyed by component (`eks`, `rds`, `elasticache`, `s3`, `dataTransfer`, `loadBalancer`).
    public var itemsCents: [String: Int64]
    public init(itemsCents: [String: Int64]) { self.itemsCents = itemsCents }

    public var totalCents: Int64 { itemsCents.values.reduce(0, +) }
    public var totalDollars: Double { Double(totalCents) / 100 }

    /// Dollars as a string with two decimals; status carries strings, not floats, so the
    /// value round-trips exactly.
    public static func dollars(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        let fraction = a % 100
        return "\(sign)\(a / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public var jsonValue: JSONValue {
        var items: [String: JSONValue] = [:]
        for (k, v) in itemsCents { items[k] = .string(Self.dollars(v)) }
        return ["currency": "USD", "total": .string(Self.dollars(totalCents)), "items": .object(items)]
    }
}

/// The platform's status subresource (kstatus-compatible: observedGeneration + conditions).
public struct PlatformStatus: Sendable, Equatable {
    public var observedGeneration: Int64?
    public var conditions: [Condition] = []
    public var services: [PlatformService: ServiceReplicaStatus] = [:]
    /// Named endpoints (`database`, `databaseReader`, `cache`, `bucket.documents`, …).
    public var endpoints: [String: String] = [:]
    public var estimatedMonthlyCost: CostEstimate?
    public var failedGuardrails: [String] = []

    public init() {}

    /// Records a spec the controller cannot act on: `Ready=False, reason InvalidSpec`
    /// naming each field, and the HIPAA guardrails among the violations.
    public mutating func recordInvalidSpec(_ violations: [SpecViolation], guardrails: [SpecViolation], generation: Int64?, now: Date) {
        Conditions.setInvalidSpec(violations, generation: generation, now: now, in: &conditions)
        failedGuardrails = guardrails.map(\.description)
        observedGeneration = generation
    }

    /// `ready/enabled` services, for the printer column.
    public var servicesSummary: String {
        let ready = services.values.filter { $0.desiredReplicas > 0 && $0.readyReplicas >= $0.desiredReplicas }.count
        return "\(ready)/\(services.count)"
    }

    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let observedGeneration { o["observedGeneration"] = .int(observedGeneration) }
        o["conditions"] = .array(conditions.map { c in
            var v: JSONValue = [
                "type": .string(c.type), "status": .string(c.status.rawValue), "reason": .string(c.reason),
                "message": .string(c.message), "lastTransitionTime": .string(c.lastTransitionTime),
            ]
            if let g = c.observedGeneration { v["observedGeneration"] = .int(g) }
            return v
        })
        var services: [String: JSONValue] = [:]
        for (service, s) in self.services {
            services[service.rawValue] = ["desiredReplicas": .int(s.desiredReplicas), "readyReplicas": .int(s.readyReplicas)]
        }
        o["services"] = .object(services)
        o["servicesSummary"] = .string(servicesSummary)
        o["endpoints"] = .object(endpoints.mapValues { .string($0) })
        if let estimatedMonthlyCost { o["estimatedMonthlyCost"] = estimatedMonthlyCost.jsonValue }
        o["failedGuardrails"] = .array(failedGuardrails.map { .string($0) })
        return .object(o)
    }

    public init(json s: JSONValue) {
        observedGeneration = s["observedGeneration"].intValue
        conditions = (s["conditions"].arrayValue ?? []).compactMap { c in
            guard let type = c["type"].stringValue, let status = c["status"].stringValue.flatMap(ConditionStatus.init(rawValue:)) else { return nil }
            return Condition(
                type: type, status: status, reason: c["reason"].stringValue ?? "", message: c["message"].stringValue ?? "",
                lastTransitionTime: c["lastTransitionTime"].stringValue ?? "", observedGeneration: c["observedGeneration"].intValue)
        }
        for (k, v) in s["services"].objectValue ?? [:] {
            guard let service = PlatformService(rawValue: k) else { continue }
            services[service] = ServiceReplicaStatus(desiredReplicas: v["desiredReplicas"].intValue ?? 0, readyReplicas: v["readyReplicas"].intValue ?? 0)
        }
        endpoints = (s["endpoints"].objectValue ?? [:]).compactMapValues(\.stringValue)
        if let items = s[path: ["estimatedMonthlyCost", "items"]].objectValue {
            estimatedMonthlyCost = CostEstimate(itemsCents: items.compactMapValues { v in
                v.stringValue.flatMap(Double.init).map { Int64(($0 * 100).rounded()) }
            })
        }
        failedGuardrails = (s["failedGuardrails"].arrayValue ?? []).compactMap(\.stringValue)
    }
}
