import KubeAPI
import JSON

/// One page of a list response.
public struct ObjectListPage: Sendable {
    public var items: [JSONValue]
    public var resourceVersion: String
    /// The `metadata.continue` token; nil or empty on the last page.
    public var continueToken: String?

    public init(items: [JSONValue], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }
}

/// One event from a watch stream.
public enum ResourceWatchEvent: Sendable {
    case added(JSONValue)
    case modified(JSONValue)
    case deleted(JSONValue)
    /// A BOOKMARK: nothing changed, but the resume point moved on.
    case bookmark(resourceVersion: String)
    /// An ERROR event carrying a `Status` (410 Gone arrives this way).
    case error(status: JSONValue)
}

/// A failed API request, typed by what a controller must do about it.
///
/// Messages never contain request bodies or credentials.
public struct ResourceClientError: Error, Sendable, CustomStringConvertible {
    public var statusCode: Int
    public var reason: String
    public var message: String

    public init(statusCode: Int, reason: String = "", message: String = "") {
        self.statusCode = statusCode
        self.reason = reason
        self.message = message
    }

    public var isNotFound: Bool { statusCode == 404 }
    public var isConflict: Bool { statusCode == 409 }
    /// 410 Gone / "Expired": the resourceVersion is too old; the caller must relist.
    public var isGone: Bool { statusCode == 410 || reason == "Expired" || reason == "Gone" }
    public var isTooManyRequests: Bool { statusCode == 429 }
    /// 422 from a JSON patch `test` op or a 409 on a resourceVersion precondition.
    public var isPreconditionFailure: Bool { statusCode == 422 || statusCode == 409 }

    public var description: String { "API error \(statusCode) \(reason): \(message)" }

    /// Builds the error from a `Status` object (watch ERROR events, error bodies).
    public init(status: JSONValue) {
        self.init(statusCode: Int(status["code"].intValue ?? 500), reason: status["reason"].stringValue ?? "", message: status["message"].stringValue ?? "")
    }
}

/// The Kubernetes API as ControllerRuntime needs it.
///
/// The seam between the runtime and the REST client: KubeAPI's client conforms through a thin
/// adapter; unit tests use a recording fake. `namespace` is nil for cluster-scoped
/// resources and for all-namespace lists and watches.
public protocol ResourceClient: Sendable {
    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage
    /// Opens a watch from `resourceVersion` with bookmarks requested. The stream ends when the
    /// server closes it and throws when the connection breaks.
    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error>
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue
    /// PUT; the object's `metadata.resourceVersion` is the precondition.
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue
    /// Server-side apply (`application/apply-patch+yaml`, sent as JSON) with `fieldManager`.
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue
    /// RFC 6902 JSON patch; a failing `test` op answers 422.
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue
    /// RFC 7386 merge patch.
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue
    func delete(_ type: APIResource, namespace: String?, name: String) async throws
}

extension ObjectKey {
    var namespaceOrNil: String? { namespace.isEmpty ? nil : namespace }
}
