import JSON
import Synchronization

/// The kind of change a watch event reports.
public enum WatchEventType: String, Sendable, Hashable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One event of a watch stream; the object is kept serialized so streaming never re-encodes it.
public struct WatchEvent: Sendable {
    public var type: WatchEventType
    public var objectBytes: [UInt8]

    public init(type: WatchEventType, objectBytes: [UInt8]) {
        self.type = type
        self.objectBytes = objectBytes
    }

    public var object: JSONValue { (try? JSONValue.parse(objectBytes)) ?? .null }

    /// `{"type":"ADDED","object":{...}}` followed by a newline, the watch wire format.
    public func serializedLine() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(objectBytes.count + 32)
        out.append(contentsOf: #"{"type":""#.utf8)
        out.append(contentsOf: type.rawValue.utf8)
        out.append(contentsOf: #"","object":"#.utf8)
        out.append(contentsOf: objectBytes)
        out.append(contentsOf: "}\n".utf8)
        return out
    }
}

/// A live watch: an `AsyncSequence` of events that ends when the watcher is cancelled, falls
/// too far behind (it is dropped, as the real server closes slow watchers), or its resource
/// stops being served.
///
/// Caveats: iterate from one task only; `cancel()` ends the stream for its consumer.
public struct WatchSubscription: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let stream: AsyncStream<WatchEvent>
    let watcher: Watcher

    public func makeAsyncIterator() -> AsyncStream<WatchEvent>.Iterator { stream.makeAsyncIterator() }

    public func cancel() { watcher.end() }
}

/// A registered watcher's filter and channel.
final class Watcher: Sendable {
    let id: Int
    let type: ResourceType
    let filter: ObjectFilter
    let allowBookmarks: Bool
    let continuation: AsyncStream<WatchEvent>.Continuation
    let ended = Atomic<Bool>(false)
    let bookmarkTimer = Mutex<Task<Void, Never>?>(nil)

    init(id: Int, type: ResourceType, filter: ObjectFilter, allowBookmarks: Bool,
         continuation: AsyncStream<WatchEvent>.Continuation) {
        self.id = id
        self.type = type
        self.filter = filter
        self.allowBookmarks = allowBookmarks
        self.continuation = continuation
    }

    var isEnded: Bool { ended.load(ordering: .acquiring) }

    /// Never takes the store's lock: the store calls it while holding that lock.
    func end() {
        ended.store(true, ordering: .releasing)
        bookmarkTimer.withLock { $0?.cancel() }
        continuation.finish()
    }

    /// Yields an event; false when the watcher is gone or has just been dropped for falling behind.
    func send(_ event: WatchEvent) -> (delivered: Bool, dropped: Bool) {
        if isEnded { return (false, false) }
        switch continuation.yield(event) {
        case .enqueued: return (true, false)
        case .dropped:
            end()
            return (false, true)
        case .terminated:
            ended.store(true, ordering: .releasing)
            return (false, false)
        @unknown default:
            return (false, false)
        }
    }
}

/// One change as history keeps it, with the previous header so selector-filtered watchers can
/// tell an object leaving their selection.
struct HistoryEvent: Sendable {
    var resourceVersion: Int64
    var type: WatchEventType
    var storage: StorageID
    var bytes: [UInt8]
    var header: ObjectHeader
    var previous: ObjectHeader?
    /// The object before this change; lets a paginated or Exact list rebuild the state at an
    /// older resourceVersion for as long as the history reaches back.
    var previousBytes: [UInt8]? = nil
}

/// The last `capacity` events, oldest first; watches from before them get 410.
struct EventHistory: Sendable {
    let capacity: Int
    private var ring: [HistoryEvent] = []
    private var head = 0
    /// The resourceVersion of the newest event no longer kept (0 while nothing was dropped).
    private(set) var compactedThrough: Int64 = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { ring.count }

    mutating func append(_ event: HistoryEvent) {
        if ring.count < capacity {
            ring.append(event)
        } else {
            compactedThrough = ring[head].resourceVersion
            ring[head] = event
            head = (head + 1) % capacity
        }
    }

    /// Events newer than `resourceVersion`, oldest first.
    func events(after resourceVersion: Int64) -> [HistoryEvent] {
        let ordered = Array(ring[head...]) + Array(ring[..<head])
        var low = 0, high = ordered.count
        while low < high {
            let mid = (low + high) / 2
            if ordered[mid].resourceVersion <= resourceVersion { low = mid + 1 } else { high = mid }
        }
        return Array(ordered[low...])
    }
}

extension StoreState {
    mutating func record(_ event: HistoryEvent) {
        history.append(event)
        for watcher in watchers.values where watcher.type.storageID == event.storage {
            deliver(event, to: watcher)
        }
    }

    /// Sends an event to a watcher as its filter sees it: an object moving out of the
    /// selection is DELETED for it, one moving in is ADDED.
    mutating func deliver(_ event: HistoryEvent, to watcher: Watcher) {
        let type: WatchEventType
        switch event.type {
        case .added:
            guard watcher.filter.matches(event.header) else { return }
            type = .added
        case .modified:
            let now = watcher.filter.matches(event.header)
            let before = event.previous.map(watcher.filter.matches) ?? false
            switch (before, now) {
            case (true, true): type = .modified
            case (false, true): type = .added
            case (true, false): type = .deleted
            case (false, false): return
            }
        case .deleted:
            guard watcher.filter.matches(event.previous ?? event.header) else { return }
            type = .deleted
        case .bookmark, .error:
            type = event.type
        }
        let bytes = Self.render(event.bytes, apiVersion: event.header.apiVersion, as: watcher.type)
        let outcome = watcher.send(WatchEvent(type: type, objectBytes: bytes))
        if !outcome.delivered {
            watchers[watcher.id] = nil
            if outcome.dropped { droppedWatchers += 1 }
        }
    }

    /// Registers a watcher and queues what it must see first: current objects (no resourceVersion)
    /// or the history after the given one; 410 as an ERROR event when that history is gone.
    mutating func watch(_ key: ResourceKey, namespace: String?, options: ListOptions, allowBookmarks: Bool) throws(APIError)
        -> WatchSubscription
    {
        let type = try type(for: key)
        let filter = try ObjectFilter(type: type, namespace: namespace, options: options)
        let text = options.resourceVersion ?? ""
        var start: Int64?
        if !text.isEmpty && text != "0" {
            guard let version = Int64(text), version > 0 else {
                throw .badRequest("resourceVersion: Invalid value: \"\(text)\": must be a positive integer")
            }
            start = version
        }
        var initial: [HistoryEvent] = []
        var tooOld = false
        if let start {
            if start < history.compactedThrough {
                tooOld = true
            } else {
                initial = history.events(after: start).filter { $0.storage == type.storageID }
            }
        } else if var bucket = buckets[type.storageID] {
            // A watch without a resourceVersion starts with the current state as ADDED events.
            for key in bucket.orderedKeys() {
                guard let object = bucket.objects[key] else { continue }
                initial.append(HistoryEvent(resourceVersion: object.header.resourceVersion, type: .added,
                                            storage: type.storageID, bytes: object.bytes, header: object.header))
            }
            buckets[type.storageID] = bucket
        }
        let (stream, continuation) = AsyncStream.makeStream(
            of: WatchEvent.self, bufferingPolicy: .bufferingOldest(configuration.watcherBufferLimit + initial.count + 1))
        let watcher = Watcher(id: nextWatcherID, type: type, filter: filter, allowBookmarks: allowBookmarks,
                              continuation: continuation)
        nextWatcherID += 1
        continuation.onTermination = { [watcher] _ in
            watcher.ended.store(true, ordering: .releasing)
            watcher.bookmarkTimer.withLock { $0?.cancel() }
        }
        let subscription = WatchSubscription(stream: stream, watcher: watcher)
        if tooOld {
            let oldest = history.compactedThrough + 1
            let status = APIError.expired("too old resource version: \(start ?? 0) (\(oldest))").statusObject()
            _ = watcher.send(WatchEvent(type: .error, objectBytes: status.serializedBytes()))
            watcher.end()
            return subscription
        }
        watchers[watcher.id] = watcher
        for event in initial { deliver(event, to: watcher) }
        return subscription
    }

    /// The bookmark a watcher gets: only kind, apiVersion and the current resourceVersion.
    func bookmark(for watcher: Watcher) -> WatchEvent {
        let object: JSONValue = [
            "kind": .string(watcher.type.kind), "apiVersion": .string(watcher.type.apiVersion),
            "metadata": ["resourceVersion": .string(String(resourceVersion))],
        ]
        return WatchEvent(type: .bookmark, objectBytes: object.serializedBytes())
    }

    mutating func sendBookmark(toWatcher id: Int) {
        guard let watcher = watchers[id], watcher.allowBookmarks else { return }
        let outcome = watcher.send(bookmark(for: watcher))
        if !outcome.delivered {
            watchers[id] = nil
            if outcome.dropped { droppedWatchers += 1 }
        }
    }

    mutating func endWatchers(of storage: StorageID) {
        for watcher in watchers.values where watcher.type.storageID == storage {
            watcher.end()
            watchers[watcher.id] = nil
        }
    }
}
