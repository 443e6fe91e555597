import JSON
import Logging
import ServiceLifecycle
import Synchronization

/// Lets controllers wait for leadership; every replica has one, only the leader's opens.
public final class LeadershipGate: Sendable {
    private struct State {
        var leading = false
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }
    private let state = Mutex(State())

    /// A gate that is open from the start, for runs without leader election.
    public static func alwaysLeading() -> LeadershipGate {
        let gate = LeadershipGate()
        gate.open()
        return gate
    }

    public init() {}

    public var isLeading: Bool { state.withLock { $0.leading } }

    /// Returns once this replica leads (at once if it already does); throws
    /// `CancellationError` if the task is cancelled first.
    public func waitUntilLeading() async throws {
        let id = UInt64.random(in: 0...UInt64.max)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let open = state.withLock { s -> Bool? in
                    if s.leading { return true }
                    if Task.isCancelled { return false }
                    s.waiters.append((id, continuation))
                    return nil
                }
                switch open {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.leading = true
            defer { s.waiters = [] }
            return s.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    func close() { state.withLock { $0.leading = false } }
}

/// Why leader election ended the process.
public struct LeaderElectionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// Leadership was lost (renew deadline passed or another holder took over). Like
    /// controller-runtime, we stop rather than risk two leaders reconciling at once.
    public static let leadershipLost = LeaderElectionError(description: "leader election lost")
}

/// Drives `LeaderElectionStateMachine` against a real Lease and opens the `LeadershipGate`.
///
/// Guarantees: on graceful shutdown the lease is released (holder cleared, duration 1 s)
/// after `beforeRelease` (the controllers' drain) has finished. Caveats: losing leadership
/// throws `LeaderElectionError.leadershipLost`, which ends the `ServiceGroup`; the pod restarts.
public final class LeaderElector: ServiceLifecycle.Service, Sendable {
    public let gate: LeadershipGate
    private let lease: ObjectKey
    private let client: any ResourceClient
    private let clock: any RuntimeClock
    private let machine: Mutex<LeaderElectionStateMachine>
    private let logger: Logger
    private let metrics: RuntimeMetrics?

    public init(lease: ObjectKey, identity: String, timing: LeaderElectionTiming = LeaderElectionTiming(), client: any ResourceClient, gate: LeadershipGate = LeadershipGate(), clock: any RuntimeClock = SystemRuntimeClock(), metrics: RuntimeMetrics? = nil, logger: Logger) {
        self.lease = lease
        self.client = client
        self.clock = clock
        self.gate = gate
        self.machine = Mutex(LeaderElectionStateMachine(identity: identity, timing: timing))
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "lease"] = "\(lease)"
        logger[metadataKey: "identity"] = "\(identity)"
        self.logger = logger
    }

    public var isLeader: Bool { machine.withLock { $0.isLeader } }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.electionLoop() }
        } catch is CancellationError {}
        // A fresh task: when run() itself was cancelled, requests made from it would be
        // cancelled too, and the successor would wait out the whole lease.
        await Task { await self.release() }.value
    }

    private func electionLoop() async throws {
        while !Task.isCancelled {
            let transition = await attemptWithinRenewDeadline()
            switch transition {
            case .startedLeading?:
                logger.info("became leader")
                metrics?.leaderElectionStatus(name: lease.name).set(Double(1))
                gate.open()
            case .stoppedLeading?:
                logger.error("lost leadership")
                metrics?.leaderElectionStatus(name: lease.name).set(Double(0))
                gate.close()
                throw LeaderElectionError.leadershipLost
            case nil:
                break
            }
            let next = machine.withLock { $0.nextAttempt(after: clock.now) }
            try await clock.sleep(until: next)
        }
    }

    /// Like client-go, a leader's attempt is bounded by the renew deadline: past it the
    /// attempt is cancelled and counted as failed, which ends leadership.
    private func attemptWithinRenewDeadline() async -> LeaderElectionStateMachine.Transition? {
        guard let deadline = machine.withLock({ $0.renewalDeadline }) else { return await attempt() }
        enum Outcome: Sendable { case finished(LeaderElectionStateMachine.Transition?), deadlinePassed }
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask { .finished(await self.attempt()) }
            group.addTask {
                do { try await self.clock.sleep(until: deadline) } catch { return nil }
                return .deadlinePassed
            }
            var first: Outcome = .deadlinePassed
            for await result in group {
                if let result { first = result; break }
            }
            group.cancelAll()
            return first
        }
        switch outcome {
        case .finished(let transition):
            return transition
        case .deadlinePassed:
            logger.warning("renewing the lease took longer than the renew deadline")
            return machine.withLock { $0.attemptFailed(now: clock.now) }
        }
    }

    private func attempt() async -> LeaderElectionStateMachine.Transition? {
        let current: JSONValue?
        do {
            current = try await client.get(.leases, namespace: lease.namespaceOrNil, name: lease.name)
        } catch let error as ResourceClientError where error.isNotFound {
            current = nil
        } catch {
            // An attempt abandoned at the renew deadline leaves the verdict to the caller.
            if Task.isCancelled { return nil }
            logger.debug("reading the lease failed", metadata: ["error": "\(error)"])
            return machine.withLock { $0.attemptFailed(now: clock.now) }
        }
        if Task.isCancelled { return nil }
        let decision = machine.withLock { m in
            m.decide(lease: current.map(LeaseRecord.init(lease:)), resourceVersion: current?[path: ["metadata", "resourceVersion"]].stringValue ?? "", now: clock.now, wallNow: clock.wallNow)
        }
        do {
            switch decision {
            case .standBy:
                return machine.withLock { $0.attemptFailed(now: clock.now) }
            case .create(let record):
                _ = try await client.create(.leases, namespace: lease.namespaceOrNil, object: leaseObject(record, resourceVersion: nil))
            case .update(let record, let resourceVersion):
                _ = try await client.replace(.leases, namespace: lease.namespaceOrNil, name: lease.name, object: leaseObject(record, resourceVersion: resourceVersion))
            }
            return machine.withLock { $0.writeSucceeded(now: clock.now) }
        } catch {
            if Task.isCancelled { return nil }
            logger.debug("writing the lease failed", metadata: ["error": "\(error)"])
            return machine.withLock { $0.attemptFailed(now: clock.now) }
        }
    }

    /// Gives the lease up so a successor need not wait out the lease duration.
    private func release() async {
        gate.close()
        guard let record = machine.withLock({ $0.release(wallNow: clock.wallNow) }) else { return }
        metrics?.leaderElectionStatus(name: lease.name).set(Double(0))
        do {
            let current = try await client.get(.leases, namespace: lease.namespaceOrNil, name: lease.name)
            guard LeaseRecord(lease: current).holderIdentity == machine.withLock({ $0.identity }) else { return }
            _ = try await client.replace(.leases, namespace: lease.namespaceOrNil, name: lease.name, object: leaseObject(record, resourceVersion: current[path: ["metadata", "resourceVersion"]].stringValue))
            logger.info("released the lease")
        } catch {
            logger.warning("releasing the lease failed; the next leader waits for it to expire", metadata: ["error": "\(error)"])
        }
    }

    private func leaseObject(_ record: LeaseRecord, resourceVersion: String?) -> JSONValue {
        var metadata: JSONValue = ["name": .string(lease.name)]
        if !lease.namespace.isEmpty { metadata["namespace"] = .string(lease.namespace) }
        if let resourceVersion, !resourceVersion.isEmpty { metadata["resourceVersion"] = .string(resourceVersion) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": record.spec]
    }
}
