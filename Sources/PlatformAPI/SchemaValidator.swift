import Foundation
import JSON

/// Checks a value against an `OpenAPISchema` and fills in its defaults, as the API server
/// does on admission, reporting every problem with its field path.
///
/// Guarantees: defaults are applied only where a field is absent (or null) and its parent
/// exists, matching structural-schema defaulting; a defaulted value is itself checked.
/// Caveats: CEL rules are not evaluated here; the Swift validations mirror them.
/// Unknown fields are reported rather than pruned, so a typo in a file passed to
/// `render` fails loudly instead of being silently ignored.
public struct SchemaValidator: Sendable {
    public init() {}

    public func apply(_ schema: OpenAPISchema, to value: JSONValue, at path: FieldPath) -> (JSONValue, [SpecViolation]) {
        var violations: [SpecViolation] = []
        let result = visit(schema, value, path, &violations)
        return (result, violations)
    }

    private func visit(_ schema: OpenAPISchema, _ value: JSONValue, _ path: FieldPath, _ violations: inout [SpecViolation]) -> JSONValue {
        if schema.preserveUnknownFields && schema.properties.isEmpty {
            if schema.type == .object, value.objectValue == nil {
                violations.append(SpecViolation(field: path.description, message: "must be an object"))
            }
            return value
        }
        if schema.intOrString {
            switch value {
            case .int, .double:
                return value
            case .string(let s):
                checkString(schema, s, path, &violations)
                return value
            default:
                violations.append(SpecViolation(field: path.description, message: "must be a number or a string"))
                return value
            }
        }
        switch schema.type {
        case .object?:
            guard case .object(var members) = value else {
                violations.append(SpecViolation(field: path.description, message: "must be an object, got \(typeName(value))"))
                return value
            }
            if let valueSchema = schema.additionalProperties {
                if let max = schema.maxProperties, members.count > max {
                    violations.append(SpecViolation(field: path.description, message: "must have at most \(max) entries"))
                }
                for key in members.keys.sorted() {
                    members[key] = visit(valueSchema, members[key]!, path.child(key), &violations)
                }
                return .object(members)
            }
            let known = Set(schema.properties.map(\.name))
            for key in members.keys.sorted() where !known.contains(key) {
                violations.append(SpecViolation(field: path.child(key).description, message: "unknown field"))
            }
            for property in schema.properties {
                let present = members[property.name].map { !$0.isNull } ?? false
                if present {
                    members[property.name] = visit(property.schema, members[property.name]!, path.child(property.name), &violations)
                } else if let defaultValue = property.schema.defaultValue {
                    members[property.name] = visit(property.schema, defaultValue, path.child(property.name), &violations)
                } else {
                    members[property.name] = nil
                    if schema.required.contains(property.name) {
                        violations.append(SpecViolation(field: path.child(property.name).description, message: "required"))
                    }
                }
            }
            return .object(members)
        case .array?:
            guard case .array(let elements) = value else {
                violations.append(SpecViolation(field: path.description, message: "must be a list, got \(typeName(value))"))
                return value
            }
            if let max = schema.maxItems, elements.count > max {
                violations.append(SpecViolation(field: path.description, message: "must have at most \(max) items"))
            }
            guard let items = schema.items else { return value }
            var seenKeys = Set<[JSONValue]>()
            var result: [JSONValue] = []
            for (i, element) in elements.enumerated() {
                let checked = visit(items, element, path.index(i), &violations)
                if !schema.listMapKeys.isEmpty {
                    let key = schema.listMapKeys.map { checked[$0] }
                    if !seenKeys.insert(key).inserted {
                        violations.append(SpecViolation(field: path.index(i).description, message: "duplicate entry for \(schema.listMapKeys.joined(separator: ", "))"))
                    }
                }
                result.append(checked)
            }
            return .array(result)
        case .string?:
            guard case .string(let s) = value else {
                violations.append(SpecViolation(field: path.description, message: "must be a string, got \(typeName(value))"))
                return value
            }
            checkString(schema, s, path, &violations)
            return value
        case .integer?:
            guard let i = value.intValue else {
                violations.append(SpecViolation(field: path.description, message: "must be an integer, got \(typeName(value))"))
                return value
            }
            if let min = schema.minimum, i < min {
                violations.append(SpecViolation(field: path.description, message: "must be >= \(min), got \(i)"))
            }
            if let max = schema.maximum, i > max {
                violations.append(SpecViolation(field: path.description, message: "must be <= \(max), got \(i)"))
            }
            return .int(i)
        case .number?:
            guard value.doubleValue != nil else {
                violations.append(SpecViolation(field: path.description, message: "must be a number, got \(typeName(value))"))
                return value
            }
            return value
        case .boolean?:
            guard value.boolValue != nil else {
                violations.append(SpecViolation(field: path.description, message: "must be true or false, got \(typeName(value))"))
                return value
            }
            return value
        case nil:
            return value
        }
    }

    private func checkString(_ schema: OpenAPISchema, _ s: String, _ path: FieldPath, _ violations: inout [SpecViolation]) {
        if !schema.enumValues.isEmpty, !schema.enumValues.contains(s) {
            let allowed = schema.enumValues.map { "\"\($0)\"" }.joined(separator: ", ")
            violations.append(SpecViolation(field: path.description, message: "unsupported value \"\(s)\": must be one of \(allowed)"))
        }
        if let max = schema.maxLength, s.count > max {
            violations.append(SpecViolation(field: path.description, message: "must be at most \(max) characters"))
        }
        if let pattern = schema.pattern, !Self.matches(s, pattern) {
            violations.append(SpecViolation(field: path.description, message: "\"\(s)\" does not match \(pattern)"))
        }
    }

    static func matches(_ s: String, _ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        let range = NSRange(s.startIndex..., in: s)
        return regex.firstMatch(in: s, range: range) != nil
    }

    private func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "list"
        case .object: return "object"
        }
    }
}
