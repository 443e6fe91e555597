import Foundation
import HTTPTransport
import JSON

/// A failed API call: which verb on which object, and what the server (or the network)
/// said, with the HTTP status decoded into a case callers can switch on.
///
/// Guarantees: built from the response's `metav1.Status` when there is one, otherwise
/// from a short, printable excerpt of the body (an HTML page from a proxy, say). Request
/// headers and credentials never appear.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as far as a caller's decision is concerned.
    public enum Kind: String, Sendable, Equatable {
        case badRequest
        case unauthorized
        case forbidden
        case notFound
        case methodNotAllowed
        case alreadyExists
        case conflict
        /// 410 for a reason other than an expired resource version.
        case gone
        /// The watch or list resource version is no longer available: relist, then watch again.
        case resourceVersionTooOld
        case requestEntityTooLarge
        case unsupportedMediaType
        /// 422: see `causes` for the offending fields.
        case invalid
        case tooManyRequests
        case serverError
        case serviceUnavailable
        case timeout
        /// Any other status.
        case unexpectedStatus
        /// The network failed below HTTP; see `transportError`.
        case transportFailure
        /// A 2xx body that is not the JSON we expected.
        case malformedResponse
    }

    /// One entry of `details.causes` in a 422 response.
    public struct Cause: Sendable, Equatable {
        public var field: String?
        public var reason: String?
        public var message: String?
    }

    public var kind: Kind
    public var verb: String
    public var target: ObjectTarget
    /// HTTP status, 0 when none was received.
    public var status: Int
    /// The server's message, or an excerpt of a non-Status body.
    public var message: String
    /// `metav1.Status.reason`, such as "AlreadyExists" or "Expired".
    public var reason: String?
    public var causes: [Cause]
    /// From `Retry-After` or `details.retryAfterSeconds`.
    public var retryAfter: Duration?
    public var transportError: HTTPTransportError?

    public init(
        kind: Kind, verb: String, target: ObjectTarget, status: Int, message: String, reason: String? = nil,
        causes: [Cause] = [], retryAfter: Duration? = nil, transportError: HTTPTransportError? = nil
    ) {
        self.kind = kind
        self.verb = verb
        self.target = target
        self.status = status
        self.message = message
        self.reason = reason
        self.causes = causes
        self.retryAfter = retryAfter
        self.transportError = transportError
    }

    public var description: String {
        var text = "\(verb) \(target): \(kind.rawValue)"
        if status != 0 { text += " (HTTP \(status))" }
        if !message.isEmpty { text += ": \(message)" }
        for cause in causes {
            text += "; \(cause.field ?? "?"): \(cause.message ?? cause.reason ?? "")"
        }
        return text
    }

    /// Decodes a non-2xx response into an error.
    public static func from(
        status: Int, headers: HTTPHeaders, body: [UInt8], verb: String, target: ObjectTarget
    ) -> KubeAPIError {
        let parsed = try? JSONValue.parse(body)
        let statusObject = parsed.flatMap { $0["kind"].stringValue == "Status" ? $0 : nil }
        let reason = statusObject?["reason"].stringValue
        let message = statusObject?["message"].stringValue ?? excerpt(of: body)
        let causes = (statusObject?[path: ["details", "causes"]].arrayValue ?? []).map {
            Cause(field: $0["field"].stringValue, reason: $0["reason"].stringValue, message: $0["message"].stringValue)
        }
        var retryAfter: Duration?
        if let header = headers["Retry-After"], let seconds = Int(header.trimmingCharacters(in: .whitespaces)) {
            retryAfter = .seconds(max(0, seconds))
        } else if let seconds = statusObject?[path: ["details", "retryAfterSeconds"]].intValue {
            retryAfter = .seconds(max(0, seconds))
        }
        return KubeAPIError(
            kind: kind(status: status, reason: reason, message: message), verb: verb, target: target, status: status,
            message: message, reason: reason, causes: causes, retryAfter: retryAfter)
    }

    /// Decodes the Status object of a watch ERROR event.
    public static func fromWatchStatus(_ statusObject: JSONValue, verb: String, target: ObjectTarget) -> KubeAPIError {
        let code = Int(statusObject["code"].intValue ?? 500)
        var error = from(status: code, headers: [:], body: statusObject.serializedBytes(), verb: verb, target: target)
        if error.message.isEmpty { error.message = statusObject["reason"].stringValue ?? "watch error" }
        return error
    }

    static func kind(status: Int, reason: String?, message: String) -> Kind {
        switch status {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 409: return reason == "AlreadyExists" ? .alreadyExists : .conflict
        case 410:
            if reason == "Expired" || reason == "Gone" || message.contains("too old resource version") {
                return .resourceVersionTooOld
            }
            return .gone
        case 413: return .requestEntityTooLarge
        case 415: return .unsupportedMediaType
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        case 504: return .timeout
        case 500:
            return reason == "Timeout" || reason == "ServerTimeout" ? .timeout : .serverError
        case 501...599: return .serverError
        default: return .unexpectedStatus
        }
    }

    /// A short single-line printable excerpt, so an HTML error page stays readable in logs.
    static func excerpt(of body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        let printable = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }.filter { !$0.isASCII || $0.asciiValue! >= 32 }
        var line = String(printable)
        while line.contains("  ") { line = line.replacingOccurrences(of: "  ", with: " ") }
        line = line.trimmingCharacters(in: .whitespaces)
        return body.count > 300 ? line + "…" : line
    }
}
