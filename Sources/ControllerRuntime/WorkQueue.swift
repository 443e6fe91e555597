import Synchronization

/// A rate-limited queue of object keys, with controller-runtime's guarantees.
///
/// Guarantees:
/// - A key is queued at most once however often it is added (dedupe).
/// - A key is never handed to two workers at once: adding it while it is being processed
///   marks it dirty, and it is queued again only when `done` is called.
/// - `add(_:after:)` keeps the earliest pending deadline per key; `addRateLimited` waits the
///   longer of the key's own exponential backoff and the queue's global retry budget;
///   `forget` resets the backoff.
/// - After `shutDown()`, `next()` answers nil to every waiting and future worker, and adds
///   are ignored.
///
/// Caveats: delays run on the injected clock, so with a `ManualClock` delayed keys appear
/// only when the test advances time.
public actor WorkQueue {
    public nonisolated let name: String
    /// Set synchronously by `beginShutDown()` so no key is handed out after a shutdown
    /// request, even before the actor has processed it.
    private nonisolated let stopping = Atomic<Bool>(false)
    private let clock: any RuntimeClock
    private var rateLimiter: RetryRateLimiter
    private let metrics: WorkQueueMetrics?

    private var queue: [ObjectKey] = []
    private var head = 0
    private var dirty: Set<ObjectKey> = []
    private var processing: [ObjectKey: RuntimeInstant] = [:]
    private var queuedAt: [ObjectKey: RuntimeInstant] = [:]
    /// Delayed keys and their deadlines. One timer task sleeps until the earliest of them (a
    /// delay queue, like kube-rs's scheduler) instead of one sleeping task per key, which at
    /// thousands of periodic requeues would cost a task each.
    private var waiting: [ObjectKey: RuntimeInstant] = [:]
    private var timer: (deadline: RuntimeInstant, task: Task<Void, Never>)?
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<ObjectKey?, Never>)] = []
    private var nextWaiterID: UInt64 = 0
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var shuttingDown = false

    public init(name: String, clock: any RuntimeClock = SystemRuntimeClock(), rateLimiter: RetryRateLimiter = RetryRateLimiter(), metrics: RuntimeMetrics? = nil) {
        self.name = name
        self.clock = clock
        self.rateLimiter = rateLimiter
        self.metrics = metrics?.workQueue(named: name)
    }

    /// Keys waiting to be handed out (not counting delayed or in-flight ones).
    public var depth: Int { queue.count - head }
    /// Keys currently being processed.
    public var inFlight: Set<ObjectKey> { Set(processing.keys) }
    /// Keys scheduled for later by `add(_:after:)` or `addRateLimited`.
    public var delayedCount: Int { waiting.count }
    public nonisolated var isShuttingDown: Bool { stopping.load(ordering: .acquiring) }

    /// Queues `key` unless it is already queued; if it is being processed it is re-queued
    /// once that finishes.
    public func add(_ key: ObjectKey) {
        guard !shuttingDown else { return }
        guard !dirty.contains(key) else { return }
        dirty.insert(key)
        metrics?.adds.increment()
        if processing[key] != nil { return }
        enqueue(key)
    }

    /// Queues `key` once `delay` has passed; an earlier pending deadline for the same key wins.
    public func add(_ key: ObjectKey, after delay: Duration) {
        guard !shuttingDown else { return }
        if delay <= .zero { add(key); return }
        let deadline = clock.now + delay
        if let pending = waiting[key], pending <= deadline { return }
        waiting[key] = deadline
        scheduleTimer()
    }

    /// Queues `key` after its retry delay and counts a retry.
    @discardableResult
    public func addRateLimited(_ key: ObjectKey) -> Duration {
        guard !shuttingDown else { return .zero }
        let delay = rateLimiter.delay(for: key.description, at: clock.now)
        metrics?.retries.increment()
        add(key, after: delay)
        return delay
    }

    /// Resets `key`'s backoff; call it after a successful reconcile.
    public func forget(_ key: ObjectKey) {
        rateLimiter.forget(key.description)
    }

    /// How many times `key` has been retried since it was last forgotten.
    public func retries(of key: ObjectKey) -> Int { rateLimiter.retries(of: key.description) }

    /// The next key to process, waiting for one if the queue is empty; nil once shut down.
    /// The caller must call `done(_:)` with the key when finished.
    public func next() async -> ObjectKey? {
        if isShuttingDown { return nil }
        if let key = takeNext() { return key }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Marks `key` as no longer processed, re-queueing it if it was added meanwhile.
    public func done(_ key: ObjectKey) {
        guard let started = processing.removeValue(forKey: key) else { return }
        metrics?.workDuration.record(clock.now - started)
        if dirty.contains(key) && !shuttingDown {
            enqueue(key)
        }
        if processing.isEmpty {
            let drained = drainWaiters
            drainWaiters = []
            for waiter in drained { waiter.resume() }
        }
    }

    /// Stops handing out keys at once, from any context (e.g. a graceful-shutdown handler);
    /// the rest of `shutDown()` follows asynchronously.
    public nonisolated func beginShutDown() {
        stopping.store(true, ordering: .releasing)
        Task { await self.shutDown() }
    }

    /// Stops handing out keys: waiting workers get nil, pending timers are cancelled.
    public func shutDown() {
        stopping.store(true, ordering: .releasing)
        shuttingDown = true
        timer?.task.cancel()
        timer = nil
        waiting = [:]
        let parked = waiters
        waiters = []
        for waiter in parked { waiter.continuation.resume(returning: nil) }
    }

    /// Shuts down and returns once every in-flight key has been marked done.
    public func shutDownWithDrain() async {
        shutDown()
        if processing.isEmpty { return }
        await withCheckedContinuation { drainWaiters.append($0) }
    }

    /// Samples the in-flight gauges; called before each metrics scrape.
    public func updateProcessorGauges() {
        let now = clock.now
        let running = processing.values.map { now - $0 }
        metrics?.longestRunning.set(running.max()?.seconds ?? 0)
        metrics?.unfinishedWork.set(running.reduce(0) { $0 + $1.seconds })
    }

    /// How long the longest in-flight key has been processed, for tests and probes.
    public var longestRunning: Duration {
        let now = clock.now
        return processing.values.map { now - $0 }.max() ?? .zero
    }

    // MARK: private

    private func enqueue(_ key: ObjectKey) {
        queuedAt[key] = clock.now
        if !isShuttingDown, let index = waiters.indices.first {
            let waiter = waiters.remove(at: index)
            hand(key)
            waiter.continuation.resume(returning: key)
            return
        }
        queue.append(key)
        metrics?.depth.set(Double(depth))
    }

    private func takeNext() -> ObjectKey? {
        // Once shut down, queued keys are dropped rather than started: draining waits only
        // for in-flight work, like controller-runtime's ShutDownWithDrain.
        guard !isShuttingDown, head < queue.count else { return nil }
        let key = queue[head]
        head += 1
        if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        metrics?.depth.set(Double(depth))
        hand(key)
        return key
    }

    private func hand(_ key: ObjectKey) {
        dirty.remove(key)
        let now = clock.now
        processing[key] = now
        if let since = queuedAt.removeValue(forKey: key) {
            metrics?.queueDuration.record(now - since)
        }
    }

    /// Makes sure the timer wakes at the earliest pending deadline.
    private func scheduleTimer() {
        guard let earliest = waiting.values.min() else {
            timer?.task.cancel()
            timer = nil
            return
        }
        if let timer, timer.deadline <= earliest { return }
        timer?.task.cancel()
        let clock = self.clock
        let task = Task { [weak self] in
            do { try await clock.sleep(until: earliest) } catch { return }
            await self?.fireDueKeys()
        }
        timer = (earliest, task)
    }

    private func fireDueKeys() {
        timer = nil
        let now = clock.now
        let due = waiting.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        for (key, _) in due {
            waiting.removeValue(forKey: key)
            add(key)
        }
        scheduleTimer()
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: nil)
    }
}
