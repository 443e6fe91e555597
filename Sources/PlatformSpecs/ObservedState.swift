import PlatformAPI

/// What the controller has learned outside the spec that changes the desired children:
/// data-tier endpoints discovered in AWS and the revision of the credentials Secret.
///
/// Everything defaults to unknown, which is what `render` uses without a cluster.
public struct ObservedState: Sendable, Equatable {
    public var databaseEndpoint: Endpoint?
    public var databaseReaderEndpoint: Endpoint?
    public var cacheEndpoint: Endpoint?
    /// `resourceVersion` (or any revision marker) of the credentials Secret's data; part of
    /// the config hash so a rotated password rolls the pods.
    public var credentialsRevision: String?

    public init() {}
}
