import Foundation
import HTTPTransport

/// The SDKs' "standard" retry mode as plain values: which failures to retry, how long to
/// wait, and the client-wide retry quota that stops retry storms.
///
/// Guarantees (as the AWS SDK reference defines standard mode): at most `maxAttempts`
/// attempts (3); delay before retry n (1-based) is `random * min(2^(n-1), maxBackoff)`
/// seconds, full jitter with a 20 s cap; each retry takes `retryCost` (5) tokens from the
/// quota, or `timeoutRetryCost` (10) after a timeout; a success without retry returns
/// `successIncrement` (1) token, and a success after retries returns what the last retry took.
/// With the quota empty, failures surface at once.
public struct RetryStrategy: Sendable, Equatable {
    public var maxAttempts: Int
    public var maxBackoff: Duration
    public var initialQuota: Int
    public var retryCost: Int
    public var timeoutRetryCost: Int
    public var successIncrement: Int

    public init(
        maxAttempts: Int = 3, maxBackoff: Duration = .seconds(20), initialQuota: Int = 500, retryCost: Int = 5,
        timeoutRetryCost: Int = 10, successIncrement: Int = 1
    ) {
        self.maxAttempts = maxAttempts
        self.maxBackoff = maxBackoff
        self.initialQuota = initialQuota
        self.retryCost = retryCost
        self.timeoutRetryCost = timeoutRetryCost
        self.successIncrement = successIncrement
    }

    public static let standard = RetryStrategy()

    /// Error codes that mean "slow down", from the SDKs' standard-mode list.
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    /// Error codes of transient server-side failures.
    public static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException"]
    public static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    /// How a failure counts for retrying.
    public enum FailureClass: Sendable, Equatable {
        case throttling
        case transient
        /// A transient failure that cost time (timeout); it takes more quota.
        case timeout
        case notRetryable
    }

    public static func classify(_ error: AWSError) -> FailureClass {
        switch error.origin {
        case .transport:
            switch error.transportFailure {
            case .timedOut: return .timeout
            case .connectionRefused, .couldNotResolveHost, .sendFailed, .receiveFailed, .tlsFailure, .other:
                return .transient
            default: return .notRetryable
            }
        case .service:
            if throttlingCodes.contains(error.code) { return .throttling }
            if transientCodes.contains(error.code) { return .transient }
            if let status = error.status, transientStatuses.contains(status) { return .transient }
            return .notRetryable
        case .invalidResponse, .credentials:
            return .notRetryable
        }
    }
}

/// The client-wide token bucket behind `RetryStrategy`; shared by every call of one client.
public struct RetryQuota: Sendable, Equatable {
    public private(set) var available: Int
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        available = capacity
    }

    /// Takes `cost` tokens if there are that many.
    public mutating func acquire(_ cost: Int) -> Bool {
        guard available >= cost else { return false }
        available -= cost
        return true
    }

    public mutating func release(_ amount: Int) { available = min(capacity, available + amount) }
}

/// One call's way through its attempts; a value type whose methods say what to do next.
///
/// The random source is a parameter so tests can fix the jitter; nothing here sleeps.
public struct RetryState: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case retry(after: Duration)
        /// Surface the failure: not retryable, attempts used up, or quota empty.
        case fail(Reason)
    }

    public enum Reason: Sendable, Equatable {
        case notRetryable
        case attemptsExhausted
        case quotaExhausted
    }

    public let strategy: RetryStrategy
    /// Attempts made so far (the one that just finished included).
    public private(set) var attempts = 1
    /// Tokens the latest retry took, returned on success.
    public private(set) var lastRetryCost = 0

    public init(strategy: RetryStrategy = .standard) { self.strategy = strategy }

    /// Call after a failed attempt; `random` is uniform in [0, 1).
    public mutating func failed(
        _ failure: RetryStrategy.FailureClass, quota: inout RetryQuota, random: Double
    ) -> Decision {
        if failure == .notRetryable { return .fail(.notRetryable) }
        guard attempts < strategy.maxAttempts else { return .fail(.attemptsExhausted) }
        let cost = failure == .timeout ? strategy.timeoutRetryCost : strategy.retryCost
        guard quota.acquire(cost) else { return .fail(.quotaExhausted) }
        lastRetryCost = cost
        let ceiling = Double(1 << min(attempts - 1, 30))
        let cap = strategy.maxBackoff.components
        // Jitter over the capped window (as botocore computes it), so capped retries still spread out.
        let seconds = max(random, 0) * min(ceiling, Double(cap.seconds) + Double(cap.attoseconds) / 1e18)
        attempts += 1
        return .retry(after: .nanoseconds(Int64((seconds * 1e9).rounded())))
    }

    /// Call after a successful attempt.
    public func succeeded(quota: inout RetryQuota) {
        quota.release(lastRetryCost > 0 ? lastRetryCost : strategy.successIncrement)
    }
}
