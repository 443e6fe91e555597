import JSON

/// A typed view over a Kubernetes object held as JSON.
///
/// Guarantees: the JSON is the only storage, so fields this code does not model (new
/// API fields, other controllers' annotations, `managedFields`) survive any
/// read-modify-write round trip untouched.
public protocol KubernetesObject: Sendable, Equatable {
    static var resource: APIResource { get }
    var object: JSONValue { get set }
    init(object: JSONValue)
}

extension KubernetesObject {
    /// A new object with `apiVersion`, `kind` and the given name (and namespace, if namespaced).
    public init(name: String, namespace: String? = nil) {
        var object: JSONValue = ["apiVersion": .string(Self.resource.apiVersion), "kind": .string(Self.resource.kind)]
        object[path: ["metadata", "name"]] = .string(name)
        if Self.resource.namespaced, let namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
        self.init(object: object)
    }

    public var apiVersion: String? { object["apiVersion"].stringValue }
    public var kind: String? { object["kind"].stringValue }

    public var metadata: ObjectMeta {
        get { ObjectMeta(object: object["metadata"]) }
        set { object["metadata"] = newValue.object }
    }

    /// Reads or writes a nested field by path, for the fields without a typed accessor.
    public subscript(path path: String...) -> JSONValue {
        get { object[path: path] }
        set { object[path: path] = newValue }
    }
}

/// Standard object metadata; `managedFields` and anything else unmodelled are kept as JSON.
public struct ObjectMeta: Sendable, Equatable {
    public var object: JSONValue

    public init(object: JSONValue = .emptyObject) {
        self.object = object.isNull ? .emptyObject : object
    }

    public var name: String? {
        get { object["name"].stringValue }
        set { object["name"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var generateName: String? {
        get { object["generateName"].stringValue }
        set { object["generateName"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var namespace: String? {
        get { object["namespace"].stringValue }
        set { object["namespace"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var uid: String? { object["uid"].stringValue }
    public var resourceVersion: String? {
        get { object["resourceVersion"].stringValue }
        set { object["resourceVersion"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var generation: Int64? { object["generation"].intValue }
    public var creationTimestamp: String? { object["creationTimestamp"].stringValue }
    public var deletionTimestamp: String? { object["deletionTimestamp"].stringValue }
    public var labels: [String: String] {
        get { object["labels"].stringMap }
        set { object["labels"] = .stringMap(newValue) }
    }
    public var annotations: [String: String] {
        get { object["annotations"].stringMap }
        set { object["annotations"] = .stringMap(newValue) }
    }
    public var finalizers: [String] {
        get { object["finalizers"].arrayValue?.compactMap(\.stringValue) ?? [] }
        set { object["finalizers"] = newValue.isEmpty ? .null : .array(newValue.map(JSONValue.string)) }
    }
    public var ownerReferences: [OwnerReference] {
        get { object["ownerReferences"].arrayValue?.map(OwnerReference.init(object:)) ?? [] }
        set { object["ownerReferences"] = newValue.isEmpty ? .null : .array(newValue.map(\.object)) }
    }
    /// Kept opaque: only the API server interprets it.
    public var managedFields: JSONValue { object["managedFields"] }
}

/// A link from a dependent object to its owner, for garbage collection.
public struct OwnerReference: Sendable, Equatable {
    public var object: JSONValue

    public init(object: JSONValue) {
        self.object = object
    }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = true, blockOwnerDeletion: Bool = true) {
        object = [
            "apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid),
            "controller": .bool(controller), "blockOwnerDeletion": .bool(blockOwnerDeletion),
        ]
    }

    public var apiVersion: String? { object["apiVersion"].stringValue }
    public var kind: String? { object["kind"].stringValue }
    public var name: String? { object["name"].stringValue }
    public var uid: String? { object["uid"].stringValue }
    public var controller: Bool { object["controller"].boolValue ?? false }
    public var blockOwnerDeletion: Bool { object["blockOwnerDeletion"].boolValue ?? false }
}

extension JSONValue {
    /// An object of strings as a dictionary (non-string members skipped).
    public var stringMap: [String: String] {
        (objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// A dictionary as an object of strings; empty becomes null (absent).
    public static func stringMap(_ map: [String: String]) -> JSONValue {
        map.isEmpty ? .null : .object(map.mapValues(JSONValue.string))
    }

    static func optionalString(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func optionalInt(_ value: Int64?) -> JSONValue { value.map(JSONValue.int) ?? .null }
}

/// Kubernetes `IntOrString` (ports, PDB budgets, rolling-update surges).
public enum IntOrString: Sendable, Equatable {
    case int(Int64)
    case string(String)

    public init?(_ value: JSONValue) {
        if let int = value.intValue { self = .int(int) } else if let string = value.stringValue { self = .string(string) } else { return nil }
    }

    public var json: JSONValue {
        switch self {
        case .int(let value): .int(value)
        case .string(let value): .string(value)
        }
    }
}
