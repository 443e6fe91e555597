import ControllerRuntime
import JSON

/// What must happen outside Kubernetes before a deleted platform may go: the AWS data tier
/// implements it (snapshots, deletion policies). Children need nothing: they carry
/// controller owner references, so the garbage collector removes them.
public protocol PlatformCleanup: Sendable {
    /// Called while the platform carries a deletionTimestamp and our finalizer. Answer
    /// `.done` once nothing is left; `.after` keeps the finalizer and asks again later.
    func cleanUp(platform: JSONValue, context: ReconcileContext) async throws -> Requeue
}

/// The cleanup while no AWS data tier is managed: nothing outside the cluster exists.
public struct NoExternalResources: PlatformCleanup {
    public init() {}
    public func cleanUp(platform: JSONValue, context: ReconcileContext) async throws -> Requeue { .done }
}
