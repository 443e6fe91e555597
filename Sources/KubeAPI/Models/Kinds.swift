import Foundation
import JSON

/// core/v1 Namespace.
public struct Namespace: KubernetesObject {
    public static let resource = APIResource.namespaces
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    /// "Active" or "Terminating".
    public var phase: String? { object[path: ["status", "phase"]].stringValue }
}

/// apps/v1 Deployment: the fields an operator sets and the rollout status it reads.
public struct Deployment: KubernetesObject {
    public static let resource = APIResource.deployments
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var replicas: Int64? {
        get { object[path: ["spec", "replicas"]].intValue }
        set { object[path: ["spec", "replicas"]] = .optionalInt(newValue) }
    }
    public var selectorMatchLabels: [String: String] {
        get { object[path: ["spec", "selector", "matchLabels"]].stringMap }
        set { object[path: ["spec", "selector", "matchLabels"]] = .stringMap(newValue) }
    }
    /// The pod template, as JSON (containers, volumes, …).
    public var template: JSONValue {
        get { object[path: ["spec", "template"]] }
        set { object[path: ["spec", "template"]] = newValue }
    }
    public var observedGeneration: Int64? { object[path: ["status", "observedGeneration"]].intValue }
    public var readyReplicas: Int64 { object[path: ["status", "readyReplicas"]].intValue ?? 0 }
    public var availableReplicas: Int64 { object[path: ["status", "availableReplicas"]].intValue ?? 0 }
    public var updatedReplicas: Int64 { object[path: ["status", "updatedReplicas"]].intValue ?? 0 }
    public var conditions: [Condition] { Condition.list(object[path: ["status", "conditions"]]) }
}

/// core/v1 Service.
public struct Service: KubernetesObject {
    public static let resource = APIResource.services
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    /// "ClusterIP" (default), "NodePort", "LoadBalancer", "ExternalName".
    public var type: String? {
        get { object[path: ["spec", "type"]].stringValue }
        set { object[path: ["spec", "type"]] = .optionalString(newValue) }
    }
    public var selector: [String: String] {
        get { object[path: ["spec", "selector"]].stringMap }
        set { object[path: ["spec", "selector"]] = .stringMap(newValue) }
    }
    public var ports: [JSONValue] {
        get { object[path: ["spec", "ports"]].arrayValue ?? [] }
        set { object[path: ["spec", "ports"]] = newValue.isEmpty ? .null : .array(newValue) }
    }
    /// Assigned by the server; must be carried over on update.
    public var clusterIP: String? { object[path: ["spec", "clusterIP"]].stringValue }
}

/// autoscaling/v2 HorizontalPodAutoscaler.
public struct HorizontalPodAutoscaler: KubernetesObject {
    public static let resource = APIResource.horizontalPodAutoscalers
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var minReplicas: Int64? {
        get { object[path: ["spec", "minReplicas"]].intValue }
        set { object[path: ["spec", "minReplicas"]] = .optionalInt(newValue) }
    }
    public var maxReplicas: Int64? {
        get { object[path: ["spec", "maxReplicas"]].intValue }
        set { object[path: ["spec", "maxReplicas"]] = .optionalInt(newValue) }
    }
    /// `spec.scaleTargetRef` (apiVersion, kind, name).
    public var scaleTargetRef: JSONValue {
        get { object[path: ["spec", "scaleTargetRef"]] }
        set { object[path: ["spec", "scaleTargetRef"]] = newValue }
    }
    public var metrics: [JSONValue] {
        get { object[path: ["spec", "metrics"]].arrayValue ?? [] }
        set { object[path: ["spec", "metrics"]] = newValue.isEmpty ? .null : .array(newValue) }
    }
    public var currentReplicas: Int64? { object[path: ["status", "currentReplicas"]].intValue }
    public var desiredReplicas: Int64? { object[path: ["status", "desiredReplicas"]].intValue }
}

/// core/v1 ServiceAccount.
public struct ServiceAccount: KubernetesObject {
    public static let resource = APIResource.serviceAccounts
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var automountServiceAccountToken: Bool? {
        get { object["automountServiceAccountToken"].boolValue }
        set { object["automountServiceAccountToken"] = newValue.map(JSONValue.bool) ?? .null }
    }
}

/// policy/v1 PodDisruptionBudget.
public struct PodDisruptionBudget: KubernetesObject {
    public static let resource = APIResource.podDisruptionBudgets
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var minAvailable: IntOrString? {
        get { IntOrString(object[path: ["spec", "minAvailable"]]) }
        set { object[path: ["spec", "minAvailable"]] = newValue?.json ?? .null }
    }
    public var maxUnavailable: IntOrString? {
        get { IntOrString(object[path: ["spec", "maxUnavailable"]]) }
        set { object[path: ["spec", "maxUnavailable"]] = newValue?.json ?? .null }
    }
    public var selectorMatchLabels: [String: String] {
        get { object[path: ["spec", "selector", "matchLabels"]].stringMap }
        set { object[path: ["spec", "selector", "matchLabels"]] = .stringMap(newValue) }
    }
    public var disruptionsAllowed: Int64? { object[path: ["status", "disruptionsAllowed"]].intValue }
}

/// networking.k8s.io/v1 NetworkPolicy.
public struct NetworkPolicy: KubernetesObject {
    public static let resource = APIResource.networkPolicies
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var podSelectorMatchLabels: [String: String] {
        get { object[path: ["spec", "podSelector", "matchLabels"]].stringMap }
        set {
            object[path: ["spec", "podSelector"]] = newValue.isEmpty
                ? .emptyObject : ["matchLabels": .stringMap(newValue)]
        }
    }
    /// "Ingress" and/or "Egress".
    public var policyTypes: [String] {
        get { object[path: ["spec", "policyTypes"]].arrayValue?.compactMap(\.stringValue) ?? [] }
        set { object[path: ["spec", "policyTypes"]] = newValue.isEmpty ? .null : .array(newValue.map(JSONValue.string)) }
    }
    public var ingress: [JSONValue] {
        get { object[path: ["spec", "ingress"]].arrayValue ?? [] }
        set { object[path: ["spec", "ingress"]] = .array(newValue) }
    }
    public var egress: [JSONValue] {
        get { object[path: ["spec", "egress"]].arrayValue ?? [] }
        set { object[path: ["spec", "egress"]] = .array(newValue) }
    }
}

/// core/v1 ConfigMap.
public struct ConfigMap: KubernetesObject {
    public static let resource = APIResource.configMaps
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var data: [String: String] {
        get { object["data"].stringMap }
        set { object["data"] = .stringMap(newValue) }
    }
}

/// core/v1 Secret. `data` is decoded from base64 on read and encoded on write.
///
/// Caveats: `description` names the keys only; values never reach logs.
public struct Secret: KubernetesObject, CustomStringConvertible {
    public static let resource = APIResource.secrets
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var type: String? {
        get { object["type"].stringValue }
        set { object["type"] = .optionalString(newValue) }
    }
    /// Decoded values; entries that are not valid base64 are left out.
    public var data: [String: [UInt8]] {
        get {
            (object["data"].objectValue ?? [:]).compactMapValues { value in
                value.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
            }
        }
        set {
            object["data"] = newValue.isEmpty ? .null : .object(newValue.mapValues { .string(Data($0).base64EncodedString()) })
        }
    }
    /// Write-only convenience the API server merges into `data`.
    public var stringData: [String: String] {
        get { object["stringData"].stringMap }
        set { object["stringData"] = .stringMap(newValue) }
    }

    public var description: String {
        let keys = Set((object["data"].objectValue ?? [:]).keys).union((object["stringData"].objectValue ?? [:]).keys)
        return "Secret \(metadata.namespace ?? "")/\(metadata.name ?? "") keys: \(keys.sorted().joined(separator: ", "))"
    }
}

/// coordination.k8s.io/v1 Lease, for leader election.
public struct Lease: KubernetesObject {
    public static let resource = APIResource.leases
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var holderIdentity: String? {
        get { object[path: ["spec", "holderIdentity"]].stringValue }
        set { object[path: ["spec", "holderIdentity"]] = .optionalString(newValue) }
    }
    public var leaseDurationSeconds: Int64? {
        get { object[path: ["spec", "leaseDurationSeconds"]].intValue }
        set { object[path: ["spec", "leaseDurationSeconds"]] = .optionalInt(newValue) }
    }
    /// RFC 3339 with microseconds (`MicroTime`).
    public var acquireTime: String? {
        get { object[path: ["spec", "acquireTime"]].stringValue }
        set { object[path: ["spec", "acquireTime"]] = .optionalString(newValue) }
    }
    public var renewTime: String? {
        get { object[path: ["spec", "renewTime"]].stringValue }
        set { object[path: ["spec", "renewTime"]] = .optionalString(newValue) }
    }
    public var leaseTransitions: Int64? {
        get { object[path: ["spec", "leaseTransitions"]].intValue }
        set { object[path: ["spec", "leaseTransitions"]] = .optionalInt(newValue) }
    }
}

/// events.k8s.io/v1 Event (the current events API).
public struct Event: KubernetesObject {
    public static let resource = APIResource.events
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    /// The object the event is about (apiVersion, kind, namespace, name, uid).
    public var regarding: JSONValue {
        get { object["regarding"] }
        set { object["regarding"] = newValue }
    }
    public var reason: String? {
        get { object["reason"].stringValue }
        set { object["reason"] = .optionalString(newValue) }
    }
    public var note: String? {
        get { object["note"].stringValue }
        set { object["note"] = .optionalString(newValue) }
    }
    /// "Normal" or "Warning".
    public var type: String? {
        get { object["type"].stringValue }
        set { object["type"] = .optionalString(newValue) }
    }
    public var action: String? {
        get { object["action"].stringValue }
        set { object["action"] = .optionalString(newValue) }
    }
    public var reportingController: String? {
        get { object["reportingController"].stringValue }
        set { object["reportingController"] = .optionalString(newValue) }
    }
    public var reportingInstance: String? {
        get { object["reportingInstance"].stringValue }
        set { object["reportingInstance"] = .optionalString(newValue) }
    }
    /// RFC 3339 with microseconds.
    public var eventTime: String? {
        get { object["eventTime"].stringValue }
        set { object["eventTime"] = .optionalString(newValue) }
    }
}

/// core/v1 Event, the older API that `kubectl describe` still shows.
public struct CoreEvent: KubernetesObject {
    public static let resource = APIResource.coreEvents
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var involvedObject: JSONValue {
        get { object["involvedObject"] }
        set { object["involvedObject"] = newValue }
    }
    public var reason: String? {
        get { object["reason"].stringValue }
        set { object["reason"] = .optionalString(newValue) }
    }
    public var message: String? {
        get { object["message"].stringValue }
        set { object["message"] = .optionalString(newValue) }
    }
    public var type: String? {
        get { object["type"].stringValue }
        set { object["type"] = .optionalString(newValue) }
    }
    public var count: Int64? {
        get { object["count"].intValue }
        set { object["count"] = .optionalInt(newValue) }
    }
    public var firstTimestamp: String? {
        get { object["firstTimestamp"].stringValue }
        set { object["firstTimestamp"] = .optionalString(newValue) }
    }
    public var lastTimestamp: String? {
        get { object["lastTimestamp"].stringValue }
        set { object["lastTimestamp"] = .optionalString(newValue) }
    }
}

/// apiextensions.k8s.io/v1 CustomResourceDefinition.
public struct CustomResourceDefinition: KubernetesObject {
    public static let resource = APIResource.customResourceDefinitions
    public var object: JSONValue
    public init(object: JSONValue) { self.object = object }

    public var group: String? {
        get { object[path: ["spec", "group"]].stringValue }
        set { object[path: ["spec", "group"]] = .optionalString(newValue) }
    }
    /// "Namespaced" or "Cluster".
    public var scope: String? {
        get { object[path: ["spec", "scope"]].stringValue }
        set { object[path: ["spec", "scope"]] = .optionalString(newValue) }
    }
    /// `spec.names` (plural, singular, kind, shortNames, …).
    public var names: JSONValue {
        get { object[path: ["spec", "names"]] }
        set { object[path: ["spec", "names"]] = newValue }
    }
    public var versions: [JSONValue] {
        get { object[path: ["spec", "versions"]].arrayValue ?? [] }
        set { object[path: ["spec", "versions"]] = .array(newValue) }
    }
    public var conditions: [Condition] { Condition.list(object[path: ["status", "conditions"]]) }
    /// True once the API server serves the new resource.
    public var isEstablished: Bool { conditions.contains { $0.type == "Established" && $0.status == "True" } }
}

/// A status condition as most kinds report them.
public struct Condition: Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    static func list(_ value: JSONValue) -> [Condition] {
        (value.arrayValue ?? []).compactMap { item in
            guard let type = item["type"].stringValue, let status = item["status"].stringValue else { return nil }
            return Condition(
                type: type, status: status, reason: item["reason"].stringValue, message: item["message"].stringValue,
                lastTransitionTime: item["lastTransitionTime"].stringValue)
        }
    }
}
