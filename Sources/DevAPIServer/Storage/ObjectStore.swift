import Foundation
import JSON
import Synchronization

/// The dev API server's in-memory object store: every Kubernetes semantic that is not HTTP.
///
/// Guarantees:
/// - Each call is atomic and linearizable; one global resourceVersion counter orders all writes.
/// - Garbage collection, namespace deletion and CRD cleanup run to completion inside the write
///   that triggers them, so their effects are visible (and their watch events emitted) when the call returns.
/// - Objects are held as serialized JSON plus a small header; memory follows bytes stored.
///
/// Caveats:
/// - Paginated and `resourceVersionMatch=Exact` lists rebuild past states from the watch history,
///   so they reach back `watchHistory` events, not as far as etcd's compaction window.
/// - Garbage collection is immediate where kube-controller-manager is "shortly after".
public final class ObjectStore: Sendable {
    let state: Mutex<StoreState>
    public let configuration: StoreConfiguration

    public static let initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public init(configuration: StoreConfiguration = StoreConfiguration()) {
        self.configuration = configuration
        var state = StoreState(configuration: configuration)
        for type in ResourceType.builtIns { state.register(type) }
        var work: [GarbageCollectionWork] = []
        for name in Self.initialNamespaces {
            _ = try? state.create(state.typesByKey[ResourceType.namespaceKey]!, namespace: nil,
                                  body: ["metadata": ["name": .string(name)]], options: WriteOptions(fieldManager: "kube-apiserver"),
                                  work: &work)
        }
        self.state = Mutex(state)
    }

    /// Serves a resource type (built-ins at startup; CRDs register themselves when created).
    public func register(_ type: ResourceType) {
        state.withLock { $0.register(type) }
    }

    public func resourceTypes() -> [ResourceType] {
        state.withLock { state in
            state.typesByKey.values.sorted { ($0.group, $0.version, $0.plural) < ($1.group, $1.version, $1.plural) }
        }
    }

    public func resourceType(for key: ResourceKey) -> ResourceType? {
        state.withLock { $0.typesByKey[key] }
    }

    public func create(_ key: ResourceKey, namespace: String?, body: JSONValue, options: WriteOptions = WriteOptions())
        throws(APIError) -> JSONValue
    {
        try state.withLock { (state) throws(APIError) -> JSONValue in
            let type = try state.type(for: key)
            var work: [GarbageCollectionWork] = []
            let object = try state.create(type, namespace: namespace, body: body, options: options, work: &work)
            state.settle(&work)
            return Self.rendered(object, as: type)
        }
    }

    public func get(_ key: ResourceKey, namespace: String?, name: String, subresource: String? = nil) throws(APIError)
        -> JSONValue
    {
        try state.withLock { (state) throws(APIError) -> JSONValue in
            let type = try state.type(for: key)
            try state.checkSubresource(subresource, type: type)
            return try state.get(key, namespace: namespace, name: name)
        }
    }

    public func list(_ key: ResourceKey, namespace: String?, options: ListOptions = ListOptions()) throws(APIError)
        -> ListResult
    {
        try state.withLock { (state) throws(APIError) -> ListResult in try state.list(key, namespace: namespace, options: options) }
    }

    public func update(
        _ key: ResourceKey, namespace: String?, name: String, subresource: String? = nil, body: JSONValue,
        options: WriteOptions = WriteOptions()
    ) throws(APIError) -> (object: JSONValue, created: Bool) {
        try state.withLock { (state) throws(APIError) -> (object: JSONValue, created: Bool) in
            let type = try state.type(for: key)
            var work: [GarbageCollectionWork] = []
            let result = try state.update(type, namespace: namespace, name: name, subresource: subresource, body: body,
                                          options: options, work: &work)
            state.settle(&work)
            return (Self.rendered(result.object, as: type), result.created)
        }
    }

    public func patch(
        _ key: ResourceKey, namespace: String?, name: String, subresource: String? = nil, type patchType: PatchType,
        body: [UInt8], options: WriteOptions = WriteOptions()
    ) throws(APIError) -> (object: JSONValue, created: Bool) {
        try state.withLock { (state) throws(APIError) -> (object: JSONValue, created: Bool) in
            let type = try state.type(for: key)
            var work: [GarbageCollectionWork] = []
            let result = try state.patch(type, namespace: namespace, name: name, subresource: subresource,
                                         patchType: patchType, body: body, options: options, work: &work)
            state.settle(&work)
            return (Self.rendered(result.object, as: type), result.created)
        }
    }

    public func delete(_ key: ResourceKey, namespace: String?, name: String, options: DeleteOptions = DeleteOptions())
        throws(APIError) -> DeleteResult
    {
        try state.withLock { (state) throws(APIError) -> DeleteResult in
            let type = try state.type(for: key)
            var work: [GarbageCollectionWork] = []
            let result = try state.delete(type, namespace: namespace, name: name, options: options, work: &work)
            state.settle(&work)
            switch result {
            case .deleted(let object): return .deleted(Self.rendered(object, as: type))
            case .pending(let object): return .pending(Self.rendered(object, as: type))
            }
        }
    }

    /// Deletes every object the list options select; answers the list of what was deleted, as the real server does.
    public func deleteCollection(_ key: ResourceKey, namespace: String?, list: ListOptions, options: DeleteOptions = DeleteOptions())
        throws(APIError) -> JSONValue
    {
        try state.withLock { (state) throws(APIError) -> JSONValue in
            let type = try state.type(for: key)
            var selection = list
            selection.limit = nil
            selection.continueToken = nil
            let targets = try state.list(key, namespace: namespace, options: selection)
            var deleted: [JSONValue] = []
            var work: [GarbageCollectionWork] = []
            for item in targets.items {
                let name = item[path: ["metadata", "name"]].stringValue ?? ""
                let itemNamespace = item[path: ["metadata", "namespace"]].stringValue
                if let result = try? state.delete(type, namespace: itemNamespace, name: name, options: options, work: &work) {
                    deleted.append(Self.rendered(result.object, as: type))
                }
            }
            state.settle(&work)
            return ["apiVersion": .string(type.apiVersion), "kind": .string(type.listKind),
                    "metadata": ["resourceVersion": .string(String(state.resourceVersion))], "items": .array(deleted)]
        }
    }

    /// Starts a watch. With `allowBookmarks`, BOOKMARK events come every `bookmarkIntervalSeconds`
    /// (and whenever `sendBookmarks()` is called).
    public func watch(_ key: ResourceKey, namespace: String?, options: ListOptions = ListOptions(), allowBookmarks: Bool = false)
        throws(APIError) -> WatchSubscription
    {
        let subscription = try state.withLock { (state) throws(APIError) -> WatchSubscription in
            try state.watch(key, namespace: namespace, options: options, allowBookmarks: allowBookmarks)
        }
        if allowBookmarks, let interval = configuration.bookmarkIntervalSeconds, interval > 0, !subscription.watcher.isEnded {
            let watcher = subscription.watcher
            let timer = Task { [weak self] in
                while !Task.isCancelled && !watcher.isEnded {
                    try? await Task.sleep(for: .seconds(interval))
                    guard let self, !Task.isCancelled else { return }
                    self.state.withLock { $0.sendBookmark(toWatcher: watcher.id) }
                }
            }
            watcher.bookmarkTimer.withLock { $0 = timer }
            if watcher.isEnded { timer.cancel() }
        }
        return subscription
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watcher that allows them.
    public func sendBookmarks() {
        state.withLock { state in
            for id in Array(state.watchers.keys) { state.sendBookmark(toWatcher: id) }
        }
    }

    public var statistics: StoreStatistics {
        state.withLock { state in
            StoreStatistics(
                objectCount: state.buckets.values.reduce(0) { $0 + $1.objects.count }, bytesHeld: state.bytesHeld,
                watchers: state.watchers.values.filter { !$0.isEnded }.count, droppedWatchers: state.droppedWatchers,
                resourceVersion: state.resourceVersion, historyEvents: state.history.count)
        }
    }

    /// The current resourceVersion (what a list would report).
    public var currentResourceVersion: String { state.withLock { String($0.resourceVersion) } }

    static func rendered(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        var object = EventConversion.present(object, as: type)
        object["apiVersion"] = .string(type.apiVersion)
        return object
    }
}

extension StoreState {
    mutating func register(_ type: ResourceType) {
        typesByKey[type.key] = type
        if type.storage || storageTypes[type.storageID] == nil { storageTypes[type.storageID] = type }
    }
}
