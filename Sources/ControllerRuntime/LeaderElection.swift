import Foundation
import JSON

/// The fields of a `coordination.k8s.io/v1` Lease that leader election reads and writes.
public struct LeaseRecord: Sendable, Hashable {
    public var holderIdentity: String
    public var leaseDurationSeconds: Int
    public var acquireTime: String
    public var renewTime: String
    public var leaseTransitions: Int

    public init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: String, renewTime: String, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }

    public init(lease: JSONValue) {
        let spec = lease["spec"]
        self.init(
            holderIdentity: spec["holderIdentity"].stringValue ?? "",
            leaseDurationSeconds: Int(spec["leaseDurationSeconds"].intValue ?? 0),
            acquireTime: spec["acquireTime"].stringValue ?? "",
            renewTime: spec["renewTime"].stringValue ?? "",
            leaseTransitions: Int(spec["leaseTransitions"].intValue ?? 0)
        )
    }

    /// The Lease `spec`; empty fields are left out, as the API server omits them.
    public var spec: JSONValue {
        var spec: JSONValue = ["leaseDurationSeconds": .int(Int64(leaseDurationSeconds)), "leaseTransitions": .int(Int64(leaseTransitions))]
        if !holderIdentity.isEmpty { spec["holderIdentity"] = .string(holderIdentity) }
        if !acquireTime.isEmpty { spec["acquireTime"] = .string(acquireTime) }
        if !renewTime.isEmpty { spec["renewTime"] = .string(renewTime) }
        return spec
    }
}

/// Timings of leader election; every default is client-go's and controller-runtime's.
public struct LeaderElectionTiming: Sendable, Hashable {
    /// How long a non-leader waits after the last observed renewal before taking over. Default 15 s.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before giving up leadership. Default 10 s.
    public var renewDeadline: Duration
    /// The wait between attempts, leader or not. Default 2 s.
    public var retryPeriod: Duration

    public init(leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        precondition(leaseDuration > renewDeadline && renewDeadline > retryPeriod, "leader election needs leaseDuration > renewDeadline > retryPeriod")
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}

/// Leader election over one Lease as a value-type state machine: the async driver reads the
/// Lease, asks for a decision, performs the write, and reports the outcome.
///
/// Guarantees (same rules as client-go's `tryAcquireOrRenew`):
/// - Another holder's lease is respected until `leaseDuration` has passed since *we* last saw
///   its record change, measured on our own monotonic clock, so clock skew between replicas
///   does not matter.
/// - A leader that cannot renew for `renewDeadline` stops leading, before its lease can
///   expire for the others (`renewDeadline < leaseDuration`).
/// - Releasing clears `holderIdentity` and sets `leaseDurationSeconds` to 1, so a successor
///   takes over within a second instead of waiting out the lease.
public struct LeaderElectionStateMachine: Sendable {
    public enum Decision: Sendable, Equatable {
        /// No Lease exists: create one holding it.
        case create(LeaseRecord)
        /// Write this record with the Lease's resourceVersion as precondition.
        case update(LeaseRecord, resourceVersion: String)
        /// Someone else holds a live lease: try again at the next retry.
        case standBy
    }

    public enum Transition: Sendable, Equatable {
        case startedLeading
        case stoppedLeading
    }

    public let identity: String
    public let timing: LeaderElectionTiming
    public private(set) var isLeader = false
    private var observedRecord: LeaseRecord?
    private var observedAt: RuntimeInstant?
    private var lastRenewal: RuntimeInstant?
    private var pendingRecord: LeaseRecord?

    public init(identity: String, timing: LeaderElectionTiming = LeaderElectionTiming()) {
        self.identity = identity
        self.timing = timing
    }

    /// Decides what to do given the Lease as just read (nil when it does not exist).
    public mutating func decide(lease: LeaseRecord?, resourceVersion: String, now: RuntimeInstant, wallNow: Date) -> Decision {
        let stamp = KubernetesTime.micro(wallNow)
        guard let lease else {
            let record = LeaseRecord(holderIdentity: identity, leaseDurationSeconds: Self.wholeSeconds(timing.leaseDuration), acquireTime: stamp, renewTime: stamp, leaseTransitions: 0)
            pendingRecord = record
            return .create(record)
        }
        if lease != observedRecord {
            observedRecord = lease
            observedAt = now
        }
        let heldByOther = !lease.holderIdentity.isEmpty && lease.holderIdentity != identity
        let expiresAt = (observedAt ?? now) + .seconds(max(lease.leaseDurationSeconds, 0))
        if heldByOther && expiresAt > now {
            pendingRecord = nil
            return .standBy
        }
        var record = lease
        record.holderIdentity = identity
        record.leaseDurationSeconds = Self.wholeSeconds(timing.leaseDuration)
        record.renewTime = stamp
        if lease.holderIdentity != identity {
            record.acquireTime = stamp
            record.leaseTransitions = lease.leaseTransitions + 1
        }
        pendingRecord = record
        return .update(record, resourceVersion: resourceVersion)
    }

    /// The create or update from the last decision was accepted.
    public mutating func writeSucceeded(now: RuntimeInstant) -> Transition? {
        if let pendingRecord {
            observedRecord = pendingRecord
            observedAt = now
        }
        pendingRecord = nil
        lastRenewal = now
        if isLeader { return nil }
        isLeader = true
        return .startedLeading
    }

    /// A read or write failed, or the decision was to stand by.
    public mutating func attemptFailed(now: RuntimeInstant) -> Transition? {
        pendingRecord = nil
        guard isLeader else { return nil }
        if let lastRenewal, now - lastRenewal < timing.renewDeadline,
           observedRecord?.holderIdentity == identity {
            return nil
        }
        isLeader = false
        return .stoppedLeading
    }

    /// The record that gives the lease up, or nil when we do not hold it.
    public mutating func release(wallNow: Date) -> LeaseRecord? {
        guard isLeader, var record = observedRecord, record.holderIdentity == identity else { return nil }
        isLeader = false
        record.holderIdentity = ""
        record.leaseDurationSeconds = 1
        record.acquireTime = KubernetesTime.micro(wallNow)
        record.renewTime = KubernetesTime.micro(wallNow)
        return record
    }

    /// While leading, the instant by which a renewal must have succeeded; an attempt still
    /// running then is abandoned, so a hung request cannot keep a stale leader leading.
    public var renewalDeadline: RuntimeInstant? {
        guard isLeader, let lastRenewal else { return nil }
        return lastRenewal + timing.renewDeadline
    }

    /// When to try again: every `retryPeriod`, leader or not.
    public func nextAttempt(after now: RuntimeInstant) -> RuntimeInstant { now + timing.retryPeriod }

    private static func wholeSeconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds))
    }
}
