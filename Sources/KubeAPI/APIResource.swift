/// Where a kind of object lives in the API: group, version, plural name and scope.
///
/// Guarantees: paths are built from percent-encoded segments, so names with reserved
/// characters (`system:serviceaccount`, say) address the right object.
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    /// "" for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// Lower-case plural used in URLs, e.g. "deployments".
    public var plural: String
    public var kind: String
    /// False for cluster-scoped resources such as Namespace or CustomResourceDefinition.
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// "v1" or "apps/v1", as in an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// "deployments.apps" style name used in messages.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    var groupVersionPath: String {
        group.isEmpty ? "/api/\(PercentEncoding.pathSegment(version))"
            : "/apis/\(PercentEncoding.pathSegment(group))/\(PercentEncoding.pathSegment(version))"
    }

    /// Collection path; a nil namespace on a namespaced resource means all namespaces.
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace {
            return "\(groupVersionPath)/namespaces/\(PercentEncoding.pathSegment(namespace))/\(PercentEncoding.pathSegment(plural))"
        }
        return "\(groupVersionPath)/\(PercentEncoding.pathSegment(plural))"
    }

    /// Path of one object, or of one of its subresources (e.g. "status").
    public func objectPath(namespace: String?, name: String, subresource: String? = nil) -> String {
        var path = collectionPath(namespace: namespaced ? namespace : nil) + "/" + PercentEncoding.pathSegment(name)
        if let subresource { path += "/" + PercentEncoding.pathSegment(subresource) }
        return path
    }
}

extension APIResource {
    public static let namespaces = APIResource(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let services = APIResource(group: "", version: "v1", plural: "services", kind: "Service", namespaced: true)
    public static let serviceAccounts = APIResource(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true)
    public static let configMaps = APIResource(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let secrets = APIResource(group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true)
    public static let pods = APIResource(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    public static let coreEvents = APIResource(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)
    public static let deployments = APIResource(group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true)
    public static let horizontalPodAutoscalers = APIResource(group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler", namespaced: true)
    public static let podDisruptionBudgets = APIResource(group: "policy", version: "v1", plural: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true)
    public static let networkPolicies = APIResource(group: "networking.k8s.io", version: "v1", plural: "networkpolicies", kind: "NetworkPolicy", namespaced: true)
    public static let leases = APIResource(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    public static let events = APIResource(group: "events.k8s.io", version: "v1", plural: "events", kind: "Event", namespaced: true)
    public static let customResourceDefinitions = APIResource(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false)
}

/// RFC 3986 percent-encoding for the two places Kubernetes URLs carry user data.
public enum PercentEncoding {
    /// Encodes everything but unreserved characters, so "/" or "?" in a name cannot
    /// change which URL is addressed.
    public static func pathSegment(_ text: String) -> String { encode(text) }

    /// Encodes a query name or value (space as %20, "+" and "&" and "=" escaped).
    public static func queryComponent(_ text: String) -> String { encode(text) }

    static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}
