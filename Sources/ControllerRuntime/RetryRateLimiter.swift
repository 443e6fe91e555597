/// Per-key exponential backoff: how long a failing key waits before its next attempt.
///
/// Guarantees: the first failure waits `base`, each further failure doubles the wait, never
/// beyond `cap`; `forget` (after a success) starts the key over from `base`.
public struct ExponentialBackoff: Sendable {
    public var base: Duration
    public var cap: Duration
    private var failures: [String: Int] = [:]

    /// Defaults match controller-runtime: 5 ms doubling to 1000 s.
    public init(base: Duration = .milliseconds(5), cap: Duration = .seconds(1000)) {
        self.base = base
        self.cap = cap
    }

    /// Records one more failure of `key` and answers how long it should wait.
    public mutating func nextDelay(for key: String) -> Duration {
        let attempts = failures[key, default: 0]
        failures[key] = attempts + 1
        return delay(afterFailures: attempts)
    }

    public func failureCount(for key: String) -> Int { failures[key, default: 0] }

    public mutating func forget(_ key: String) { failures.removeValue(forKey: key) }

    private func delay(afterFailures attempts: Int) -> Duration {
        // Past 2^40 the doubling overflows long before any sane cap matters.
        if attempts >= 40 { return cap }
        let delay = base * (1 << attempts)
        return min(delay, cap)
    }
}

/// A token bucket: a global retry budget shared by every key of a queue.
///
/// Works by reservation (like Go's `rate.Limiter.Reserve`): each call takes a token now or
/// the earliest future one, and answers how long the caller must wait for it, so a storm
/// of failures spreads out at `tokensPerSecond` after the first `burst`.
public struct TokenBucket: Sendable {
    public let tokensPerSecond: Double
    public let burst: Int
    private var tokens: Double
    private var updatedAt: RuntimeInstant?

    /// Defaults match controller-runtime: 10 per second, burst 100.
    public init(tokensPerSecond: Double = 10, burst: Int = 100) {
        precondition(tokensPerSecond > 0 && burst > 0, "a token bucket needs a positive rate and burst")
        self.tokensPerSecond = tokensPerSecond
        self.burst = burst
        self.tokens = Double(burst)
    }

    /// Takes a token if one is available now; never goes into debt.
    public mutating func tryTake(at now: RuntimeInstant) -> Bool {
        if let updatedAt, now > updatedAt {
            tokens = min(Double(burst), tokens + (now - updatedAt).seconds * tokensPerSecond)
        }
        if updatedAt == nil || now > updatedAt! { updatedAt = now }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Takes one token and returns the wait until it is really available (zero if it is now).
    public mutating func reserve(at now: RuntimeInstant) -> Duration {
        if let updatedAt, now > updatedAt {
            tokens = min(Double(burst), tokens + (now - updatedAt).seconds * tokensPerSecond)
        }
        if updatedAt == nil || now > updatedAt! { updatedAt = now }
        tokens -= 1
        if tokens >= 0 { return .zero }
        let waitSeconds = -tokens / tokensPerSecond
        return .nanoseconds(Int64((waitSeconds * 1e9).rounded(.up)))
    }
}

/// The retry delay for a failed key: the longer of its own backoff and the global budget.
///
/// Same combination as controller-runtime's default (`MaxOf` per-item exponential and a
/// bucket), so one bad object backs off alone while a cluster-wide failure is throttled.
public struct RetryRateLimiter: Sendable {
    public var backoff: ExponentialBackoff
    public var bucket: TokenBucket

    public init(backoff: ExponentialBackoff = ExponentialBackoff(), bucket: TokenBucket = TokenBucket()) {
        self.backoff = backoff
        self.bucket = bucket
    }

    public mutating func delay(for key: String, at now: RuntimeInstant) -> Duration {
        let own = backoff.nextDelay(for: key)
        let global = bucket.reserve(at: now)
        return max(own, global)
    }

    public func retries(of key: String) -> Int { backoff.failureCount(for: key) }

    public mutating func forget(_ key: String) { backoff.forget(key) }
}
