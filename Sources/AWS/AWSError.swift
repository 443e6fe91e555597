import HTTPTransport
import JSON

/// A failed AWS call: what the service answered, or why no answer came.
///
/// Guarantees: carries the service, operation, error code, message, request ID and HTTP
/// status; never request headers, bodies or credentials. `code` is the service's own error
/// code ("DBInstanceNotFound", "ResourceNotFoundException"), with any JSON `__type` prefix
/// ("com.amazonaws…#") removed.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the failure came from.
    public enum Origin: Sendable, Equatable {
        /// The service answered with an error status.
        case service
        /// No HTTP answer: connection, TLS, timeout (see `transportFailure`).
        case transport
        /// The service answered 2xx but the body was not what the operation returns.
        case invalidResponse
        /// No usable credentials could be found or fetched.
        case credentials
    }

    public var origin: Origin
    /// Endpoint prefix of the service, e.g. "rds", "s3".
    public var service: String
    public var operation: String
    public var code: String
    public var message: String
    public var requestId: String?
    /// HTTP status; nil when no response arrived.
    public var status: Int?
    /// The transport's failure class, for `.transport` errors.
    public var transportFailure: HTTPTransportError.Kind?

    public init(
        origin: Origin, service: String, operation: String, code: String, message: String,
        requestId: String? = nil, status: Int? = nil, transportFailure: HTTPTransportError.Kind? = nil
    ) {
        self.origin = origin
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.requestId = requestId
        self.status = status
        self.transportFailure = transportFailure
    }

    public var description: String {
        var text = "\(service) \(operation) failed: \(code)"
        if let status { text += " (HTTP \(status))" }
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request \(requestId)]" }
        return text
    }

    /// The resource the call named does not exist (any service's spelling of it).
    public var isNotFound: Bool {
        status == 404 || code.hasSuffix("NotFound") || code.hasSuffix("NotFoundFault")
            || code == "ResourceNotFoundException" || code == "NoSuchBucket" || code == "NoSuchKey"
    }

    /// The resource the call would create exists already.
    public var isAlreadyExists: Bool {
        code.contains("AlreadyExists") || code == "BucketAlreadyOwnedByYou" || code == "ResourceExistsException"
    }

    /// The request was throttled (retried by `RetryStrategy`).
    public var isThrottling: Bool { origin == .service && RetryStrategy.throttlingCodes.contains(code) }

    static func transport(_ error: HTTPTransportError, service: String, operation: String) -> AWSError {
        AWSError(
            origin: .transport, service: service, operation: operation, code: "Transport.\(error.kind.rawValue)",
            message: error.message, transportFailure: error.kind)
    }
}

/// Turns an AWS error response into an `AWSError`, whatever the protocol's error shape.
///
/// Query and S3 send `<ErrorResponse><Error><Code>` or `<Error><Code>` (with or without a
/// namespace); JSON services send `{"__type": "prefix#Code", "message": …}`; a proxy or
/// load balancer may send HTML. Every case yields a typed error carrying the status.
public enum AWSErrorResponse {
    public static func parse(
        _ response: HTTPResponse, service: String, operation: String
    ) -> AWSError {
        let headerRequestId =
            response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
            ?? response.headers["x-amzn-requestid"]
        var error = AWSError(
            origin: .service, service: service, operation: operation, code: fallbackCode(response.status),
            message: "", requestId: headerRequestId, status: response.status)

        let body = response.body
        let first = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "{"), let json = try? JSONValue.parse(body) {
            let type = json["__type"].stringValue ?? json["code"].stringValue ?? json["Code"].stringValue
                ?? response.headers["x-amzn-ErrorType"]
            if let type { error.code = sanitizeJSONType(type) }
            error.message = json["message"].stringValue ?? json["Message"].stringValue ?? ""
        } else if first == UInt8(ascii: "<"), let root = try? XMLElement.parse(body),
            let errorElement = root.firstDescendant("Error")
        {
            if let code = errorElement.string("Code")?.trimmingXMLWhitespace(), !code.isEmpty { error.code = code }
            error.message = errorElement.string("Message") ?? ""
            error.requestId = root.firstDescendant("RequestId")?.text ?? root.firstDescendant("RequestID")?.text
                ?? error.requestId
        } else if let type = response.headers["x-amzn-ErrorType"] {
            error.code = sanitizeJSONType(type)
        } else if !body.isEmpty {
            // The body is not AWS's (an HTML page from a proxy, say); its content is not echoed,
            // since it could reflect anything, but its kind helps whoever reads the log.
            let contentType = response.headers["Content-Type"] ?? "unknown content type"
            error.message = "non-AWS error body (\(contentType), \(body.count) bytes)"
        }
        return error
    }

    /// "com.amazonaws.secretsmanager#ResourceNotFoundException" and
    /// "ResourceNotFoundException:http://internal.amazon.com/…" both become the bare code.
    static func sanitizeJSONType(_ type: String) -> String {
        var code = Substring(type)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }

    /// A code for bodiless or unparseable answers (HEAD 404, HTML 503), named after the status
    /// as the SDKs do for S3 HEAD.
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 301: "PermanentRedirect"
        case 304: "NotModified"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 500: "InternalFailure"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }
}
