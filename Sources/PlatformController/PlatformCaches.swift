import ControllerRuntime
import JSON

/// The informer caches the reconciler reads: platforms, tiers, and one per owned kind.
public struct PlatformCaches: Sendable {
    /// Index on platforms by `spec.tierRef.name`: how a tier change finds its platforms.
    public static let tierRefIndex = "tierRef"

    public let platforms: ObjectCache<CompactJSON>
    public let tiers: ObjectCache<CompactJSON>
    /// Keyed by child `kind`.
    public let children: [String: ObjectCache<CompactJSON>]

    public init(platforms: ObjectCache<CompactJSON>, tiers: ObjectCache<CompactJSON>, children: [String: ObjectCache<CompactJSON>]) {
        self.platforms = platforms
        self.tiers = tiers
        self.children = children
    }

    /// Keys of the platforms whose `spec.tierRef.name` is `tier`.
    public func platforms(referencingTier tier: String) -> [ObjectKey] {
        platforms.byIndex(Self.tierRefIndex, value: tier).map(\.key)
    }

    /// The `tierRef` index for the platforms informer.
    public static var tierRefStoreIndex: StoreIndex<CompactJSON> {
        StoreIndex(name: tierRefIndex) { object in tierName(of: object.payload.value).map { [$0] } ?? [] }
    }

    static func tierName(of platform: JSONValue) -> String? {
        platform[path: ["spec", "tierRef", "name"]].stringValue
    }
}
