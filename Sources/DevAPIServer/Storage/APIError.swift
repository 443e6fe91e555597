import JSON

/// A failed store call, shaped like the `metav1.Status` the real API server returns.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    /// `StatusReason`: NotFound, AlreadyExists, Conflict, Invalid, Gone, Expired, BadRequest, ...
    public var reason: String
    public var message: String
    public var details: StatusDetails?
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String, message: String, details: StatusDetails? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The error as a `Status` object, as the real server renders it.
    public func statusObject() -> JSONValue {
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject,
            "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if reason.isEmpty { status["reason"] = .null }
        var details = self.details ?? StatusDetails()
        if let retryAfterSeconds { details.retryAfterSeconds = retryAfterSeconds }
        let rendered = details.json()
        if !(rendered.objectValue?.isEmpty ?? true) { status["details"] = rendered }
        return status
    }
}

/// `metav1.StatusDetails`: which object the error is about and, for 422, which fields.
public struct StatusDetails: Sendable, Hashable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]
    public var retryAfterSeconds: Int?

    public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
                causes: [StatusCause] = [], retryAfterSeconds: Int? = nil) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    func json() -> JSONValue {
        var object: [String: JSONValue] = [:]
        if let name { object["name"] = .string(name) }
        if let group, !group.isEmpty { object["group"] = .string(group) }
        if let kind { object["kind"] = .string(kind) }
        if let uid { object["uid"] = .string(uid) }
        if !causes.isEmpty { object["causes"] = .array(causes.map { $0.json() }) }
        if let retryAfterSeconds { object["retryAfterSeconds"] = .int(Int64(retryAfterSeconds)) }
        return .object(object)
    }
}

/// `metav1.StatusCause`: one field-level reason for a failure.
public struct StatusCause: Sendable, Hashable {
    /// e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported.
    public var reason: String
    public var message: String
    public var field: String

    public init(reason: String, message: String, field: String) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    func json() -> JSONValue {
        var object: [String: JSONValue] = ["reason": .string(reason), "message": .string(message)]
        if !field.isEmpty { object["field"] = .string(field) }
        return .object(object)
    }
}

extension APIError {
    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(type.key.groupResource) \"\(name)\" not found",
                 details: StatusDetails(name: name, group: type.group, kind: type.plural))
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(type.key.groupResource) \"\(name)\" already exists",
                 details: StatusDetails(name: name, group: type.group, kind: type.plural))
    }

    static func conflict(_ type: ResourceType, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(type.key.groupResource) \"\(name)\": \(why)",
                 details: StatusDetails(name: name, group: type.group, kind: type.plural))
    }

    /// 422 as the real server words it: `Kind.group "name" is invalid: [field: message, ...]`.
    static func invalid(_ type: ResourceType, _ name: String, _ causes: [StatusCause]) -> APIError {
        let qualifiedKind = type.group.isEmpty ? type.kind : "\(type.kind).\(type.group)"
        let rendered = causes.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }
        let summary = rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]"
        return APIError(code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(summary)",
                        details: StatusDetails(name: name, group: type.group, kind: type.kind, causes: causes))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func gone(_ message: String) -> APIError { APIError(code: 410, reason: "Gone", message: message) }

    static func expired(_ message: String) -> APIError { APIError(code: 410, reason: "Expired", message: message) }

    static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// The resource type itself is not served (404 with the real server's generic body).
    static func resourceNotServed(_ key: ResourceKey) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource",
                 details: StatusDetails())
    }
}
