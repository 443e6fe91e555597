import Synchronization

/// A named secondary index over a store: maps each object to the values it is found under.
public struct StoreIndex<Payload: Sendable>: Sendable {
    public let name: String
    public let values: @Sendable (CachedObject<Payload>) -> [String]

    public init(name: String, values: @escaping @Sendable (CachedObject<Payload>) -> [String]) {
        self.name = name
        self.values = values
    }

    /// Objects by namespace.
    public static var namespace: StoreIndex {
        StoreIndex(name: "namespace") { [$0.metadata.key.namespace] }
    }

    /// Objects by the UID of every owner they reference (controller or not).
    public static var ownerUID: StoreIndex {
        StoreIndex(name: "ownerUID") { $0.metadata.ownerReferences.map(\.uid.description) }
    }
}

/// The informer's local cache of one resource, with secondary indexes.
///
/// Guarantees:
/// - Reads are synchronous and never wait for the watch: a reader always sees a complete
///   object as of some resourceVersion, and indexes always agree with the objects.
/// - `replace` (a relist) swaps the contents in one step and answers which objects vanished,
///   so missed deletes are still delivered; readers are never shown an empty cache meanwhile.
public final class ObjectCache<Payload: Sendable>: Sendable {
    private let indexes: [StoreIndex<Payload>]
    private let contents: Mutex<SlotStore<Payload>>

    /// The namespace and owner-UID indexes are always present; add custom ones here.
    public init(indexes: [StoreIndex<Payload>] = []) {
        var all: [StoreIndex<Payload>] = [.namespace, .ownerUID]
        for index in indexes where !all.contains(where: { $0.name == index.name }) { all.append(index) }
        self.indexes = all
        contents = Mutex(SlotStore(indexes: all))
    }

    /// True once the first full list has been stored.
    public var hasSynced: Bool { contents.withLock { $0.synced } }

    public var count: Int { contents.withLock { $0.count } }

    public func get(_ key: ObjectKey) -> CachedObject<Payload>? {
        contents.withLock { $0.get(key) }
    }

    /// Every cached object, optionally only those in `namespace`, sorted by key.
    public func list(namespace: String? = nil) -> [CachedObject<Payload>] {
        if let namespace { return byIndex("namespace", value: namespace) }
        return contents.withLock { $0.all() }.sorted { $0.key < $1.key }
    }

    /// Objects found under `value` in the index `name`, sorted by key; empty for an unknown index.
    public func byIndex(_ name: String, value: String) -> [CachedObject<Payload>] {
        (contents.withLock { $0.objects(inIndex: name, value: value) } ?? []).sorted { $0.key < $1.key }
    }

    /// Keys of the objects owned by `ownerUID`.
    public func keysOwned(by ownerUID: ObjectUID) -> [ObjectKey] {
        contents.withLock { $0.keys(inIndex: "ownerUID", value: ownerUID.description) }.sorted()
    }

    /// Stores `object`, returning what it replaced.
    @discardableResult
    public func upsert(_ object: CachedObject<Payload>) -> CachedObject<Payload>? {
        contents.withLock { $0.upsert(object) }
    }

    /// Removes the object at `key`, returning it.
    @discardableResult
    public func remove(_ key: ObjectKey) -> CachedObject<Payload>? {
        contents.withLock { $0.remove(key) }
    }

    /// Marks the store as holding a complete list; readiness waits for this.
    public func markSynced() { contents.withLock { $0.synced = true } }

    /// Replaces every object in `namespace` (all objects when nil) with `objects`, a fresh
    /// list. Returns the difference: objects that disappeared, and objects new or changed.
    public func replace(with objects: [CachedObject<Payload>], inNamespace namespace: String? = nil) -> (removed: [CachedObject<Payload>], changed: [(new: CachedObject<Payload>, old: CachedObject<Payload>?)]) {
        contents.withLock { c in
            // Built under the lock so a concurrent upsert from another namespace's watch
            // cannot be lost; readers wait for one rebuild and never see a half-empty cache.
            // A fresh store sized exactly, so slots and indexes carry no holes from before.
            var kept: [CachedObject<Payload>] = []
            if let namespace {
                kept = c.all().filter { $0.key.namespace != namespace }
            }
            var rebuilt = SlotStore(indexes: indexes, capacity: objects.count + kept.count)
            rebuilt.synced = c.synced
            for object in kept { rebuilt.upsert(object) }
            kept = []
            var changed: [(new: CachedObject<Payload>, old: CachedObject<Payload>?)] = []
            for object in objects {
                rebuilt.upsert(object)
                let old = c.get(object.key)
                if let old, old.metadata.resourceVersion == object.metadata.resourceVersion, old.metadata.uid == object.metadata.uid { continue }
                changed.append((object, old))
            }
            var removed: [CachedObject<Payload>] = []
            for key in c.keys where (namespace == nil || key.namespace == namespace) && !rebuilt.contains(key) {
                if let object = c.get(key) { removed.append(object) }
            }
            c = rebuilt
            return (removed.sorted { $0.key < $1.key }, changed.sorted { $0.new.key < $1.new.key })
        }
    }

    /// Disagreements between objects and indexes (for tests); empty when consistent.
    var inconsistencies: [String] { contents.withLock { $0.inconsistencies } }
}
