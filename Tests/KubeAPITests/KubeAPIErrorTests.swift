import HTTPTransport
import JSON
@testable import KubeAPI
import Testing

private let target = ObjectTarget(.deployments, "prod", "search", nil)

private func statusBody(code: Int, reason: String, message: String, details: JSONValue? = nil) -> [UInt8] {
    var status: JSONValue = [
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "message": .string(message), "reason": .string(reason),
        "code": .int(Int64(code)),
    ]
    if let details { status["details"] = details }
    return status.serializedBytes()
}

struct KubeAPIErrorTests {
    @Test(arguments: [
        (400, "BadRequest", KubeAPIError.Kind.badRequest),
        (401, "Unauthorized", .unauthorized),
        (403, "Forbidden", .forbidden),
        (404, "NotFound", .notFound),
        (405, "MethodNotAllowed", .methodNotAllowed),
        (409, "AlreadyExists", .alreadyExists),
        (409, "Conflict", .conflict),
        (410, "Expired", .resourceVersionTooOld),
        (410, "Gone", .resourceVersionTooOld),
        (410, "SomethingElse", .gone),
        (413, "RequestEntityTooLarge", .requestEntityTooLarge),
        (415, "UnsupportedMediaType", .unsupportedMediaType),
        (422, "Invalid", .invalid),
        (429, "TooManyRequests", .tooManyRequests),
        (500, "InternalError", .serverError),
        (500, "Timeout", .timeout),
        (502, "", .serverError),
        (503, "ServiceUnavailable", .serviceUnavailable),
        (504, "Timeout", .timeout),
        (418, "", .unexpectedStatus),
    ])
    func from_statusBody_mapsCodeAndReasonToKind(code: Int, reason: String, kind: KubeAPIError.Kind) {
        let error = KubeAPIError.from(
            status: code, headers: [:], body: statusBody(code: code, reason: reason, message: "server says \(code)"),
            verb: "get", target: target)
        #expect(error.kind == kind)
        #expect(error.status == code)
        #expect(error.message == "server says \(code)")
        #expect(error.reason == reason)
        #expect(error.verb == "get")
        #expect(error.target == target)
        #expect(error.description.hasPrefix("get deployments.apps prod/search: \(kind.rawValue) (HTTP \(code)): server says \(code)"))
    }

    @Test func from_invalidStatus_carriesFieldCauses() {
        let details: JSONValue = [
            "name": "search", "kind": "Deployment",
            "causes": [
                ["reason": "FieldValueRequired", "message": "Required value", "field": "spec.template.spec.containers"],
                ["reason": "FieldValueInvalid", "message": "must be positive", "field": "spec.replicas"],
            ],
        ]
        let error = KubeAPIError.from(
            status: 422, headers: [:], body: statusBody(code: 422, reason: "Invalid", message: "Deployment is invalid", details: details),
            verb: "create", target: target)
        #expect(error.kind == .invalid)
        #expect(error.causes == [
            .init(field: "spec.template.spec.containers", reason: "FieldValueRequired", message: "Required value"),
            .init(field: "spec.replicas", reason: "FieldValueInvalid", message: "must be positive"),
        ])
        #expect(error.description.contains("spec.replicas: must be positive"))
    }

    @Test func from_tooManyRequests_readsRetryAfterHeaderThenDetails() {
        let fromHeader = KubeAPIError.from(
            status: 429, headers: ["Retry-After": " 7 "], body: statusBody(code: 429, reason: "TooManyRequests", message: "slow down"),
            verb: "list", target: target)
        #expect(fromHeader.retryAfter == .seconds(7))
        let fromDetails = KubeAPIError.from(
            status: 429, headers: [:],
            body: statusBody(code: 429, reason: "TooManyRequests", message: "slow down", details: ["retryAfterSeconds": 3]),
            verb: "list", target: target)
        #expect(fromDetails.retryAfter == .seconds(3))
    }

    @Test func from_htmlBodyFromProxy_keepsShortPrintableExcerpt() {
        let html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>" + String(repeating: "x", count: 500) + "</body></html>"
        let error = KubeAPIError.from(status: 502, headers: [:], body: Array(html.utf8), verb: "get", target: target)
        #expect(error.kind == .serverError)
        #expect(error.reason == nil)
        #expect(error.message.hasPrefix("<html> <head><title>502 Bad Gateway</title></head> <body>xxx"))
        #expect(error.message.hasSuffix("…"))
        #expect(!error.message.contains("\n"))
        #expect(error.message.count < 320)
    }

    @Test func fromWatchStatus_expiredErrorEvent_isResourceVersionTooOld() {
        let status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired",
            "message": "too old resource version: 10 (200)",
        ]
        let error = KubeAPIError.fromWatchStatus(status, verb: "watch", target: target)
        #expect(error.kind == .resourceVersionTooOld)
        #expect(error.message == "too old resource version: 10 (200)")
    }

    @Test func requestAttempts_refreshOnceOn401ThenRetryThrottlingUpToTheLimit() {
        func error(_ kind: KubeAPIError.Kind, retryAfter: Duration? = nil) -> KubeAPIError {
            KubeAPIError(kind: kind, verb: "get", target: target, status: 0, message: "", retryAfter: retryAfter)
        }
        var attempts = RequestAttempts(retry: RetryPolicy(maxRetries: 2))
        #expect(attempts.decide(after: error(.unauthorized)) == .refreshCredentialsAndResend)
        #expect(attempts.decide(after: error(.tooManyRequests, retryAfter: .seconds(5))) == .resend(after: .seconds(5)))
        #expect(attempts.decide(after: error(.unauthorized)) == .fail)
        #expect(attempts.decide(after: error(.serviceUnavailable, retryAfter: .seconds(2))) == .resend(after: .seconds(2)))
        #expect(attempts.decide(after: error(.tooManyRequests)) == .fail)
        var fresh = RequestAttempts(retry: RetryPolicy())
        #expect(fresh.decide(after: error(.conflict)) == .fail)
        #expect(fresh.decide(after: error(.notFound)) == .fail)
    }

    @Test func retryPolicy_retriesOnlyThrottlingAndAnnouncedUnavailability() {
        let policy = RetryPolicy(maxRetries: 2, defaultDelay: .seconds(1), maxDelay: .seconds(10))
        func error(_ kind: KubeAPIError.Kind, retryAfter: Duration?) -> KubeAPIError {
            KubeAPIError(kind: kind, verb: "get", target: target, status: 0, message: "", retryAfter: retryAfter)
        }
        #expect(policy.delay(after: error(.tooManyRequests, retryAfter: .seconds(4)), attempt: 0) == .seconds(4))
        #expect(policy.delay(after: error(.tooManyRequests, retryAfter: nil), attempt: 1) == .seconds(1))
        #expect(policy.delay(after: error(.tooManyRequests, retryAfter: .seconds(60)), attempt: 0) == .seconds(10))
        #expect(policy.delay(after: error(.tooManyRequests, retryAfter: nil), attempt: 2) == nil)
        #expect(policy.delay(after: error(.serviceUnavailable, retryAfter: .seconds(2)), attempt: 0) == .seconds(2))
        #expect(policy.delay(after: error(.serviceUnavailable, retryAfter: nil), attempt: 0) == nil)
        #expect(policy.delay(after: error(.serverError, retryAfter: .seconds(1)), attempt: 0) == nil)
        #expect(policy.delay(after: error(.conflict, retryAfter: nil), attempt: 0) == nil)
    }
}
