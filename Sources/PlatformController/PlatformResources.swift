import KubeAPI
import PlatformAPI

/// Where the platform's own kinds and every kind it owns live in the API.
public enum PlatformResources {
    public static let platforms = APIResource(
        group: PlatformAPIGroup.group, version: PlatformAPIGroup.version,
        plural: MedicalSearchPlatform.plural, kind: MedicalSearchPlatform.kind, namespaced: true)
    public static let tiers = APIResource(
        group: PlatformAPIGroup.group, version: PlatformAPIGroup.version,
        plural: ServiceTier.plural, kind: ServiceTier.kind, namespaced: false)

    /// Every kind a platform owns, in the order desired children are built, so deletes and
    /// events read in the same order as applies.
    public static let ownedKinds: [APIResource] = [
        .configMaps, .secrets, .serviceAccounts, .deployments, .services,
        .horizontalPodAutoscalers, .podDisruptionBudgets, .networkPolicies,
    ]

    /// The resource for a child's `kind`; nil for kinds the platform never owns.
    public static func owned(kind: String) -> APIResource? {
        ownedKinds.first { $0.kind == kind }
    }

    /// The finalizer that holds a platform until its external (AWS) resources are cleaned up.
    public static let finalizer = "platform.medsearch.io/finalizer"
    /// The one field manager every child and status write uses.
    public static let fieldManager = "medsearch-operator"
    /// `reportingController` on Events.
    public static let controllerName = "platform.medsearch.io/medsearch-operator"
}
