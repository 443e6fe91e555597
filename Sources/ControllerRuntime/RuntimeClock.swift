import Foundation
import Synchronization

/// A point on a runtime clock: the time elapsed since that clock started.
///
/// Comparing instants from two different clocks is meaningless; every component takes one
/// clock and keeps to it.
public struct RuntimeInstant: Sendable, Hashable, Comparable {
    public var sinceStart: Duration

    public init(sinceStart: Duration) { self.sinceStart = sinceStart }

    public static func < (lhs: RuntimeInstant, rhs: RuntimeInstant) -> Bool { lhs.sinceStart < rhs.sinceStart }
    public static func + (lhs: RuntimeInstant, rhs: Duration) -> RuntimeInstant { RuntimeInstant(sinceStart: lhs.sinceStart + rhs) }
    public static func - (lhs: RuntimeInstant, rhs: RuntimeInstant) -> Duration { lhs.sinceStart - rhs.sinceStart }
}

/// The source of time for queues, backoff, leader election and event aggregation.
///
/// Injected everywhere so tests run on virtual time (`ManualClock`) and never wait for real
/// seconds to pass.
public protocol RuntimeClock: Sendable {
    /// Monotonic time, used for every delay and deadline.
    var now: RuntimeInstant { get }
    /// Wall-clock time, used only for timestamps written to the API (Lease renewTime, Event times).
    var wallNow: Date { get }
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: RuntimeInstant) async throws
}

extension RuntimeClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

/// The real clock: `ContinuousClock` for delays, `Date()` for timestamps.
public struct SystemRuntimeClock: RuntimeClock {
    private let start: ContinuousClock.Instant

    public init() { start = ContinuousClock.now }

    public var now: RuntimeInstant { RuntimeInstant(sinceStart: ContinuousClock.now - start) }
    public var wallNow: Date { Date() }

    public func sleep(until deadline: RuntimeInstant) async throws {
        try await ContinuousClock().sleep(until: start + deadline.sinceStart, tolerance: nil)
    }
}

/// A virtual clock for tests: time stands still until `advance(by:)` moves it.
///
/// Guarantees:
/// - `advance(by:)` resumes every sleeper whose deadline has been reached, earliest first,
///   before it returns.
/// - `waitForSleepers(count:)` lets a test wait, without any real delay, until the code
///   under test has gone to sleep, so the next `advance` is observed deterministically.
public final class ManualClock: RuntimeClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: RuntimeInstant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = RuntimeInstant(sinceStart: .zero)
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var countWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let wallStart: Date

    public init(wallStart: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.wallStart = wallStart
    }

    public var now: RuntimeInstant { state.withLock { $0.now } }
    public var wallNow: Date { wallStart.addingTimeInterval(now.sinceStart.seconds) }

    /// How many tasks are currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: RuntimeInstant) async throws {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checking cancellation under the same lock as the append closes the race with
                // `onCancel`: either it sees the sleeper and removes it, or we see the flag.
                enum Outcome { case cancelled, due, sleeping([CheckedContinuation<Void, Never>]) }
                let outcome = state.withLock { s -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= s.now { return .due }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return .sleeping(Self.takeSatisfiedWaiters(&s))
                }
                switch outcome {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .sleeping(let waiters): for waiter in waiters { waiter.resume() }
                }
            }
        } onCancel: {
            let cancelled = state.withLock { s -> Sleeper? in
                guard let index = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now + duration
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once at least `count` tasks are sleeping on this clock.
    public func waitForSleepers(count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.countWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private static func takeSatisfiedWaiters(_ s: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = s.sleepers.count
        let ready = s.countWaiters.filter { $0.count <= count }.map(\.continuation)
        s.countWaiters.removeAll { $0.count <= count }
        return ready
    }
}

extension Duration {
    /// The duration in (fractional) seconds, for metrics and wall-clock arithmetic.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
