import KubeAPI
#if canImport(Glibc)
import Glibc
#endif
import JSON
import Logging
import ServiceLifecycle
import Synchronization

/// A change delivered to informer subscribers after the cache has been updated.
public enum ObjectChange<Payload: Sendable>: Sendable {
    /// Added or modified; `old` is the cached object it replaced.
    case applied(CachedObject<Payload>, old: CachedObject<Payload>?)
    /// Deleted, seen either as a watch event or as an object missing from a relist.
    case deleted(CachedObject<Payload>)

    public var object: CachedObject<Payload> {
        switch self {
        case .applied(let object, _), .deleted(let object): return object
        }
    }
}

/// Lists then watches one resource, keeping an `ObjectCache` current and telling subscribers.
///
/// Guarantees:
/// - Lists page by page (`pageSize`), then watches from the list's resourceVersion with
///   bookmarks, which keep the resume point fresh.
/// - On 410 Gone (as an error or a watch ERROR event) it relists, replaces the cache in one
///   step and delivers a `.deleted` for every object that vanished meanwhile; readers keep
///   reading the old contents until then.
/// - A broken watch is resumed from the last resourceVersion after a backoff on the clock.
/// - Objects pass through `transform` before caching, so full trees are never retained.
///
/// Caveats: subscribers run on the informer's task in event order; they must be quick (a
/// controller only enqueues a key). Subscribe before `run()`.
public final class Informer<Payload: Sendable>: ServiceLifecycle.Service, Sendable {
    public let resource: APIResource
    public let store: ObjectCache<Payload>
    private let client: any ResourceClient
    private let namespaces: [String]
    private let transform: ObjectTransform<Payload>
    private let clock: any RuntimeClock
    private let metrics: RuntimeMetrics?
    private let logger: Logger
    private let pageSize: Int
    private let subscribers = Mutex<[@Sendable (ObjectChange<Payload>) async -> Void]>([])
    private let listedNamespaces = Mutex<Set<String>>([])

    /// - Parameters:
    ///   - namespaces: namespaces to watch; empty (the default) watches all.
    ///   - pageSize: list page size; default 500 as in client-go.
    public init(resource: APIResource, client: any ResourceClient, transform: ObjectTransform<Payload>, indexes: [StoreIndex<Payload>] = [], namespaces: [String] = [], pageSize: Int = 500, clock: any RuntimeClock = SystemRuntimeClock(), metrics: RuntimeMetrics? = nil, logger: Logger) {
        self.resource = resource
        self.client = client
        self.transform = transform
        self.store = ObjectCache(indexes: indexes)
        self.namespaces = resource.namespaced ? namespaces : []
        self.pageSize = pageSize
        self.clock = clock
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "resource"] = "\(resource)"
        self.logger = logger
    }

    /// Adds a subscriber for every change after it has reached the cache.
    public func subscribe(_ handler: @escaping @Sendable (ObjectChange<Payload>) async -> Void) {
        subscribers.withLock { $0.append(handler) }
    }

    public var hasSynced: Bool { store.hasSynced }

    public func run() async throws {
        let scopes: [String?] = namespaces.isEmpty ? [nil] : namespaces.map { Optional($0) }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for scope in scopes {
                    group.addTask { await self.listAndWatch(namespace: scope) }
                }
            }
        }
    }

    // MARK: list and watch

    private func listAndWatch(namespace: String?) async {
        var resourceVersion: String?
        var failures = 0
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await relist(namespace: namespace)
                }
                let stream = try await client.watch(resource, namespace: namespace, resourceVersion: resourceVersion!)
                for try await event in stream {
                    try await handle(event, resourceVersion: &resourceVersion)
                    failures = 0
                }
            } catch let error as ResourceClientError where error.isGone {
                logger.info("resourceVersion expired; relisting", metadata: ["resourceVersion": "\(resourceVersion ?? "")"])
                resourceVersion = nil
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let delay = watchRetryDelay(afterFailures: failures)
                logger.warning("list/watch failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                do { try await clock.sleep(for: delay) } catch { return }
            }
        }
    }

    /// client-go's reflector backs off 800 ms doubling to 30 s; the same here.
    private func watchRetryDelay(afterFailures failures: Int) -> Duration {
        let exponent = min(failures - 1, 6)
        return min(.milliseconds(800) * (1 << exponent), .seconds(30))
    }

    private func relist(namespace: String?) async throws -> String {
        var objects: [CachedObject<Payload>] = []
        var token: String?
        var resourceVersion = ""
        var usePaging = true
        repeat {
            let page: ObjectListPage
            do {
                page = try await client.list(resource, namespace: namespace, limit: usePaging ? pageSize : nil, continueToken: token)
            } catch let error as ResourceClientError where error.isGone && token != nil {
                // The continue token expired mid-list: start over in one unpaged request,
                // as client-go's pager does.
                objects = []
                token = nil
                usePaging = false
                continue
            }
            objects.reserveCapacity(objects.count + page.items.count)
            for item in page.items {
                if let cached = transform.project(item) { objects.append(cached) }
            }
            resourceVersion = page.resourceVersion
            token = page.continueToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil

        let listed = objects.count
        let difference = store.replace(with: objects, inNamespace: namespace)
        objects = []
        if listed >= 1000 { returnFreedMemoryToTheSystem() }
        metrics?.informerRelisted(resource: resource.description)
        let allListed = listedNamespaces.withLock { listed -> Bool in
            listed.insert(namespace ?? "")
            return namespaces.isEmpty || listed.count == namespaces.count
        }
        if allListed { store.markSynced() }
        logger.debug("listed", metadata: ["objects": "\(listed)", "vanished": "\(difference.removed.count)", "resourceVersion": "\(resourceVersion)"])
        for object in difference.removed { await notify(.deleted(object)) }
        for change in difference.changed { await notify(.applied(change.new, old: change.old)) }
        return resourceVersion
    }

    private func handle(_ event: ResourceWatchEvent, resourceVersion: inout String?) async throws {
        switch event {
        case .added(let object), .modified(let object):
            guard let cached = transform.project(object) else { return }
            let old = store.upsert(cached)
            resourceVersion = cached.metadata.resourceVersion
            await notify(.applied(cached, old: old))
        case .deleted(let object):
            guard let cached = transform.project(object) else { return }
            let removed = store.remove(cached.key)
            resourceVersion = cached.metadata.resourceVersion
            await notify(.deleted(removed ?? cached))
        case .bookmark(let version):
            resourceVersion = version
        case .error(let status):
            throw ResourceClientError(status: status)
        }
    }

    private func notify(_ change: ObjectChange<Payload>) async {
        for subscriber in subscribers.withLock({ $0 }) { await subscriber(change) }
    }
}

/// A big list parses megabytes of JSON that are freed at once; glibc keeps freed heap pages
/// mapped unless asked, which would make the transient peak the process's lasting RSS.
func returnFreedMemoryToTheSystem() {
    #if canImport(Glibc)
    // malloc_trim is not in Glibc's Swift module map; look it up instead of adding a C shim.
    typealias MallocTrim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    #endif
}
