import JSON
import PlatformAPI

/// One object the platform should own, with what it is for.
public struct DesiredChild: Sendable, Equatable {
    public var kind: String
    public var name: String
    /// The service it belongs to; nil for the platform-wide ConfigMap and Secret.
    public var service: PlatformService?
    public var object: JSONValue
}

/// Everything the platform's Kubernetes side should consist of, computed without a client.
///
/// Guarantees: deterministic (the same inputs give byte-identical objects, in a fixed
/// order: ConfigMap, Secret, then per enabled service ServiceAccount,
/// Deployment, Service, HPA, PDB, NetworkPolicy), so the apply step can skip unchanged
/// objects by comparing serialisations. Disabled services produce nothing.
public struct DesiredChildren: Sendable, Equatable {
    public var children: [DesiredChild]
    /// The hash stamped on every pod template; changes whenever pods must restart.
    public var configHash: String
    /// The enabled services, with their effective sizing.
    public var services: [EffectiveService]

    public var objects: [JSONValue] { children.map(\.object) }

    public func child(kind: String, name: String) -> DesiredChild? {
        children.first { $0.kind == kind && $0.name == name }
    }
}

/// The desired children of a platform (see `DesiredChildren`).
public func desiredChildren(platform: MedicalSearchPlatform, tier: ServiceTier, observed: ObservedState) -> [JSONValue] {
    desiredState(platform: platform, tier: tier, observed: observed).objects
}

public func desiredState(platform: MedicalSearchPlatform, tier: ServiceTier, observed: ObservedState) -> DesiredChildren {
    let services = platform.effectiveServices(tier: tier).filter(\.enabled)
    let enabled = Set(services.map(\.service))
    let data = Configuration.configMapData(platform, tier: tier, observed: observed)
    let hash = Configuration.hash(data: data, observed: observed)

    var children: [DesiredChild] = []
    func add(_ object: JSONValue, _ service: PlatformService?) {
        children.append(DesiredChild(
            kind: object["kind"].stringValue ?? "", name: object[path: ["metadata", "name"]].stringValue ?? "",
            service: service, object: object))
    }
    add(Configuration.configMap(platform, data: data), nil)
    add(Configuration.secret(platform), nil)
    for s in services {
        add(Workload.serviceAccount(platform, s), s.service)
        add(Workload.deployment(platform, s, configHash: hash), s.service)
        add(Workload.service(platform, s), s.service)
        add(Workload.horizontalPodAutoscaler(platform, s), s.service)
        add(Workload.podDisruptionBudget(platform, s), s.service)
        add(NetworkPolicies.networkPolicy(platform, s, enabled: enabled), s.service)
    }
    return DesiredChildren(children: children, configHash: hash, services: services)
}
