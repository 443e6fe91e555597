import HTTPTransport
import JSON

/// One API call as data: method, path, query, headers and body, before any credentials.
///
/// Guarantees: building is pure and deterministic (query items in a fixed order), so it
/// is tested without a server; `Accept`, `User-Agent` and `Content-Type` are always set
/// as the API server expects.
public struct APIRequest: Sendable, Equatable {
    /// The Kubernetes verb ("get", "list", "create", …) for errors and metrics.
    public var verb: String
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    /// What the request is about, for error messages.
    public var target: ObjectTarget

    public static let userAgent = "medsearch-operator/0.1"

    public static func == (lhs: APIRequest, rhs: APIRequest) -> Bool {
        lhs.verb == rhs.verb && lhs.method == rhs.method && lhs.path == rhs.path
            && lhs.query.map { [$0.name, $0.value] } == rhs.query.map { [$0.name, $0.value] }
            && lhs.headers == rhs.headers && lhs.body == rhs.body && lhs.target == rhs.target
    }

    init(verb: String, method: String, path: String, query: [(name: String, value: String)] = [],
         body: [UInt8]? = nil, contentType: String? = nil, target: ObjectTarget) {
        self.verb = verb
        self.method = method
        self.path = path
        self.query = query
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": APIRequest.userAgent]
        if let contentType { headers["Content-Type"] = contentType }
        self.headers = headers
        self.body = body
        self.target = target
    }

    /// Path plus percent-encoded query, e.g. `/api/v1/namespaces/a/pods?limit=5`.
    public var pathAndQuery: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map {
            PercentEncoding.queryComponent($0.name) + "=" + PercentEncoding.queryComponent($0.value)
        }.joined(separator: "&")
    }

    // MARK: Verbs

    public static func get(_ resource: APIResource, namespace: String?, name: String, subresource: String? = nil) -> APIRequest {
        APIRequest(
            verb: "get", method: "GET", path: resource.objectPath(namespace: namespace, name: name, subresource: subresource),
            target: ObjectTarget(resource, namespace, name, subresource))
    }

    public static func list(_ resource: APIResource, namespace: String?, options: ListOptions = ListOptions()) -> APIRequest {
        var query: [(name: String, value: String)] = []
        if let value = options.labelSelector { query.append(("labelSelector", value)) }
        if let value = options.fieldSelector { query.append(("fieldSelector", value)) }
        if let value = options.limit { query.append(("limit", String(value))) }
        if let value = options.continueToken { query.append(("continue", value)) }
        if let value = options.resourceVersion { query.append(("resourceVersion", value)) }
        if let value = options.resourceVersionMatch { query.append(("resourceVersionMatch", value.rawValue)) }
        if let value = options.timeoutSeconds { query.append(("timeoutSeconds", String(value))) }
        return APIRequest(
            verb: "list", method: "GET", path: resource.collectionPath(namespace: namespace), query: query,
            target: ObjectTarget(resource, namespace, nil, nil))
    }

    public static func watch(_ resource: APIResource, namespace: String?, options: WatchOptions = WatchOptions()) -> APIRequest {
        var query: [(name: String, value: String)] = [("watch", "true")]
        if let value = options.resourceVersion { query.append(("resourceVersion", value)) }
        if let value = options.labelSelector { query.append(("labelSelector", value)) }
        if let value = options.fieldSelector { query.append(("fieldSelector", value)) }
        if options.allowWatchBookmarks { query.append(("allowWatchBookmarks", "true")) }
        if let value = options.timeoutSeconds { query.append(("timeoutSeconds", String(value))) }
        return APIRequest(
            verb: "watch", method: "GET", path: resource.collectionPath(namespace: namespace), query: query,
            target: ObjectTarget(resource, namespace, nil, nil))
    }

    public static func create(
        _ resource: APIResource, namespace: String?, object: JSONValue, options: WriteOptions = WriteOptions(),
        defaultFieldManager: String? = nil
    ) -> APIRequest {
        APIRequest(
            verb: "create", method: "POST", path: resource.collectionPath(namespace: resource.namespaced ? namespace : nil),
            query: writeQuery(options, defaultFieldManager: defaultFieldManager), body: object.serializedBytes(),
            contentType: "application/json",
            target: ObjectTarget(resource, namespace, object[path: ["metadata", "name"]].stringValue, nil))
    }

    /// Replaces the object (PUT); the name comes from `object.metadata.name`.
    public static func update(
        _ resource: APIResource, namespace: String?, object: JSONValue, subresource: String? = nil,
        options: WriteOptions = WriteOptions(), defaultFieldManager: String? = nil
    ) -> APIRequest {
        let name = object[path: ["metadata", "name"]].stringValue ?? ""
        return APIRequest(
            verb: subresource == nil ? "update" : "update \(subresource!)", method: "PUT",
            path: resource.objectPath(namespace: namespace, name: name, subresource: subresource),
            query: writeQuery(options, defaultFieldManager: defaultFieldManager), body: object.serializedBytes(),
            contentType: "application/json", target: ObjectTarget(resource, namespace, name, subresource))
    }

    public static func patch(
        _ resource: APIResource, namespace: String?, name: String, patch: Patch, subresource: String? = nil,
        options: WriteOptions = WriteOptions(), defaultFieldManager: String? = nil
    ) -> APIRequest {
        var query = writeQuery(options, defaultFieldManager: defaultFieldManager)
        if case .apply(_, let force) = patch, force { query.append(("force", "true")) }
        let verb = if case .apply = patch { "apply" } else { "patch" }
        return APIRequest(
            verb: subresource == nil ? verb : "\(verb) \(subresource!)", method: "PATCH",
            path: resource.objectPath(namespace: namespace, name: name, subresource: subresource), query: query,
            body: patch.body, contentType: patch.contentType, target: ObjectTarget(resource, namespace, name, subresource))
    }

    public static func delete(
        _ resource: APIResource, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()
    ) -> APIRequest {
        var query: [(name: String, value: String)] = []
        if options.dryRun { query.append(("dryRun", "All")) }
        return APIRequest(
            verb: "delete", method: "DELETE", path: resource.objectPath(namespace: namespace, name: name), query: query,
            body: options.body.serializedBytes(), contentType: "application/json",
            target: ObjectTarget(resource, namespace, name, nil))
    }

    private static func writeQuery(_ options: WriteOptions, defaultFieldManager: String?) -> [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if options.dryRun { query.append(("dryRun", "All")) }
        if let manager = options.fieldManager ?? defaultFieldManager { query.append(("fieldManager", manager)) }
        return query
    }
}

/// The object (or collection) a request is about, for messages: "deployments.apps ns/name".
public struct ObjectTarget: Sendable, Equatable, CustomStringConvertible {
    public var resource: APIResource
    public var namespace: String?
    public var name: String?
    public var subresource: String?

    public init(_ resource: APIResource, _ namespace: String?, _ name: String?, _ subresource: String?) {
        self.resource = resource
        self.namespace = resource.namespaced ? namespace : nil
        self.name = name
        self.subresource = subresource
    }

    public var description: String {
        var text = resource.description
        switch (namespace, name) {
        case (let namespace?, let name?): text += " \(namespace)/\(name)"
        case (nil, let name?): text += " \(name)"
        case (let namespace?, nil): text += " in namespace \(namespace)"
        case (nil, nil): break
        }
        if let subresource { text += " (\(subresource))" }
        return text
    }
}
