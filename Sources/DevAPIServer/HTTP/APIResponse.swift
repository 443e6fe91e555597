import JSON

/// What a handler answers: a complete body, or a stream of watch events.
enum APIResponse: Sendable {
    case complete(status: Int, contentType: String, body: [UInt8], headers: [(String, String)])
    case watch(WatchStreamSource)
    /// A resource request the router matched; the resource handler answers it.
    case deferred(ResourcePath, ResourceType)

    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> APIResponse {
        .complete(status: status, contentType: "application/json", body: value.serializedBytes(), headers: headers)
    }

    /// A `metav1.Status` failure rendered as the real server renders it, with Retry-After when due.
    static func failure(_ error: APIError) -> APIResponse {
        var headers: [(String, String)] = []
        if let seconds = error.retryAfterSeconds { headers.append(("Retry-After", String(seconds))) }
        return .json(error.code, error.statusObject(), headers: headers)
    }

    static func text(_ status: Int, _ text: String) -> APIResponse {
        .complete(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8), headers: [])
    }
}

extension APIError {
    static func notFoundPath() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func methodNotAllowed() -> APIError {
        .methodNotAllowed("the server does not allow this method on the requested resource")
    }
}
