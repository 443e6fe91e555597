import JSON

/// A reference from an object to its owner, as found in `metadata.ownerReferences`: the
/// compact, hashable form kept in caches (KubeAPI's `OwnerReference` wraps the JSON).
public struct OwnerRef: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: ObjectUID
    public var controller: Bool

    public init(apiVersion: String, kind: String, name: String, uid: ObjectUID, controller: Bool = false) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }

    init?(json: JSONValue) {
        guard let uid = json["uid"].stringValue, let name = json["name"].stringValue,
              let kind = json["kind"].stringValue, let apiVersion = json["apiVersion"].stringValue else { return nil }
        let interner = StringInterner.shared
        self.init(apiVersion: interner.intern(apiVersion), kind: interner.intern(kind), name: name, uid: ObjectUID(uid), controller: json["controller"].boolValue ?? false)
    }

    /// The JSON form to put in a child's `metadata.ownerReferences`.
    public var json: JSONValue {
        var value: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid.description)]
        if controller {
            value["controller"] = true
            value["blockOwnerDeletion"] = true
        }
        return value
    }
}

/// The metadata every cached object keeps, whatever its payload: enough to key it, index
/// it by owner, and decide whether a reconcile or a finalizer step is needed.
public struct CachedMetadata: Sendable, Hashable {
    public var key: ObjectKey
    public var uid: ObjectUID
    public var resourceVersion: String
    public var generation: Int64
    public var labels: [String: String]
    public var ownerReferences: [OwnerRef]
    public var finalizers: [String]
    public var isBeingDeleted: Bool

    public init(key: ObjectKey, uid: ObjectUID = "", resourceVersion: String = "", generation: Int64 = 0, labels: [String: String] = [:], ownerReferences: [OwnerRef] = [], finalizers: [String] = [], isBeingDeleted: Bool = false) {
        self.key = key
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.labels = labels
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
        self.isBeingDeleted = isBeingDeleted
    }

    /// Reads the metadata of an API object; nil when it has no name. Repeated strings
    /// (namespace, owner kind and apiVersion, labels) are shared between cached objects.
    /// - Parameter keepLabels: false drops labels, for caches that never select by them.
    public init?(object: JSONValue, keepLabels: Bool = true) {
        let meta = object["metadata"]
        guard let name = meta["name"].stringValue else { return nil }
        let interner = StringInterner.shared
        var labels: [String: String] = [:]
        if keepLabels {
            for (k, v) in meta["labels"].objectValue ?? [:] { if let s = v.stringValue { labels[interner.intern(k)] = interner.intern(s) } }
        }
        self.init(
            key: ObjectKey(namespace: interner.intern(meta["namespace"].stringValue ?? ""), name: name),
            uid: ObjectUID(meta["uid"].stringValue ?? ""),
            resourceVersion: meta["resourceVersion"].stringValue ?? "",
            generation: meta["generation"].intValue ?? 0,
            labels: labels,
            ownerReferences: (meta["ownerReferences"].arrayValue ?? []).compactMap(OwnerRef.init(json:)),
            finalizers: (meta["finalizers"].arrayValue ?? []).compactMap { $0.stringValue.map(interner.intern) },
            isBeingDeleted: !meta["deletionTimestamp"].isNull
        )
    }

    /// The owner reference marked `controller: true`, if any.
    public var controllerReference: OwnerRef? { ownerReferences.first { $0.controller } }
}

/// An object as held in an informer's cache: its metadata plus whatever the transform kept.
public struct CachedObject<Payload: Sendable>: Sendable {
    public var metadata: CachedMetadata
    public var payload: Payload

    public init(metadata: CachedMetadata, payload: Payload) {
        self.metadata = metadata
        self.payload = payload
    }

    public var key: ObjectKey { metadata.key }
}

/// A JSON value kept as a compact byte blob: a fraction of the memory of a parsed tree (no
/// per-node enum boxes and dictionaries), decoded again only when read.
///
/// The bytes are `PackedJSON` (binary, member names and repeated strings as numbers into a
/// process-wide table), about a third of the size of the JSON text for Kubernetes objects.
/// They are an in-process form only: use `value` (or `serializedBytes`) to send or store.
public struct CompactJSON: Sendable, Hashable {
    /// The packed form; opaque outside this process.
    public let bytes: [UInt8]

    public init(_ value: JSONValue) {
        bytes = PackedJSON.encode(value)
    }

    /// An exact-size copy of bytes produced by `PackedJSON.encode`.
    init(packedBytes: [UInt8]) {
        bytes = [UInt8](unsafeUninitializedCapacity: packedBytes.count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: packedBytes)
        }
    }

    /// The decoded value. The bytes were produced by our own encoder, so they always decode.
    public var value: JSONValue {
        guard let value = PackedJSON.decode(bytes) else { preconditionFailure("CompactJSON holds bytes that do not decode") }
        return value
    }

    /// The value as compact JSON text (sorted keys).
    public var serializedBytes: [UInt8] { value.serializedBytes() }

    /// Equal values: the packed bytes of equal values can differ (see `PackedJSON`), so
    /// differing bytes are settled by decoding.
    public static func == (lhs: CompactJSON, rhs: CompactJSON) -> Bool {
        lhs.bytes == rhs.bytes || lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// Turns a full API object into what the cache keeps.
///
/// Runs once per watch event, before caching, so the full tree (managedFields, last-applied
/// annotations, status we never read) is dropped immediately. Returning nil skips the object.
public struct ObjectTransform<Payload: Sendable>: Sendable {
    public let project: @Sendable (JSONValue) -> CachedObject<Payload>?

    public init(_ project: @escaping @Sendable (JSONValue) -> CachedObject<Payload>?) {
        self.project = project
    }

    /// A projection that keeps metadata plus a payload computed from the stripped object.
    public static func projecting(_ payload: @escaping @Sendable (JSONValue) -> Payload) -> ObjectTransform<Payload> {
        ObjectTransform { object in
            let stripped = ObjectTransform<CompactJSON>.strip(object)
            guard let metadata = CachedMetadata(object: stripped) else { return nil }
            return CachedObject(metadata: metadata, payload: payload(stripped))
        }
    }

    /// Annotations that are large and never read by controllers.
    public static var strippedAnnotations: [String] { ["kubectl.kubernetes.io/last-applied-configuration"] }
}

extension ObjectTransform where Payload == CompactJSON {
    /// Keeps the whole object minus managedFields and the last-applied annotation, as compact
    /// bytes. The general-purpose choice: correct for any reader, a few hundred bytes per child.
    public static var strippedCompactJSON: ObjectTransform<CompactJSON> {
        .projecting { CompactJSON($0) }
    }

    /// Removes `metadata.managedFields` and large annotations nobody reads.
    public static func strip(_ object: JSONValue) -> JSONValue {
        var object = object
        object[path: ["metadata", "managedFields"]] = .null
        for annotation in strippedAnnotations {
            object[path: ["metadata", "annotations", annotation]] = .null
        }
        if object[path: ["metadata", "annotations"]].objectValue?.isEmpty == true {
            object[path: ["metadata", "annotations"]] = .null
        }
        return object
    }
}
