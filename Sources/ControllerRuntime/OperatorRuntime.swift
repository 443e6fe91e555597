import Foundation
import Logging
import ServiceLifecycle

/// Assembles the long-lived pieces of one operator process into a single `ServiceGroup`:
/// endpoint servers, informers, the event recorder, leader election and controllers.
///
/// Guarantees:
/// - SIGTERM/SIGINT start a graceful shutdown in reverse order: controllers stop taking keys
///   and finish in-flight reconciles, then the Lease is released, then events are flushed,
///   informers stop, and the endpoint servers close last; the process then exits 0.
/// - `options.gracefulShutdownTimeout` bounds the whole shutdown; past it, remaining work is
///   cancelled.
/// - `/readyz` fails until every controller's informers have synced; `/healthz` and
///   `/metrics` are served by every replica, leader or not.
public struct OperatorRuntime: Sendable {
    public let options: ManagerOptions
    public let metrics: RuntimeMetrics
    public let health: HealthChecks
    public let gate: LeadershipGate
    public let clock: any RuntimeClock
    public let logger: Logger
    private let leaderElector: LeaderElector?

    /// - Parameter identity: this replica's name in the Lease (the pod name in a cluster).
    public init(options: ManagerOptions, client: any ResourceClient, identity: String, metrics: RuntimeMetrics = RuntimeMetrics(), clock: any RuntimeClock = SystemRuntimeClock(), logger: Logger) {
        self.options = options
        self.metrics = metrics
        self.health = HealthChecks()
        self.clock = clock
        self.logger = logger
        if options.leaderElection {
            let namespace = options.leaderElectionNamespace ?? Self.podNamespace() ?? "default"
            let elector = LeaderElector(lease: ObjectKey(namespace: namespace, name: options.leaderElectionID), identity: identity, timing: options.leaderElectionTiming, client: client, clock: clock, metrics: metrics, logger: logger)
            leaderElector = elector
            gate = elector.gate
        } else {
            leaderElector = nil
            gate = .alwaysLeading()
        }
    }

    /// The services, in start order (shutdown runs in reverse), and the readiness wiring.
    public func services(informers: [any ServiceLifecycle.Service], controllers: [Controller], eventRecorder: EventRecorder? = nil) -> [any ServiceLifecycle.Service] {
        health.addReadinessCheck("informers-synced") { controllers.allSatisfy(\.cachesSynced) }
        var services: [any ServiceLifecycle.Service] = []
        if let address = options.metricsAddress {
            services.append(EndpointServer(address: address, metrics: metrics, logger: logger))
        }
        if let address = options.healthProbeAddress {
            services.append(EndpointServer(address: address, health: health, logger: logger))
        }
        services += informers
        if let eventRecorder { services.append(eventRecorder) }
        if let leaderElector { services.append(leaderElector) }
        services += controllers
        return services
    }

    /// One `ServiceGroup` that turns SIGTERM and SIGINT into a graceful shutdown.
    public func serviceGroup(informers: [any ServiceLifecycle.Service], controllers: [Controller], eventRecorder: EventRecorder? = nil) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services(informers: informers, controllers: controllers, eventRecorder: eventRecorder).map {
                ServiceGroupConfiguration.ServiceConfiguration(service: $0)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = options.gracefulShutdownTimeout
        return ServiceGroup(configuration: configuration)
    }

    /// The namespace the pod runs in, from the service account mount.
    static func podNamespace() -> String? {
        let path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
