import Foundation
import JSON

/// Query parameters of a create, update or patch.
public struct WriteOptions: Sendable {
    /// Validate and compute the result without storing it (`dryRun=All`).
    public var dryRun: Bool
    /// Defaults per verb as the real server does: "kubectl-client-side-apply"-style names come from clients.
    public var fieldManager: String?
    /// Strict / Warn / Ignore; the store prunes unknown fields of custom resources either way.
    public var fieldValidation: String?

    public init(dryRun: Bool = false, fieldManager: String? = nil, fieldValidation: String? = nil) {
        self.dryRun = dryRun
        self.fieldManager = fieldManager
        self.fieldValidation = fieldValidation
    }
}

/// Body and query parameters of a delete.
public struct DeleteOptions: Sendable {
    /// Orphan, Background or Foreground; nil means Background unless the object carries an `orphan` finalizer.
    public var propagationPolicy: String?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var gracePeriodSeconds: Int?
    public var dryRun: Bool

    public init(propagationPolicy: String? = nil, preconditionUID: String? = nil,
                preconditionResourceVersion: String? = nil, gracePeriodSeconds: Int? = nil, dryRun: Bool = false) {
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }
}

/// Query parameters of a list or watch.
public struct ListOptions: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
                continueToken: String? = nil, resourceVersion: String? = nil, resourceVersionMatch: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
    }
}

/// The body formats of PATCH, by content type.
public enum PatchType: Sendable, Hashable {
    /// application/merge-patch+json
    case merge
    /// application/json-patch+json
    case json
    /// application/strategic-merge-patch+json (built-ins only)
    case strategic
    /// application/apply-patch+yaml (server-side apply)
    case apply(force: Bool)
}

/// Settings of an `ObjectStore`.
public struct StoreConfiguration: Sendable {
    /// How many watch events are kept for resuming watches; older resourceVersions get 410 Gone. Default 10,000.
    public var watchHistory: Int
    /// How many undelivered events a watcher may have before it is dropped. Default 10,000.
    public var watcherBufferLimit: Int
    /// How often watchers that asked for bookmarks get one, in seconds; nil disables the timer
    /// (tests call `ObjectStore.sendBookmarks()` instead). Default 60, as the real server.
    public var bookmarkIntervalSeconds: Double?
    /// The wall clock; injectable so timestamps are predictable in tests.
    public var now: @Sendable () -> Date

    public init(watchHistory: Int = 10_000, watcherBufferLimit: Int = 10_000, bookmarkIntervalSeconds: Double? = 60,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.watchHistory = watchHistory
        self.watcherBufferLimit = watcherBufferLimit
        self.bookmarkIntervalSeconds = bookmarkIntervalSeconds
        self.now = now
    }
}

/// A page of a list.
public struct ListResult: Sendable {
    public var type: ResourceType
    /// Serialized items in key order; parse lazily through `items`.
    public var itemBytes: [[UInt8]]
    public var resourceVersion: String
    public var continueToken: String?
    public var remainingItemCount: Int?

    public var items: [JSONValue] { itemBytes.compactMap { try? JSONValue.parse($0) } }

    /// The `{Kind}List` object as the real server sends it, rendered without parsing items.
    public func serializedList() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(itemBytes.reduce(256) { $0 + $1.count + 1 })
        out.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValue.writeString(type.apiVersion, to: &out)
        out.append(contentsOf: #","items":["#.utf8)
        for (index, item) in itemBytes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(contentsOf: #"],"kind":"#.utf8)
        JSONValue.writeString(type.listKind, to: &out)
        var metadata: JSONValue = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        if let remainingItemCount { metadata["remainingItemCount"] = .int(Int64(remainingItemCount)) }
        out.append(contentsOf: #","metadata":"#.utf8)
        metadata.write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public var listObject: JSONValue {
        var metadata: JSONValue = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        if let remainingItemCount { metadata["remainingItemCount"] = .int(Int64(remainingItemCount)) }
        return ["apiVersion": .string(type.apiVersion), "kind": .string(type.listKind),
                "metadata": metadata, "items": .array(items)]
    }
}

/// What a delete did.
public enum DeleteResult: Sendable {
    /// The object is gone; this is its last state (200).
    case deleted(JSONValue)
    /// Finalizers hold the object; it now carries a deletionTimestamp (200, or 202 for foreground/orphan).
    case pending(JSONValue)

    public var object: JSONValue {
        switch self {
        case .deleted(let object), .pending(let object): return object
        }
    }
}

/// Counters for the dev server's report and benchmarks.
public struct StoreStatistics: Sendable, Hashable {
    public var objectCount: Int
    /// Serialized bytes of all stored objects.
    public var bytesHeld: Int
    public var watchers: Int
    public var droppedWatchers: Int
    public var resourceVersion: Int64
    public var historyEvents: Int
}
