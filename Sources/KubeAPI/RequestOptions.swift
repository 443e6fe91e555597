import JSON

/// Which objects a list or watch returns.
public struct ListOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size; nil asks for everything at once.
    public var limit: Int?
    /// Token from the previous page's `metadata.continue`.
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: ResourceVersionMatch?
    public var timeoutSeconds: Int?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil, resourceVersionMatch: ResourceVersionMatch? = nil, timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
        self.timeoutSeconds = timeoutSeconds
    }
}

/// How a list interprets `resourceVersion`.
public enum ResourceVersionMatch: String, Sendable, Equatable {
    case notOlderThan = "NotOlderThan"
    case exact = "Exact"
}

/// Where a watch starts and what it includes.
public struct WatchOptions: Sendable, Equatable {
    /// Resume point; nil or "0" lets the server choose (and replay current state as ADDED).
    public var resourceVersion: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Default true: bookmarks keep the resume point fresh on quiet resources.
    public var allowWatchBookmarks: Bool
    /// Server-side end of the watch; nil lets the server pick (minutes).
    public var timeoutSeconds: Int?

    public init(
        resourceVersion: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        allowWatchBookmarks: Bool = true, timeoutSeconds: Int? = nil
    ) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Options shared by create, update and patch.
public struct WriteOptions: Sendable, Equatable {
    /// Validate and admit but do not persist. Default false.
    public var dryRun: Bool
    /// Owner of the written fields; nil uses the client's default field manager.
    public var fieldManager: String?

    public init(dryRun: Bool = false, fieldManager: String? = nil) {
        self.dryRun = dryRun
        self.fieldManager = fieldManager
    }
}

/// What happens to dependents when an owner is deleted.
public enum PropagationPolicy: String, Sendable, Equatable {
    case orphan = "Orphan"
    case background = "Background"
    case foreground = "Foreground"
}

/// Options for delete; every field defaults to the server's behaviour.
public struct DeleteOptions: Sendable, Equatable {
    public var propagationPolicy: PropagationPolicy?
    /// Delete only if the object still has this UID (guards against a recreated namesake).
    public var preconditionUID: String?
    /// Delete only if the object is unchanged since this version.
    public var preconditionResourceVersion: String?
    public var gracePeriodSeconds: Int?
    public var dryRun: Bool

    public init(
        propagationPolicy: PropagationPolicy? = nil, preconditionUID: String? = nil,
        preconditionResourceVersion: String? = nil, gracePeriodSeconds: Int? = nil, dryRun: Bool = false
    ) {
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }

    /// The `meta.k8s.io/v1` DeleteOptions body.
    var body: JSONValue {
        var body: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let propagationPolicy { body["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { body["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var preconditions = JSONValue.emptyObject
            if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
            if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
            body["preconditions"] = preconditions
        }
        if dryRun { body["dryRun"] = ["All"] }
        return body
    }
}

/// A change to send with PATCH; the case decides the content type.
public enum Patch: Sendable, Equatable {
    /// RFC 7386 JSON merge patch.
    case merge(JSONValue)
    /// RFC 6902 JSON patch: an array of operations.
    case json([JSONValue])
    /// Kubernetes strategic merge patch (built-in kinds only).
    case strategicMerge(JSONValue)
    /// Server-side apply of a (partial) object; `force` takes fields over from other managers.
    case apply(JSONValue, force: Bool)

    public var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .json: "application/json-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        case .apply: "application/apply-patch+yaml"
        }
    }

    var body: [UInt8] {
        switch self {
        case .merge(let value), .strategicMerge(let value), .apply(let value, _): value.serializedBytes()
        case .json(let operations): JSONValue.array(operations).serializedBytes()
        }
    }
}
