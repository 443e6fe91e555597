import Foundation
import JSON

/// One object as the store keeps it: serialized JSON plus the few metadata fields every
/// operation needs, so lists, selectors and garbage collection never re-parse the bytes.
struct StoredObject: Sendable {
    var bytes: [UInt8]
    var header: ObjectHeader
}

/// The parsed metadata a stored object carries beside its bytes.
struct ObjectHeader: Sendable, Hashable {
    var name: String
    /// Empty for cluster-scoped objects.
    var namespace: String
    var uid: String
    var resourceVersion: Int64
    var apiVersion: String
    var labels: [String: String]
    /// The values of the kind's field selectors beyond metadata.name / metadata.namespace.
    var fields: [String: String]
    var ownerReferences: [OwnerReference]
    var finalizers: [String]
    var deletionTimestamp: String?

    var storageKey: String { namespace.isEmpty ? name : namespace + "/" + name }

    /// The value a field selector compares, e.g. `metadata.name` or `involvedObject.kind`.
    func field(_ key: String) -> String? {
        switch key {
        case "metadata.name": return name
        case "metadata.namespace": return namespace
        default: return fields[key]
        }
    }
}

/// A `metadata.ownerReferences` entry, as garbage collection reads it.
struct OwnerReference: Sendable, Hashable {
    var uid: String
    var apiVersion: String
    var kind: String
    var name: String
    var blockOwnerDeletion: Bool
}

/// Where an object lives: its storage bucket and `namespace/name` key.
struct ObjectAddress: Sendable, Hashable {
    var storage: StorageID
    var key: String
}

/// The storage of one resource, shared by all versions of it (`group` + `plural`).
struct StorageID: Sendable, Hashable {
    var group: String
    var plural: String
}

extension ResourceKey {
    var storageID: StorageID {
        // Both Event APIs share the core storage (see EventConversion).
        if group == "events.k8s.io" && plural == "events" { return StorageID(group: "", plural: "events") }
        return StorageID(group: group, plural: plural)
    }
}

extension ResourceType {
    var storageID: StorageID { key.storageID }

    /// Field selectors the kind supports besides `metadata.name` and `metadata.namespace`.
    var extraSelectableFields: [String] {
        switch (group, plural) {
        case ("", "events"), ("events.k8s.io", "events"):
            return ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                    "reason", "reportingComponent", "source", "type",
                    "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                    "reportingController"]
        case ("", "secrets"): return ["type"]
        case ("", "namespaces"): return ["status.phase"]
        default: return []
        }
    }

    var selectableFields: [String] { ["metadata.name", "metadata.namespace"] + extraSelectableFields }

    /// Kinds whose strategy sets `metadata.generation` (the others leave it unset, as the real server does).
    var tracksGeneration: Bool {
        if isCustomResource { return true }
        switch (group, plural) {
        case ("apps", _), ("autoscaling", _), ("policy", _), ("networking.k8s.io", _), ("apiextensions.k8s.io", _):
            return true
        default: return false
        }
    }

    /// Kinds for which PUT on a missing object creates it (`AllowCreateOnUpdate` in the real strategies).
    var allowsCreateOnUpdate: Bool {
        switch (group, plural) {
        case ("", "events"), ("events.k8s.io", "events"), ("coordination.k8s.io", "leases"), ("", "services"):
            return true
        default: return false
        }
    }
}

extension ObjectHeader {
    /// Reads the header out of a full object; `fields` follows the kind's selectable fields.
    init(object: JSONValue, type: ResourceType) {
        let metadata = object["metadata"]
        name = metadata["name"].stringValue ?? ""
        namespace = metadata["namespace"].stringValue ?? ""
        uid = metadata["uid"].stringValue ?? ""
        resourceVersion = Int64(metadata["resourceVersion"].stringValue ?? "") ?? 0
        apiVersion = object["apiVersion"].stringValue ?? type.apiVersion
        var labels: [String: String] = [:]
        for (key, value) in metadata["labels"].objectValue ?? [:] { labels[key] = value.stringValue ?? "" }
        self.labels = labels
        // metadata.name and metadata.namespace are read from the header itself; only kinds with
        // extra selectable fields pay for a dictionary.
        var fields: [String: String] = [:]
        for field in type.extraSelectableFields {
            // Events are stored in the core shape; the events.k8s.io names select the same values.
            var source = field
            if source.hasPrefix("regarding.") { source = "involvedObject." + source.dropFirst("regarding.".count) }
            if source == "reportingController" { source = "reportingComponent" }
            let value = object[path: source.split(separator: ".").map(String.init)]
            switch value {
            case .string(let s): fields[field] = s
            case .null: fields[field] = ""
            case .object:
                // `source` on core events is an object; the real server selects on source.component.
                fields[field] = value["component"].stringValue ?? ""
            default: fields[field] = value.serialized()
            }
        }
        self.fields = fields
        ownerReferences = (metadata["ownerReferences"].arrayValue ?? []).compactMap { reference in
            guard let uid = reference["uid"].stringValue else { return nil }
            return OwnerReference(
                uid: uid, apiVersion: reference["apiVersion"].stringValue ?? "", kind: reference["kind"].stringValue ?? "",
                name: reference["name"].stringValue ?? "", blockOwnerDeletion: reference["blockOwnerDeletion"].boolValue ?? false)
        }
        finalizers = (metadata["finalizers"].arrayValue ?? []).compactMap(\.stringValue)
        deletionTimestamp = metadata["deletionTimestamp"].stringValue
    }
}

/// Timestamps as Kubernetes writes them: RFC 3339 in UTC with whole seconds.
enum KubernetesTime {
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }
}
