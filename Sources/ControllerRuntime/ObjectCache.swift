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
    private struct Contents {
        var objects: [ObjectKey: CachedObject<Payload>] = [:]
        var indexed: [String: [String: Set<ObjectKey>]] = [:]
        var synced = false
    }

    private let indexes: [StoreIndex<Payload>]
    private let contents = Mutex(Contents())

    /// The namespace and owner-UID indexes are always present; add custom ones here.
    public init(indexes: [StoreIndex<Payload>] = []) {
        var all: [StoreIndex<Payload>] = [.namespace, .ownerUID]
        for index in indexes where !all.contains(where: { $0.name == index.name }) { all.append(index) }
        self.indexes = all
    }

    /// True once the first full list has been stored.
    public var hasSynced: Bool { contents.withLock { $0.synced } }

    public var count: Int { contents.withLock { $0.objects.count } }

    public func get(_ key: ObjectKey) -> CachedObject<Payload>? {
        contents.withLock { $0.objects[key] }
    }

    /// Every cached object, optionally only those in `namespace`, sorted by key.
    public func list(namespace: String? = nil) -> [CachedObject<Payload>] {
        if let namespace { return byIndex("namespace", value: namespace) }
        return contents.withLock { Array($0.objects.values) }.sorted { $0.key < $1.key }
    }

    /// Objects found under `value` in the index `name`, sorted by key; empty for an unknown index.
    public func byIndex(_ name: String, value: String) -> [CachedObject<Payload>] {
        contents.withLock { c in
            (c.indexed[name]?[value] ?? []).compactMap { c.objects[$0] }
        }.sorted { $0.key < $1.key }
    }

    /// Keys of the objects owned by `ownerUID`.
    public func keysOwned(by ownerUID: ObjectUID) -> [ObjectKey] {
        contents.withLock { Array($0.indexed["ownerUID"]?[ownerUID.description] ?? []) }.sorted()
    }

    /// Stores `object`, returning what it replaced.
    @discardableResult
    public func upsert(_ object: CachedObject<Payload>) -> CachedObject<Payload>? {
        contents.withLock { c in
            let old = c.objects[object.key]
            if let old { unindex(old, in: &c) }
            c.objects[object.key] = object
            index(object, in: &c)
            return old
        }
    }

    /// Removes the object at `key`, returning it.
    @discardableResult
    public func remove(_ key: ObjectKey) -> CachedObject<Payload>? {
        contents.withLock { c in
            guard let old = c.objects.removeValue(forKey: key) else { return nil }
            unindex(old, in: &c)
            return old
        }
    }

    /// Marks the store as holding a complete list; readiness waits for this.
    public func markSynced() { contents.withLock { $0.synced = true } }

    /// Replaces every object in `namespace` (all objects when nil) with `objects`, a fresh
    /// list. Returns the difference: objects that disappeared, and objects new or changed.
    public func replace(with objects: [CachedObject<Payload>], inNamespace namespace: String? = nil) -> (removed: [CachedObject<Payload>], changed: [(new: CachedObject<Payload>, old: CachedObject<Payload>?)]) {
        contents.withLock { c in
            // Built under the lock so a concurrent upsert from another namespace's watch
            // cannot be lost; readers wait for one rebuild and never see a half-empty cache.
            // One new dictionary only: at 40,000 objects every extra copy is megabytes.
            var rebuilt = Contents()
            rebuilt.synced = c.synced
            rebuilt.objects.reserveCapacity(objects.count + (namespace == nil ? 0 : c.objects.count))
            if let namespace {
                for (key, object) in c.objects where key.namespace != namespace { rebuilt.objects[key] = object }
            }
            var changed: [(new: CachedObject<Payload>, old: CachedObject<Payload>?)] = []
            for object in objects {
                rebuilt.objects[object.key] = object
                let old = c.objects[object.key]
                if let old, old.metadata.resourceVersion == object.metadata.resourceVersion, old.metadata.uid == object.metadata.uid { continue }
                changed.append((object, old))
            }
            var removed: [CachedObject<Payload>] = []
            for (key, object) in c.objects where (namespace == nil || key.namespace == namespace) && rebuilt.objects[key] == nil {
                removed.append(object)
            }
            for object in rebuilt.objects.values { index(object, in: &rebuilt) }
            c = rebuilt
            return (removed.sorted { $0.key < $1.key }, changed.sorted { $0.new.key < $1.new.key })
        }
    }

    private func index(_ object: CachedObject<Payload>, in c: inout Contents) {
        for index in indexes {
            for value in index.values(object) {
                c.indexed[index.name, default: [:]][value, default: []].insert(object.key)
            }
        }
    }

    private func unindex(_ object: CachedObject<Payload>, in c: inout Contents) {
        for index in indexes {
            for value in index.values(object) {
                c.indexed[index.name]?[value]?.remove(object.key)
                if c.indexed[index.name]?[value]?.isEmpty == true { c.indexed[index.name]?[value] = nil }
            }
        }
    }
}
