import ArgumentParser
import Logging

/// Everything the operator's manager is configured with; each default is kubebuilder's.
public struct ManagerOptions: Sendable, Equatable {
    /// Where `/metrics` is served; nil disables it. Default `:8080`.
    public var metricsAddress: BindAddress? = BindAddress(flag: ":8080")
    /// Where `/healthz` and `/readyz` are served; nil disables them. Default `:8081`.
    public var healthProbeAddress: BindAddress? = BindAddress(flag: ":8081")
    /// Elect a leader through a Lease so only one replica reconciles. Default false.
    public var leaderElection = false
    /// The Lease name. Default `medsearch-operator.platform.medsearch.io`.
    public var leaderElectionID = "medsearch-operator.platform.medsearch.io"
    /// The Lease namespace; nil means the pod's own namespace (or `default` outside a cluster).
    public var leaderElectionNamespace: String?
    public var leaderElectionTiming = LeaderElectionTiming()
    /// Concurrent reconciles per controller. Default 1.
    public var maxConcurrentReconciles = 1
    /// Namespaces to watch; empty (the default) means all.
    public var namespaces: [String] = []
    /// Path of a kubeconfig; nil uses `$KUBECONFIG`, `~/.kube/config` or in-cluster config.
    public var kubeconfig: String?
    /// kubeconfig context; nil uses the current one.
    public var context: String?
    public var logFormat: LogFormat = .json
    public var logLevel: Logger.Level = .info
    /// How long in-flight reconciles may take to finish after SIGTERM. Default 30 s.
    public var gracefulShutdownTimeout: Duration = .seconds(30)

    public init() {}
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable, ExpressibleByArgument {
    /// One JSON object per line, for log collectors. The default, as in production.
    case json
    /// Human-readable lines for a terminal.
    case console
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The manager flags with kubebuilder's names, for any `ParsableCommand` (`@OptionGroup`).
public struct ManagerArguments: ParsableArguments, Sendable {
    @Option(name: .customLong("metrics-bind-address"), help: "Address the metrics endpoint binds to; 0 disables it.")
    public var metricsBindAddress = ":8080"

    @Option(name: .customLong("health-probe-bind-address"), help: "Address the health probe endpoint binds to; 0 disables it.")
    public var healthProbeBindAddress = ":8081"

    @Flag(name: .customLong("leader-elect"), help: "Enable leader election, so only one replica reconciles.")
    public var leaderElect = false

    @Option(name: .customLong("leader-election-id"), help: "Name of the Lease used for leader election.")
    public var leaderElectionID = "medsearch-operator.platform.medsearch.io"

    @Option(name: .customLong("leader-election-namespace"), help: "Namespace of the leader election Lease (default: the pod's namespace).")
    public var leaderElectionNamespace: String?

    @Option(name: .customLong("max-concurrent-reconciles"), help: "Concurrent reconciles per controller.")
    public var maxConcurrentReconciles = 1

    @Option(name: .customLong("namespace"), help: "Namespace to watch; repeat for several (default: all).")
    public var namespaces: [String] = []

    @Option(name: .customLong("kubeconfig"), help: "Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster).")
    public var kubeconfig: String?

    @Option(name: .customLong("context"), help: "kubeconfig context to use.")
    public var context: String?

    @Option(name: .customLong("log-format"), help: "Log format: json or console.")
    public var logFormat: LogFormat = .json

    @Option(name: .customLong("log-level"), help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: Logger.Level = .info

    public init() {}

    public func validate() throws {
        if maxConcurrentReconciles < 1 { throw ValidationError("--max-concurrent-reconciles must be at least 1") }
        if metricsBindAddress != "0" && BindAddress(flag: metricsBindAddress) == nil {
            throw ValidationError("--metrics-bind-address must be host:port, :port or 0")
        }
        if healthProbeBindAddress != "0" && BindAddress(flag: healthProbeBindAddress) == nil {
            throw ValidationError("--health-probe-bind-address must be host:port, :port or 0")
        }
    }

    /// The options these flags describe.
    public var options: ManagerOptions {
        var options = ManagerOptions()
        options.metricsAddress = BindAddress(flag: metricsBindAddress)
        options.healthProbeAddress = BindAddress(flag: healthProbeBindAddress)
        options.leaderElection = leaderElect
        options.leaderElectionID = leaderElectionID
        options.leaderElectionNamespace = leaderElectionNamespace
        options.maxConcurrentReconciles = maxConcurrentReconciles
        options.namespaces = namespaces
        options.kubeconfig = kubeconfig
        options.context = context
        options.logFormat = logFormat
        options.logLevel = logLevel
        return options
    }
}
