import JSON
import KubeAPI

/// Writes a platform's status subresource; a seam so tests can count status writes.
public protocol PlatformStatusWriter: Sendable {
    /// Replaces `status` as a whole, so keys we no longer report (a disabled service)
    /// disappear instead of lingering as a merge patch would leave them.
    func replaceStatus(_ status: JSONValue, namespace: String, name: String) async throws
}

/// The production writer: a JSON patch on the `status` subresource, which never touches
/// the spec and needs no resourceVersion (status is ours alone).
public struct KubernetesStatusWriter: PlatformStatusWriter {
    public let client: any KubernetesClient

    public init(client: any KubernetesClient) { self.client = client }

    public func replaceStatus(_ status: JSONValue, namespace: String, name: String) async throws {
        _ = try await client.patch(
            PlatformResources.platforms, namespace: namespace, name: name,
            patch: .json([["op": "add", "path": "/status", "value": status]]),
            subresource: "status", options: WriteOptions(fieldManager: PlatformResources.fieldManager))
    }
}
