import ControllerRuntime
import DataTier
import Foundation
import JSON
import KubeAPI
import Logging
import ServiceLifecycle

/// Settings of the platform controller; each documents its default.
public struct PlatformOperatorOptions: Sendable {
    /// Namespaces whose platforms and children are watched; empty (the default) means all.
    public var namespaces: [String] = []
    /// Concurrent reconciles. Default 1.
    public var workers = 1
    /// How soon a platform that is not Ready is looked at again. Default 15 s.
    public var resyncInterval: Duration = .seconds(15)
    /// The AWS data tier (RDS, ElastiCache, S3, credentials). Default nil: not configured,
    /// the data-tier conditions report `AWSTierNotConfigured` and Ready follows the services.
    /// When set, deletion cleans it up (`AWSDataTierCleanup`) instead of `cleanup`.
    public var dataTier: DataTierReconciler?
    /// What deletion cleans up outside the cluster when `dataTier` is nil. Default nothing.
    public var cleanup: any PlatformCleanup = NoExternalResources()
    /// `reportingInstance` on Events, usually the pod name. Default the host name.
    public var instance = ProcessInfo.processInfo.hostName

    public init() {}
}

/// The platform controller wired up: informers for platforms, tiers and every owned kind,
/// the controller with its watches, and the event recorder.
///
/// Guarantees:
/// - A change to any owned child enqueues its controller owner; a change to a ServiceTier
///   enqueues every platform whose `spec.tierRef.name` names it (a cache index, no list).
/// - Status-only updates of a platform (our own writes) do not re-trigger it.
/// - Child caches keep only objects this operator manages (the `managed-by` label or a
///   platform controller reference), so unrelated ConfigMaps and Secrets cost nothing.
public struct PlatformOperator: Sendable {
    public let platforms: Informer<CompactJSON>
    public let tiers: Informer<CompactJSON>
    public let children: [Informer<CompactJSON>]
    public let controller: Controller
    public let events: EventRecorder
    public let caches: PlatformCaches

    public init(client: any ResourceClient, statusWriter: any PlatformStatusWriter, options: PlatformOperatorOptions = PlatformOperatorOptions(), gate: LeadershipGate = .alwaysLeading(), metrics: RuntimeMetrics? = nil, clock: any RuntimeClock = SystemRuntimeClock(), logger: Logger) {
        platforms = Informer(resource: PlatformResources.platforms, client: client, transform: .strippedCompactJSON, indexes: [PlatformCaches.tierRefStoreIndex], namespaces: options.namespaces, clock: clock, metrics: metrics, logger: logger)
        tiers = Informer(resource: PlatformResources.tiers, client: client, transform: .strippedCompactJSON, clock: clock, metrics: metrics, logger: logger)
        var children: [Informer<CompactJSON>] = []
        var stores: [String: ObjectCache<CompactJSON>] = [:]
        for resource in PlatformResources.ownedKinds {
            let informer = Informer(resource: resource, client: client, transform: Self.managedChildren, namespaces: options.namespaces, clock: clock, metrics: metrics, logger: logger)
            children.append(informer)
            stores[resource.kind] = informer.store
        }
        self.children = children
        caches = PlatformCaches(platforms: platforms.store, tiers: tiers.store, children: stores)
        // client-go's burst of 25 per object would drop most of a new platform's story (38
        // creates, then the condition changes); 128 fits several full rollouts.
        events = EventRecorder(client: client, controllerName: PlatformResources.controllerName, instance: options.instance, aggregator: EventAggregator(burst: 128), clock: clock, logger: logger)
        let tierStore = tiers.store
        let cleanup: any PlatformCleanup = options.dataTier.map { AWSDataTierCleanup(dataTier: $0, tiers: tierStore, statusWriter: statusWriter) } ?? options.cleanup
        let reconciler = PlatformReconciler(caches: caches, client: client, statusWriter: statusWriter, events: events, cleanup: cleanup, dataTier: options.dataTier, resyncInterval: options.resyncInterval)
        controller = Controller(name: "medicalsearchplatform", reconciler: reconciler, workers: options.workers, gate: gate, clock: clock, metrics: metrics, logger: logger)
        controller.watchPrimary(platforms, filter: .generationChanged)
        for informer in children {
            controller.watchOwned(informer, ownerKind: PlatformResources.platforms.kind)
        }
        let caches = self.caches
        controller.watch(tiers) { tier in caches.platforms(referencingTier: tier.key.name) }
    }

    /// Every informer, for `OperatorRuntime.serviceGroup(informers:…)`.
    public var informers: [any ServiceLifecycle.Service] { [platforms, tiers] + children }

    /// Informers, event recorder and controller in start order, for a `ServiceGroup` built
    /// without `OperatorRuntime` (tests, the demo).
    public var services: [any ServiceLifecycle.Service] { informers + [events, controller] }

    /// Keeps children we manage (our label or a platform controller reference), stripped.
    static var managedChildren: ObjectTransform<CompactJSON> {
        ObjectTransform { object in
            let labels = object[path: ["metadata", "labels"]]
            let controlledByPlatform = (object[path: ["metadata", "ownerReferences"]].arrayValue ?? []).contains {
                $0["kind"].stringValue == PlatformResources.platforms.kind && $0["controller"].boolValue == true
            }
            guard controlledByPlatform || labels["app.kubernetes.io/managed-by"].stringValue == "medsearch-operator" else { return nil }
            return ObjectTransform<CompactJSON>.strippedCompactJSON.project(object)
        }
    }
}
