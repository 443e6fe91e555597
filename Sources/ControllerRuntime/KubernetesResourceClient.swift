import JSON
import KubeAPI

/// `ResourceClient` on top of KubeAPI's `KubernetesClient`: the production adapter.
///
/// Guarantees: KubeAPI errors become `ResourceClientError` with the HTTP status and reason
/// (an expired resourceVersion is always 410, so informers relist); watch events are pulled
/// one at a time from the HTTP body, so a slow informer pauses the transfer instead of
/// buffering without bound.
public struct KubernetesResourceClient: ResourceClient {
    public let client: any KubernetesClient

    public init(client: any KubernetesClient) {
        self.client = client
    }

    public func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        try await translatingErrors {
            let list = try await client.list(type, namespace: namespace, options: ListOptions(limit: limit, continueToken: continueToken))
            return ObjectListPage(items: list.items, resourceVersion: list.resourceVersion ?? "", continueToken: list.continueToken)
        }
    }

    public func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        let stream = try await translatingErrors {
            try await client.watch(type, namespace: namespace, options: WatchOptions(resourceVersion: resourceVersion, allowWatchBookmarks: true))
        }
        let cursor = WatchCursor(stream.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: {
            try await translatingErrors { try await cursor.next() }
        })
    }

    public func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        try await translatingErrors { try await client.get(type, namespace: namespace, name: name, subresource: nil) }
    }

    public func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await translatingErrors { try await client.create(type, namespace: namespace, object: object, options: WriteOptions()) }
    }

    public func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue {
        try await translatingErrors { try await client.update(type, namespace: namespace, object: object, subresource: nil, options: WriteOptions()) }
    }

    public func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue {
        try await translatingErrors {
            try await client.patch(type, namespace: namespace, name: name, patch: .apply(object, force: force), subresource: nil, options: WriteOptions(fieldManager: fieldManager))
        }
    }

    public func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue {
        try await translatingErrors {
            try await client.patch(type, namespace: namespace, name: name, patch: .json(operations), subresource: nil, options: WriteOptions())
        }
    }

    public func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue {
        try await translatingErrors {
            try await client.patch(type, namespace: namespace, name: name, patch: .merge(patch), subresource: nil, options: WriteOptions())
        }
    }

    public func delete(_ type: APIResource, namespace: String?, name: String) async throws {
        _ = try await translatingErrors { try await client.delete(type, namespace: namespace, name: name, options: DeleteOptions()) }
    }

    /// Maps KubeAPI's errors to the runtime's; `Status` messages carry no secrets.
    static func translate(_ error: KubeAPIError) -> ResourceClientError {
        if error.kind == .resourceVersionTooOld {
            return ResourceClientError(statusCode: 410, reason: "Expired", message: error.message)
        }
        return ResourceClientError(statusCode: error.status, reason: error.reason ?? error.kind.rawValue, message: error.message)
    }
}

private func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as KubeAPIError {
        throw KubernetesResourceClient.translate(error)
    }
}

/// Holds a watch iterator for `AsyncThrowingStream(unfolding:)`, which pulls from one
/// consumer at a time; that single-consumer use is what makes the unchecked sendability sound.
private final class WatchCursor: @unchecked Sendable {
    private var iterator: WatchEventStream.AsyncIterator

    init(_ iterator: WatchEventStream.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> ResourceWatchEvent? {
        guard let event = try await iterator.next() else { return nil }
        switch event.type {
        case .added: return .added(event.object)
        case .modified: return .modified(event.object)
        case .deleted: return .deleted(event.object)
        case .bookmark: return .bookmark(resourceVersion: event.object[path: ["metadata", "resourceVersion"]].stringValue ?? "")
        case .error: return .error(status: event.object)
        }
    }
}
