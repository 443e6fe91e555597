import JSON

/// One field-level validation failure, rendered the way the Kubernetes API server renders
/// `field.Error` (k8s.io/apimachinery/pkg/util/validation/field).
///
/// `message` is the error body without the field (`Required value`,
/// `Unsupported value: "x": supported values: "a", "b"`), which is what a `Status`
/// cause carries; `description` prefixes the field as the server's aggregated message does.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of the `field.ErrorType` strings, e.g. `FieldValueRequired`.
    public var reason: String
    /// The path in dotted form: `spec.replicas`, `spec.items[0].name`.
    public var field: String
    public var message: String

    public init(reason: String, field: String, message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }

    /// A `StatusCause` object (`{"reason","message","field"}`) for `Status.details.causes`.
    public var statusCause: JSONValue {
        ["reason": .string(reason), "message": .string(message), "field": .string(field)]
    }

    /// The server's aggregate rendering: one error as is, several as `[a, b]`.
    public static func aggregateMessage(_ errors: [FieldError]) -> String {
        if errors.count == 1 { return errors[0].description }
        return "[" + errors.map(\.description).joined(separator: ", ") + "]"
    }
}

extension FieldError {
    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(reason: "FieldValueRequired", field: field, message: body("Required value", nil, detail))
    }

    public static func invalid(_ field: String, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueInvalid", field: field, message: body("Invalid value", value, detail))
    }

    /// Reported for a value of the wrong JSON type; the server shows the same words as for
    /// `invalid` but under its own reason.
    public static func typeInvalid(_ field: String, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueTypeInvalid", field: field, message: body("Invalid value", value, detail))
    }

    public static func notSupported(_ field: String, _ value: JSONValue, supported: [JSONValue]) -> FieldError {
        // The server lists allowed values as strings, JSON-encoding non-strings first: 1 -> "1".
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map { quoted($0.stringValue ?? $0.serialized()) }.joined(separator: ", ")
        return FieldError(reason: "FieldValueNotSupported", field: field, message: body("Unsupported value", value, detail))
    }

    public static func duplicate(_ field: String, _ value: JSONValue) -> FieldError {
        FieldError(reason: "FieldValueDuplicate", field: field, message: body("Duplicate value", value, ""))
    }

    /// A string longer than allowed; the value itself is not echoed (it may be large).
    public static func tooLong(_ field: String, maximumBytes: Int) -> FieldError {
        FieldError(reason: "FieldValueTooLong", field: field,
                   message: body("Too long", nil, "may not be more than \(maximumBytes) \(maximumBytes == 1 ? "byte" : "bytes")"))
    }

    public static func tooMany(_ field: String, actual: Int, maximum: Int) -> FieldError {
        FieldError(reason: "FieldValueTooMany", field: field,
                   message: body("Too many", .int(Int64(actual)), "must have at most \(maximum) items"))
    }

    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueForbidden", field: field, message: body("Forbidden", nil, detail))
    }

    public static func notFound(_ field: String, _ value: JSONValue) -> FieldError {
        FieldError(reason: "FieldValueNotFound", field: field, message: body("Not found", value, ""))
    }

    static func body(_ kind: String, _ value: JSONValue?, _ detail: String) -> String {
        var s = kind
        if let value { s += ": " + renderValue(value) }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    /// Go prints strings quoted (%q), numbers and booleans bare, nil as `null`;
    /// structured values are shown as JSON.
    static func renderValue(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return quoted(s)
        case .null: return "null"
        default: return value.serialized()
        }
    }

    /// Like Go's %q for the printable text validation messages carry.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
