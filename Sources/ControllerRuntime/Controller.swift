import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Which informer changes are worth a reconcile.
public struct ChangeFilter<Payload: Sendable>: Sendable {
    public let accepts: @Sendable (ObjectChange<Payload>) -> Bool

    public init(_ accepts: @escaping @Sendable (ObjectChange<Payload>) -> Bool) { self.accepts = accepts }

    public static var everything: ChangeFilter { ChangeFilter { _ in true } }

    /// Skips updates that change neither `metadata.generation`, nor deletion, nor finalizers,
    /// nor labels: status-only writes (including our own status updates) do not re-trigger.
    ///
    /// Safe only for a primary whose reconcile does not act on its own status or annotations,
    /// and only because children and periodic requeues still trigger reconciles; never use it
    /// on child informers, whose status (e.g. ready replicas) is exactly what matters.
    /// Adds, deletes and relists always pass.
    public static var generationChanged: ChangeFilter {
        ChangeFilter { change in
            guard case .applied(let new, let old?) = change else { return true }
            let a = new.metadata, b = old.metadata
            return a.generation != b.generation || a.generation == 0 || a.isBeingDeleted != b.isBeingDeleted
                || a.finalizers != b.finalizers || a.labels != b.labels || a.uid != b.uid
        }
    }
}

/// Runs a `Reconciler` over a work queue fed by informers: "for this primary kind, owns these
/// child kinds, also watches these with a mapping".
///
/// Guarantees:
/// - Work items are keys; a key is never reconciled by two workers at once.
/// - Success forgets the key's backoff; errors go through the `ErrorPolicy`; `.after`
///   requeues on the clock.
/// - Workers start only once the `LeadershipGate` opens; every replica keeps its caches warm.
/// - On graceful shutdown no new reconcile starts and in-flight ones finish; the
///   `ServiceGroup`'s graceful-shutdown timeout bounds how long that may take.
public final class Controller: ServiceLifecycle.Service, Sendable {
    public let name: String
    public let queue: WorkQueue
    private let reconciler: any Reconciler
    private let workers: Int
    private let gate: LeadershipGate
    private let clock: any RuntimeClock
    private let metrics: RuntimeMetrics?
    private let errorPolicy: ErrorPolicy
    private let logger: Logger
    private let readiness = Mutex<[@Sendable () -> Bool]>([])

    /// - Parameters:
    ///   - workers: concurrent reconciles (`--max-concurrent-reconciles`); default 1.
    ///   - gate: leadership; default always leading (no election).
    public init(name: String, reconciler: any Reconciler, workers: Int = 1, gate: LeadershipGate = .alwaysLeading(), errorPolicy: ErrorPolicy = .standard, rateLimiter: RetryRateLimiter = RetryRateLimiter(), clock: any RuntimeClock = SystemRuntimeClock(), metrics: RuntimeMetrics? = nil, logger: Logger) {
        self.name = name
        self.reconciler = reconciler
        self.workers = max(1, workers)
        self.gate = gate
        self.errorPolicy = errorPolicy
        self.clock = clock
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
        self.queue = WorkQueue(name: name, clock: clock, rateLimiter: rateLimiter, metrics: metrics)
        if let metrics {
            let queue = self.queue
            metrics.onCollect { await queue.updateProcessorGauges() }
        }
    }

    /// True once every watched informer has synced.
    public var cachesSynced: Bool { readiness.withLock { $0.allSatisfy { $0() } } }

    // MARK: wiring

    /// Reconciles the primary object itself on its changes.
    public func watchPrimary<Payload>(_ informer: Informer<Payload>, filter: ChangeFilter<Payload> = .everything) {
        track(informer)
        let queue = self.queue
        informer.subscribe { change in
            guard filter.accepts(change) else { return }
            await queue.add(change.object.key)
        }
    }

    /// Reconciles a child's controller owner when the child changes. Owners are found by
    /// kind through the `controller: true` owner reference; a namespaced child's owner is in
    /// its namespace, a cluster-scoped owner has none (`ownerNamespaced: false`).
    public func watchOwned<Payload>(_ informer: Informer<Payload>, ownerKind: String, ownerNamespaced: Bool = true) {
        watch(informer) { child in
            guard let owner = child.metadata.controllerReference, owner.kind == ownerKind else { return [] }
            return [ObjectKey(namespace: ownerNamespaced ? child.key.namespace : "", name: owner.name)]
        }
    }

    /// Reconciles whatever `map` answers when an object of another kind changes (e.g. every
    /// platform referencing a changed tier, found through a store index).
    public func watch<Payload>(_ informer: Informer<Payload>, map: @escaping @Sendable (CachedObject<Payload>) -> [ObjectKey]) {
        track(informer)
        let queue = self.queue
        informer.subscribe { change in
            var keys = map(change.object)
            if case .applied(_, let old?) = change { keys += map(old) }
            for key in Set(keys) { await queue.add(key) }
        }
    }

    private func track<Payload>(_ informer: Informer<Payload>) {
        readiness.withLock { $0.append { informer.hasSynced } }
    }

    // MARK: running

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.gate.waitUntilLeading() }
        } catch is CancellationError {
            await queue.shutDown()
            return
        }
        logger.info("starting workers", metadata: ["workers": "\(workers)"])
        let queue = self.queue
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<self.workers {
                    group.addTask { await self.workerLoop() }
                }
            }
        } onGracefulShutdown: {
            queue.beginShutDown()
        }
        logger.info("workers stopped")
    }

    private func workerLoop() async {
        let active = metrics?.activeWorkers(controller: name)
        while let key = await queue.next() {
            active?.increment()
            await process(key)
            active?.decrement()
            await queue.done(key)
        }
    }

    /// Runs one reconcile and schedules what follows. Internal so tests can drive one step.
    func process(_ key: ObjectKey) async {
        let reconcileID = UUID().uuidString.lowercased()
        var logger = self.logger
        logger[metadataKey: "object"] = "\(key)"
        logger[metadataKey: "reconcileID"] = "\(reconcileID)"
        let retries = await queue.retries(of: key)
        let context = ReconcileContext(logger: logger, reconcileID: reconcileID, retries: retries)
        let started = clock.now
        do {
            let requeue = try await reconciler.reconcile(key, context: context)
            await queue.forget(key)
            switch requeue {
            case .done:
                metrics?.reconcileFinished(controller: name, result: .success, duration: clock.now - started)
                logger.debug("reconciled", metadata: ["result": "success"])
            case .after(let delay):
                metrics?.reconcileFinished(controller: name, result: .requeueAfter, duration: clock.now - started)
                logger.debug("reconciled", metadata: ["result": "requeue_after", "requeueAfter": "\(delay)"])
                await queue.add(key, after: delay)
            }
        } catch {
            metrics?.reconcileFinished(controller: name, result: .error, duration: clock.now - started)
            switch errorPolicy.decide(error, key, retries) {
            case .backoff:
                let delay = await queue.addRateLimited(key)
                logger.error("reconcile failed; retrying", metadata: ["result": "error", "error": "\(error)", "retryIn": "\(delay)"])
            case .after(let delay):
                logger.error("reconcile failed; retrying", metadata: ["result": "error", "error": "\(error)", "retryIn": "\(delay)"])
                await queue.add(key, after: delay)
            case .giveUp:
                await queue.forget(key)
                logger.error("reconcile failed terminally; not retrying until the object changes", metadata: ["result": "terminal_error", "error": "\(error)"])
            }
        }
    }
}
