import APIMachinery
import Foundation
import JSON

/// Everything the store holds, behind `ObjectStore`'s lock. Methods are synchronous and
/// mutate in place, so each store call is one atomic step, as an etcd transaction is.
struct StoreState {
    let configuration: StoreConfiguration
    var typesByKey: [ResourceKey: ResourceType] = [:]
    var buckets: [StorageID: Bucket] = [:]
    var resourceVersion: Int64 = 1
    var uidIndex: [String: ObjectAddress] = [:]
    /// owner uid → objects naming it in `ownerReferences`.
    var dependentsByOwner: [String: Set<ObjectAddress>] = [:]
    var history: EventHistory
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 1
    var droppedWatchers = 0
    var bytesHeld = 0
    /// CRD name → the resource keys it registered, and the schema of each custom resource key.
    var customResources: [String: [ResourceKey]] = [:]
    var schemas: [ResourceKey: StructuralSchema] = [:]
    /// How SSA and managedFields treat the lists and maps of each custom resource, from its schema.
    var customPatchStrategies: [ResourceKey: PatchStrategy] = [:]
    /// The storage version's type of each storage, for garbage collection and rendering.
    var storageTypes: [StorageID: ResourceType] = [:]
    /// How many objects each namespace holds, so namespace deletion knows when it is done without scanning.
    var namespaceObjectCounts: [String: Int] = [:]
    var crdByStorage: [StorageID: String] = [:]

    init(configuration: StoreConfiguration) {
        self.configuration = configuration
        history = EventHistory(capacity: max(1, configuration.watchHistory))
    }

    var now: String { KubernetesTime.format(configuration.now()) }

    mutating func nextResourceVersion() -> Int64 {
        resourceVersion += 1
        return resourceVersion
    }

    func type(for key: ResourceKey) throws(APIError) -> ResourceType {
        guard let type = typesByKey[key] else { throw .resourceNotServed(key) }
        return type
    }

    /// The merge strategy of a type: built-in tables, or derived from a custom resource's schema.
    func patchStrategy(for type: ResourceType) -> PatchStrategy? {
        customPatchStrategies[type.key] ?? PatchStrategy.builtIn(apiVersion: type.apiVersion, kind: type.kind)
    }

    func stored(_ address: ObjectAddress) -> StoredObject? { buckets[address.storage]?.objects[address.key] }

    func address(_ type: ResourceType, namespace: String?, name: String) -> ObjectAddress {
        ObjectAddress(storage: type.storageID, key: type.namespaced ? (namespace ?? "") + "/" + name : name)
    }

    /// The object's bytes as `type`'s version shows them (versions of a custom resource share storage).
    func render(_ object: StoredObject, as type: ResourceType) -> [UInt8] {
        Self.render(object.bytes, apiVersion: object.header.apiVersion, as: type)
    }

    static func render(_ bytes: [UInt8], apiVersion: String, as type: ResourceType) -> [UInt8] {
        if apiVersion == type.apiVersion { return bytes }
        guard var value = try? JSONValue.parse(bytes) else { return bytes }
        value = EventConversion.present(value, as: type)
        value["apiVersion"] = .string(type.apiVersion)
        return value.serializedBytes()
    }

    func parse(_ object: StoredObject) throws(APIError) -> JSONValue {
        do { return try JSONValue.parse(object.bytes) } catch { throw .internalError("stored object unreadable: \(error)") }
    }

    func get(_ key: ResourceKey, namespace: String?, name: String) throws(APIError) -> JSONValue {
        let type = try type(for: key)
        guard let object = stored(address(type, namespace: namespace, name: name)) else {
            throw .notFound(type, name)
        }
        do { return try JSONValue.parse(render(object, as: type)) } catch {
            throw .internalError("stored object unreadable: \(error)")
        }
    }

    // MARK: Writing objects

    /// Stores `object` (already complete), emitting the watch event and keeping indexes.
    mutating func put(_ object: JSONValue, type: ResourceType, at address: ObjectAddress, eventType: WatchEventType) {
        let previous = stored(address)
        let bytes = object.serializedBytes()
        let header = ObjectHeader(object: object, type: type)
        if let previous {
            bytesHeld -= previous.bytes.count
            unindexOwners(previous.header, address: address)
        } else {
            buckets[address.storage, default: Bucket()].sortedKeys = nil
            if !header.namespace.isEmpty { namespaceObjectCounts[header.namespace, default: 0] += 1 }
        }
        buckets[address.storage, default: Bucket()].objects[address.key] = StoredObject(bytes: bytes, header: header)
        bytesHeld += bytes.count
        uidIndex[header.uid] = address
        indexOwners(header, address: address)
        record(HistoryEvent(resourceVersion: header.resourceVersion, type: eventType, storage: address.storage,
                            bytes: bytes, header: header, previous: previous?.header, previousBytes: previous?.bytes))
    }

    /// Removes the object for good and emits DELETED with a fresh resourceVersion.
    mutating func remove(_ address: ObjectAddress, work: inout [GarbageCollectionWork]) {
        guard let object = stored(address) else { return }
        buckets[address.storage]?.objects[address.key] = nil
        buckets[address.storage]?.sortedKeys = nil
        bytesHeld -= object.bytes.count
        uidIndex[object.header.uid] = nil
        unindexOwners(object.header, address: address)
        var value = (try? JSONValue.parse(object.bytes)) ?? .emptyObject
        let version = nextResourceVersion()
        value[path: ["metadata", "resourceVersion"]] = .string(String(version))
        var header = object.header
        header.resourceVersion = version
        let bytes = value.serializedBytes()
        record(HistoryEvent(resourceVersion: version, type: .deleted, storage: address.storage, bytes: bytes,
                            header: header, previous: object.header, previousBytes: object.bytes))
        for dependent in dependentsByOwner[object.header.uid] ?? [] { work.append(.settle(dependent)) }
        for owner in object.header.ownerReferences {
            if let ownerAddress = uidIndex[owner.uid] { work.append(.settle(ownerAddress)) }
        }
        if !object.header.namespace.isEmpty {
            namespaceObjectCounts[object.header.namespace, default: 1] -= 1
            // Only the last object out of a terminating namespace lets it finish.
            if namespaceObjectCounts[object.header.namespace] == 0 {
                namespaceObjectCounts[object.header.namespace] = nil
                let namespaceAddress = ObjectAddress(storage: ResourceType.namespaceKey.storageID, key: object.header.namespace)
                if stored(namespaceAddress)?.header.deletionTimestamp != nil { work.append(.settle(namespaceAddress)) }
            }
        }
        if buckets[address.storage]?.objects.isEmpty ?? true, let crd = crdName(owning: address.storage) {
            work.append(.settle(ObjectAddress(storage: ResourceType.crdKey.storageID, key: crd)))
        }
        if address.storage == ResourceType.crdKey.storageID {
            unregisterCustomResources(crdName: object.header.name, work: &work)
        }
    }

    mutating func indexOwners(_ header: ObjectHeader, address: ObjectAddress) {
        for owner in header.ownerReferences { dependentsByOwner[owner.uid, default: []].insert(address) }
    }

    mutating func unindexOwners(_ header: ObjectHeader, address: ObjectAddress) {
        for owner in header.ownerReferences {
            dependentsByOwner[owner.uid]?.remove(address)
            if dependentsByOwner[owner.uid]?.isEmpty == true { dependentsByOwner[owner.uid] = nil }
        }
    }
}

/// The objects of one storage, keyed `namespace/name` (or `name` when cluster-scoped).
struct Bucket: Sendable {
    var objects: [String: StoredObject] = [:]
    /// Key order for lists, rebuilt lazily after inserts and removals.
    var sortedKeys: [String]?

    mutating func orderedKeys() -> [String] {
        if let sortedKeys { return sortedKeys }
        let keys = objects.keys.sorted()
        sortedKeys = keys
        return keys
    }
}
