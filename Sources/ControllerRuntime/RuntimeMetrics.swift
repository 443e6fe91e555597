import HTTPTransport
import Prometheus
import Synchronization

/// The operator's Prometheus metrics, named as controller-runtime names them so existing
/// dashboards and alerts work unchanged.
///
/// One instance per process, shared by every controller, queue and client; `/metrics`
/// renders `registry`.
public final class RuntimeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let collectHooks = Mutex<[@Sendable () async -> Void]>([])

    /// Buckets for reconcile and work durations (seconds), as controller-runtime uses.
    static let durationBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60].map { Duration.nanoseconds(Int64($0 * 1e9)) }
    /// Queue and REST latencies are exponential from 1 µs / 1 ms, as in client-go.
    static let queueBuckets: [Duration] = (0..<10).map { Duration.nanoseconds(Int64(1000 * pow10($0))) }
    static let restBuckets: [Duration] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60].map { Duration.nanoseconds(Int64($0 * 1e9)) }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Registers work to run just before each scrape, for gauges that are sampled rather
    /// than updated on every change (e.g. the longest-running reconcile).
    public func onCollect(_ hook: @escaping @Sendable () async -> Void) {
        collectHooks.withLock { $0.append(hook) }
    }

    /// The text exposition of every metric, after running the collect hooks.
    public func render() async -> String {
        for hook in collectHooks.withLock({ $0 }) { await hook() }
        return registry.emitToString()
    }

    // MARK: controller

    public func reconcileFinished(controller: String, result: ReconcileResultLabel, duration: Duration) {
        registry.makeCounter(descriptor: .init(metricName: "controller_runtime_reconcile", unitName: "total", helpText: "Total number of reconciliations per controller"), labels: [("controller", controller), ("result", result.rawValue)]).increment()
        if result == .error {
            registry.makeCounter(descriptor: .init(metricName: "controller_runtime_reconcile_errors", unitName: "total", helpText: "Total number of reconciliation errors per controller"), labels: [("controller", controller)]).increment()
        }
        registry.makeDurationHistogram(descriptor: .init(metricName: "controller_runtime_reconcile_time", unitName: "seconds", helpText: "Length of time per reconciliation per controller"), labels: [("controller", controller)], buckets: Self.durationBuckets).record(duration)
    }

    public func activeWorkers(controller: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: "controller_runtime_active_workers", unitName: "", helpText: "Number of currently used workers per controller"), labels: [("controller", controller)])
    }

    // MARK: work queue

    func workQueue(named name: String) -> WorkQueueMetrics {
        let labels = [("name", name)]
        return WorkQueueMetrics(
            depth: registry.makeGauge(descriptor: .init(metricName: "workqueue_depth", unitName: "", helpText: "Current depth of workqueue"), labels: labels),
            adds: registry.makeCounter(descriptor: .init(metricName: "workqueue_adds", unitName: "total", helpText: "Total number of adds handled by workqueue"), labels: labels),
            retries: registry.makeCounter(descriptor: .init(metricName: "workqueue_retries", unitName: "total", helpText: "Total number of retries handled by workqueue"), labels: labels),
            longestRunning: registry.makeGauge(descriptor: .init(metricName: "workqueue_longest_running_processor", unitName: "seconds", helpText: "How many seconds has the longest running processor for workqueue been running."), labels: labels),
            unfinishedWork: registry.makeGauge(descriptor: .init(metricName: "workqueue_unfinished_work", unitName: "seconds", helpText: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration."), labels: labels),
            queueDuration: registry.makeDurationHistogram(descriptor: .init(metricName: "workqueue_queue_duration", unitName: "seconds", helpText: "How long in seconds an item stays in workqueue before being requested"), labels: labels, buckets: Self.queueBuckets),
            workDuration: registry.makeDurationHistogram(descriptor: .init(metricName: "workqueue_work_duration", unitName: "seconds", helpText: "How long in seconds processing an item from workqueue takes."), labels: labels, buckets: Self.queueBuckets)
        )
    }

    // MARK: REST client

    /// Records one API request; the Kubernetes client adapter calls this for every request.
    public func restRequest(method: String, code: String, duration: Duration) {
        registry.makeCounter(descriptor: .init(metricName: "rest_client_requests", unitName: "total", helpText: "Number of HTTP requests, partitioned by status code, method, and host."), labels: [("code", code), ("method", method.uppercased())]).increment()
        registry.makeDurationHistogram(descriptor: .init(metricName: "rest_client_request_duration", unitName: "seconds", helpText: "Request latency in seconds. Broken down by verb."), labels: [("verb", method.uppercased())], buckets: Self.restBuckets).record(duration)
    }

    // MARK: informer

    public func informerRelisted(resource: String) {
        registry.makeCounter(descriptor: .init(metricName: "medsearch_informer_relists", unitName: "total", helpText: "Number of full relists per watched resource (first list, 410 Gone, broken watch)."), labels: [("resource", resource)]).increment()
    }

    public func leaderElectionStatus(name: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: "leader_election_master_status", unitName: "", helpText: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master."), labels: [("name", name)])
    }
}

private func pow10(_ exponent: Int) -> Double {
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// The `result` label of `controller_runtime_reconcile_total`.
public enum ReconcileResultLabel: String, Sendable {
    case success
    case error
    case requeue
    case requeueAfter = "requeue_after"
}

/// The metrics one work queue updates.
struct WorkQueueMetrics: Sendable {
    let depth: Gauge
    let adds: Counter
    let retries: Counter
    let longestRunning: Gauge
    let unfinishedWork: Gauge
    let queueDuration: DurationHistogram
    let workDuration: DurationHistogram
}

/// Feeds `rest_client_requests_total{code,method}` and
/// `rest_client_request_duration_seconds{verb}` from every transfer of an `HTTPTransport`
/// (pass it as the transport's `observer`), so all API traffic is counted, whoever sends it.
public struct RESTClientMetricsObserver: HTTPTransportObserver {
    public let metrics: RuntimeMetrics

    public init(metrics: RuntimeMetrics) { self.metrics = metrics }

    public func transferFinished(_ record: HTTPTransferRecord) {
        // client-go labels requests that got no response with code "<error>".
        let code = record.status.map(String.init) ?? "<error>"
        metrics.restRequest(method: record.method, code: code, duration: record.duration)
    }
}
