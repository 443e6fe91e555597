import KubeAPI
import JSON

/// Adds our finalizer, runs cleanup when the object is deleted, then removes the finalizer,
/// like kube-rs's `finalizer` helper.
///
/// Guarantees:
/// - Safe to repeat: every step checks the object's current finalizers first.
/// - Never removes another controller's finalizer: removal is a JSON patch whose `test` op
///   checks that the entry at the index is ours, so a concurrent change fails the patch (422)
///   and the reconcile retries on fresh state. Adding is guarded by the resourceVersion.
/// - The finalizer is removed only after `cleanup` answers `.done`; `.after` keeps it.
///
/// Errors: a failed `test` op surfaces as `ResourceClientError` (422/409): retry.
public struct FinalizerGuard: Sendable {
    public let finalizer: String
    public let resource: APIResource
    public let client: any ResourceClient

    public init(finalizer: String, resource: APIResource, client: any ResourceClient) {
        self.finalizer = finalizer
        self.resource = resource
        self.client = client
    }

    /// Calls `apply` for a live object (after making sure our finalizer is on it) or
    /// `cleanup` for one being deleted (then removes our finalizer).
    public func reconcile(_ object: CachedMetadata, apply: () async throws -> Requeue, cleanup: () async throws -> Requeue) async throws -> Requeue {
        if object.isBeingDeleted {
            guard let index = object.finalizers.firstIndex(of: finalizer) else { return .done }
            let outcome = try await cleanup()
            guard outcome == .done else { return outcome }
            try await removeFinalizer(at: index, from: object)
            return .done
        }
        if !object.finalizers.contains(finalizer) {
            try await addFinalizer(to: object)
        }
        return try await apply()
    }

    private func addFinalizer(to object: CachedMetadata) async throws {
        var operations: [JSONValue] = [["op": "test", "path": "/metadata/resourceVersion", "value": .string(object.resourceVersion)]]
        if object.finalizers.isEmpty {
            operations.append(["op": "add", "path": "/metadata/finalizers", "value": [.string(finalizer)]])
        } else {
            operations.append(["op": "add", "path": "/metadata/finalizers/-", "value": .string(finalizer)])
        }
        _ = try await client.jsonPatch(resource, namespace: object.key.namespaceOrNil, name: object.key.name, operations: operations)
    }

    private func removeFinalizer(at index: Int, from object: CachedMetadata) async throws {
        let path = "/metadata/finalizers/\(index)"
        let operations: [JSONValue] = [
            ["op": "test", "path": .string(path), "value": .string(finalizer)],
            ["op": "remove", "path": .string(path)],
        ]
        _ = try await client.jsonPatch(resource, namespace: object.key.namespaceOrNil, name: object.key.name, operations: operations)
    }
}
