import HTTPTransport
import Testing

@testable import AWS

@Suite struct RetryStrategyTests {
    func serviceError(_ code: String, status: Int = 400) -> AWSError {
        AWSError(origin: .service, service: "rds", operation: "Op", code: code, message: "", status: status)
    }

    @Test func retryState_whenThrottled_retriesTwiceWithFullJitterThenGivesUp() {
        var quota = RetryQuota(capacity: 500)
        var state = RetryState()
        #expect(state.failed(.throttling, quota: &quota, random: 0.5) == .retry(after: .milliseconds(500)))
        #expect(state.failed(.throttling, quota: &quota, random: 0.5) == .retry(after: .seconds(1)))
        #expect(state.failed(.throttling, quota: &quota, random: 0.5) == .fail(.attemptsExhausted))
        #expect(state.attempts == 3)
        #expect(quota.available == 490)
    }

    @Test func retryState_backoffWindowGrowsExponentiallyAndIsCappedAtTwentySeconds() {
        var quota = RetryQuota(capacity: 10_000)
        var state = RetryState(strategy: RetryStrategy(maxAttempts: 10))
        var delays: [Duration] = []
        for _ in 0..<8 {
            if case .retry(let delay) = state.failed(.transient, quota: &quota, random: 0.999) { delays.append(delay) }
        }
        #expect(delays.count == 8)
        #expect(delays[0] < .seconds(1))
        #expect(delays[1] > .seconds(1.9) && delays[1] < .seconds(2))
        #expect(delays[4] > .seconds(15.9) && delays[4] < .seconds(16))
        // Past the cap the window stays 20 s and the jitter still applies inside it.
        #expect(delays[5] == .milliseconds(19_980))
        #expect(delays[7] == .milliseconds(19_980))
    }

    @Test func retryState_withZeroJitter_retriesImmediately() {
        var quota = RetryQuota(capacity: 500)
        var state = RetryState()
        #expect(state.failed(.transient, quota: &quota, random: 0) == .retry(after: .zero))
    }

    @Test func retryState_whenErrorIsNotRetryable_failsAtOnceWithoutTakingTokens() {
        var quota = RetryQuota(capacity: 500)
        var state = RetryState()
        #expect(state.failed(.notRetryable, quota: &quota, random: 0.3) == .fail(.notRetryable))
        #expect(quota.available == 500)
    }

    @Test func retryQuota_timeoutsCostTenAndRetriesFive_andEmptyQuotaStopsRetrying() {
        var quota = RetryQuota(capacity: 14)
        var first = RetryState()
        #expect(first.failed(.timeout, quota: &quota, random: 0) == .retry(after: .zero))
        #expect(quota.available == 4)
        var second = RetryState()
        #expect(second.failed(.throttling, quota: &quota, random: 0) == .fail(.quotaExhausted))
        #expect(quota.available == 4)
    }

    @Test func retryQuota_successAfterRetryReturnsItsCost_successWithoutRetryReturnsOne() {
        var quota = RetryQuota(capacity: 500)
        var retried = RetryState()
        _ = retried.failed(.throttling, quota: &quota, random: 0)
        _ = retried.failed(.timeout, quota: &quota, random: 0)
        #expect(quota.available == 485)
        retried.succeeded(quota: &quota)
        #expect(quota.available == 495)
        RetryState().succeeded(quota: &quota)
        #expect(quota.available == 496)
        for _ in 0..<10 { RetryState().succeeded(quota: &quota) }
        #expect(quota.available == 500)
    }

    @Test(arguments: Array(RetryStrategy.throttlingCodes))
    func classify_everyStandardThrottlingCode_isThrottling(_ code: String) {
        #expect(RetryStrategy.classify(serviceError(code)) == .throttling)
    }

    @Test(arguments: [500, 502, 503, 504])
    func classify_transientStatuses_areTransient(_ status: Int) {
        #expect(RetryStrategy.classify(serviceError("Whatever", status: status)) == .transient)
    }

    @Test(arguments: [
        ("RequestTimeout", 400, RetryStrategy.FailureClass.transient),
        ("RequestTimeoutException", 408, .transient),
        ("ValidationError", 400, .notRetryable),
        ("AccessDenied", 403, .notRetryable),
        ("DBInstanceNotFound", 404, .notRetryable),
        ("InternalFailure", 501, .notRetryable),
        ("InvalidParameterValue", 400, .notRetryable),
    ])
    func classify_otherServiceErrors(_ code: String, _ status: Int, _ expected: RetryStrategy.FailureClass) {
        #expect(RetryStrategy.classify(serviceError(code, status: status)) == expected)
    }

    @Test(arguments: [
        (HTTPTransportError.Kind.connectionRefused, RetryStrategy.FailureClass.transient),
        (.timedOut, .timeout),
        (.receiveFailed, .transient),
        (.sendFailed, .transient),
        (.invalidRequest, .notRetryable),
        (.responseTooLarge, .notRetryable),
        (.transportShutDown, .notRetryable),
    ])
    func classify_transportFailures(_ kind: HTTPTransportError.Kind, _ expected: RetryStrategy.FailureClass) {
        let error = AWSError.transport(
            HTTPTransportError(kind: kind, message: "m", method: "POST", url: "http://127.0.0.1:1/"), service: "rds", operation: "Op")
        #expect(RetryStrategy.classify(error) == expected)
    }

    @Test func classify_credentialAndDecodeFailures_areNeverRetried() {
        #expect(RetryStrategy.classify(AWSError(origin: .credentials, service: "s", operation: "o", code: "NoCredentials", message: "")) == .notRetryable)
        #expect(RetryStrategy.classify(AWSError(origin: .invalidResponse, service: "s", operation: "o", code: "InvalidResponse", message: "", status: 200)) == .notRetryable)
    }
}
