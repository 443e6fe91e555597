import JSON

/// The Kubernetes API as the controller runtime sees it: verbs on JSON objects.
///
/// Guarantees (of every implementation): non-2xx answers throw `KubeAPIError` with a
/// typed `kind`; a nil `namespace` on a namespaced resource means all namespaces for
/// list/watch; `subresource` "status" addresses the status subresource.
public protocol KubernetesClient: Sendable {
    func get(_ resource: APIResource, namespace: String?, name: String, subresource: String?) async throws -> JSONValue
    func list(_ resource: APIResource, namespace: String?, options: ListOptions) async throws -> ObjectList
    func create(_ resource: APIResource, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue
    /// Replaces the object named by `object.metadata.name`; a stale `resourceVersion` fails with `.conflict`.
    func update(
        _ resource: APIResource, namespace: String?, object: JSONValue, subresource: String?, options: WriteOptions
    ) async throws -> JSONValue
    func patch(
        _ resource: APIResource, namespace: String?, name: String, patch: Patch, subresource: String?,
        options: WriteOptions
    ) async throws -> JSONValue
    /// Returns the object (still terminating, with finalizers) or the server's Status.
    func delete(_ resource: APIResource, namespace: String?, name: String, options: DeleteOptions) async throws -> JSONValue
    func watch(_ resource: APIResource, namespace: String?, options: WatchOptions) async throws -> WatchEventStream
}

/// One page of a list.
public struct ObjectList: Sendable, Equatable {
    public var items: [JSONValue]
    /// Version to start a watch from after this list.
    public var resourceVersion: String?
    /// Token for the next page; nil on the last page.
    public var continueToken: String?
    public var remainingItemCount: Int64?

    public init(items: [JSONValue], resourceVersion: String?, continueToken: String?, remainingItemCount: Int64? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }

    init(listObject: JSONValue) {
        let continueToken = listObject[path: ["metadata", "continue"]].stringValue
        self.init(
            items: listObject["items"].arrayValue ?? [],
            resourceVersion: listObject[path: ["metadata", "resourceVersion"]].stringValue,
            continueToken: continueToken?.isEmpty == true ? nil : continueToken,
            remainingItemCount: listObject[path: ["metadata", "remainingItemCount"]].intValue)
    }
}

// MARK: Defaults

extension KubernetesClient {
    public func get(_ resource: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        try await get(resource, namespace: namespace, name: name, subresource: nil)
    }

    public func list(_ resource: APIResource, namespace: String?) async throws -> ObjectList {
        try await list(resource, namespace: namespace, options: ListOptions())
    }

    /// Follows `continue` tokens to the end. Errors: `.resourceVersionTooOld` when a token
    /// expired mid-way (start over).
    public func listAll(_ resource: APIResource, namespace: String?, options: ListOptions = ListOptions()) async throws -> ObjectList {
        var options = options
        var result = try await list(resource, namespace: namespace, options: options)
        while let token = result.continueToken {
            options.continueToken = token
            let page = try await list(resource, namespace: namespace, options: options)
            result.items += page.items
            result.continueToken = page.continueToken
            result.resourceVersion = page.resourceVersion ?? result.resourceVersion
        }
        return result
    }

    public func create(_ resource: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await create(resource, namespace: namespace, object: object, options: WriteOptions())
    }

    public func update(_ resource: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await update(resource, namespace: namespace, object: object, subresource: nil, options: WriteOptions())
    }

    public func patch(_ resource: APIResource, namespace: String?, name: String, patch: Patch) async throws -> JSONValue {
        try await self.patch(resource, namespace: namespace, name: name, patch: patch, subresource: nil, options: WriteOptions())
    }

    public func delete(_ resource: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        try await delete(resource, namespace: namespace, name: name, options: DeleteOptions())
    }
}

// MARK: Typed objects

extension KubernetesClient {
    public func get<Object: KubernetesObject>(_ type: Object.Type, namespace: String? = nil, name: String) async throws -> Object {
        Object(object: try await get(Object.resource, namespace: namespace, name: name, subresource: nil))
    }

    /// The object, or nil when it does not exist (any other failure still throws).
    public func getIfExists<Object: KubernetesObject>(_ type: Object.Type, namespace: String? = nil, name: String) async throws -> Object? {
        do {
            return try await get(type, namespace: namespace, name: name)
        } catch let error as KubeAPIError where error.kind == .notFound {
            return nil
        }
    }

    public func list<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws -> [Object] {
        try await listAll(Object.resource, namespace: namespace, options: options).items.map(Object.init(object:))
    }

    public func create<Object: KubernetesObject>(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        Object(object: try await create(Object.resource, namespace: object.metadata.namespace, object: object.object, options: options))
    }

    public func update<Object: KubernetesObject>(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        Object(
            object: try await update(
                Object.resource, namespace: object.metadata.namespace, object: object.object, subresource: nil,
                options: options))
    }

    /// Replaces only `status` (the spec in `object` is ignored by the server).
    public func updateStatus<Object: KubernetesObject>(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        Object(
            object: try await update(
                Object.resource, namespace: object.metadata.namespace, object: object.object, subresource: "status",
                options: options))
    }

    /// Server-side apply of `object` (only the fields it sets are claimed by the field manager).
    public func apply<Object: KubernetesObject>(
        _ object: Object, force: Bool = false, subresource: String? = nil, options: WriteOptions = WriteOptions()
    ) async throws -> Object {
        Object(
            object: try await patch(
                Object.resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "",
                patch: .apply(object.object, force: force), subresource: subresource, options: options))
    }

    public func patch<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, name: String, patch: Patch, subresource: String? = nil,
        options: WriteOptions = WriteOptions()
    ) async throws -> Object {
        Object(
            object: try await self.patch(
                Object.resource, namespace: namespace, name: name, patch: patch, subresource: subresource, options: options))
    }

    public func delete<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, name: String, options: DeleteOptions = DeleteOptions()
    ) async throws {
        _ = try await delete(Object.resource, namespace: namespace, name: name, options: options)
    }
}
