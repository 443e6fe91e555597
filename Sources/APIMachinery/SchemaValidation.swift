import Foundation
import JSON

/// The value checks of a structural schema, worded as kube-openapi's validator and
/// apiextensions' conversion to field errors word them.
enum SchemaValidation {
    static func validate(_ value: JSONValue, old: JSONValue? = nil, node: SchemaNode, path: String, errors: inout [FieldError]) {
        if case .null = value {
            if node.nullable || (node.type == nil && !node.intOrString) { return }
            errors.append(.typeInvalid(path, "null", "\(inBody(path)) must be of type \(expectedType(node)): \"null\""))
            return
        }
        guard checkType(value, node: node, path: path, errors: &errors) else { return }

        if let enumValues = node.enumValues, !enumValues.contains(where: { $0.semanticallyEquals(value) }) {
            errors.append(.notSupported(path, value, supported: enumValues))
        }

        switch value {
        case .string(let s):
            validateString(s, node: node, path: path, errors: &errors)
        case .int, .double:
            validateNumber(value, node: node, path: path, errors: &errors)
        case .array(let elements):
            validateArray(elements, old: old?.arrayValue, node: node, path: path, errors: &errors)
        case .object(let members):
            validateObject(members, old: old?.objectValue, node: node, path: path, errors: &errors)
        default:
            break
        }

        for sub in node.allOf { validate(value, old: old, node: sub, path: path, errors: &errors) }
        for rule in node.celValidations { check(rule, value: value, old: old, node: node, path: path, errors: &errors) }
        if !node.anyOf.isEmpty {
            let passing = node.anyOf.contains { sub in
                var e: [FieldError] = []
                validate(value, node: sub, path: path, errors: &e)
                return e.isEmpty
            }
            if !passing { errors.append(.invalid(path, value, "\(inBody(path)) must validate at least one schema (anyOf)")) }
        }
        if !node.oneOf.isEmpty {
            let passing = node.oneOf.filter { sub in
                var e: [FieldError] = []
                validate(value, node: sub, path: path, errors: &e)
                return e.isEmpty
            }.count
            if passing != 1 { errors.append(.invalid(path, value, "\(inBody(path)) must validate one and only one schema (oneOf)")) }
        }
        if let not = node.not {
            var e: [FieldError] = []
            validate(value, node: not, path: path, errors: &e)
            if e.isEmpty { errors.append(.invalid(path, value, "\(inBody(path)) must not validate the schema (not)")) }
        }
    }

    /// Transition rules (mentioning `oldSelf`) run only when the value has a correlated old
    /// value, as on the real server.
    static func check(_ rule: CELValidationRule, value: JSONValue, old: JSONValue?, node: SchemaNode, path: String, errors: inout [FieldError]) {
        guard let program = rule.program else { return }
        if program.usesOldSelf && old == nil { return }
        let detail: String
        do {
            if case .bool(true) = try program.evaluate(self: value, oldSelf: program.usesOldSelf ? old : nil) { return }
            if let custom = rule.message {
                detail = custom
            } else if let text = evaluatedMessage(rule, value), !text.isEmpty {
                detail = text
            } else {
                detail = "failed rule: \(rule.rule)"
            }
        } catch {
            // Outside the subset at run time (an unknown function): not enforced here.
            guard case .runtime(let message) = error else { return }
            detail = "\(message) evaluating rule: \(rule.rule)"
        }
        var field = path
        if let fieldPath = rule.fieldPath, !fieldPath.isEmpty {
            field = fieldPath.hasPrefix(".") ? path + fieldPath : StructuralSchema.join(path, fieldPath)
        }
        let typeName = JSONValue.string(node.type ?? actualTypeName(value))
        switch rule.reason {
        case "FieldValueForbidden": errors.append(.forbidden(field, detail))
        case "FieldValueRequired": errors.append(.required(field, detail))
        case "FieldValueDuplicate": errors.append(.duplicate(field, typeName))
        default: errors.append(.invalid(field, typeName, detail))
        }
    }

    /// The server falls back to the default message when `messageExpression` fails.
    static func evaluatedMessage(_ rule: CELValidationRule, _ value: JSONValue) -> String? {
        guard let expression = rule.messageExpression else { return nil }
        do {
            return try expression.evaluate(self: value).stringValue
        } catch {
            return nil
        }
    }

    /// kube-openapi names the location of a failure `<path> in body`.
    static func inBody(_ path: String) -> String { path.isEmpty ? "in body" : "\(path) in body" }

    static func expectedType(_ node: SchemaNode) -> String {
        if node.intOrString { return "integer,string" }
        return node.type ?? "object"
    }

    static func actualTypeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d.rounded() == d ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func checkType(_ value: JSONValue, node: SchemaNode, path: String, errors: inout [FieldError]) -> Bool {
        let ok: Bool
        if node.intOrString {
            switch value {
            case .string: ok = true
            case .int: ok = true
            case .double(let d): ok = d.rounded() == d
            default: ok = false
            }
        } else {
            switch (node.type, value) {
            case (nil, _): ok = true
            case ("string", .string), ("boolean", .bool), ("array", .array), ("object", .object),
                 ("integer", .int), ("number", .int), ("number", .double):
                ok = true
            case ("integer", .double(let d)): ok = d.rounded() == d
            default: ok = false
            }
        }
        if !ok {
            let actual = actualTypeName(value)
            errors.append(.typeInvalid(path, .string(actual), "\(inBody(path)) must be of type \(expectedType(node)): \(FieldError.quoted(actual))"))
        }
        return ok
    }

    static func validateString(_ s: String, node: SchemaNode, path: String, errors: inout [FieldError]) {
        // Lengths count characters (runes) as Go's utf8.RuneCountInString does.
        let length = s.unicodeScalars.count
        if let maxLength = node.maxLength, length > maxLength {
            errors.append(.tooLong(path, maximumBytes: maxLength))
        }
        if let minLength = node.minLength, length < minLength {
            errors.append(.invalid(path, .string(s), "\(inBody(path)) should be at least \(minLength) chars long"))
        }
        if let pattern = node.pattern, let compiled = node.compiledPattern, !compiled.matches(s) {
            errors.append(.invalid(path, .string(s), "\(inBody(path)) should match '\(pattern)'"))
        }
        if let format = node.format, !formatAccepts(format, s) {
            errors.append(.typeInvalid(path, .string(s), "\(inBody(path)) must be of type \(format): \(FieldError.quoted(s))"))
        }
    }

    static func validateNumber(_ value: JSONValue, node: SchemaNode, path: String, errors: inout [FieldError]) {
        guard let number = value.doubleValue else { return }
        if let minimum = node.minimum {
            if node.exclusiveMinimum ? number <= minimum : number < minimum {
                let words = node.exclusiveMinimum ? "greater than" : "greater than or equal to"
                errors.append(.invalid(path, value, "\(inBody(path)) should be \(words) \(formatNumber(minimum))"))
            }
        }
        if let maximum = node.maximum {
            if node.exclusiveMaximum ? number >= maximum : number > maximum {
                let words = node.exclusiveMaximum ? "less than" : "less than or equal to"
                errors.append(.invalid(path, value, "\(inBody(path)) should be \(words) \(formatNumber(maximum))"))
            }
        }
        if let multipleOf = node.multipleOf, multipleOf > 0 {
            let quotient = number / multipleOf
            if quotient.rounded() != quotient {
                errors.append(.invalid(path, value, "\(inBody(path)) should be a multiple of \(formatNumber(multipleOf))"))
            }
        }
        if let format = node.format, node.type == "integer" || node.type == "number" {
            let inRange: Bool
            switch format {
            case "int32": inRange = number >= Double(Int32.min) && number <= Double(Int32.max)
            case "int64": inRange = value.intValue != nil
            case "float": inRange = abs(number) <= Double(Float.greatestFiniteMagnitude)
            default: inRange = true
            }
            if !inRange {
                errors.append(.typeInvalid(path, value, "\(inBody(path)) must be of type \(format): \(FieldError.renderValue(value))"))
            }
        }
    }

    static func validateArray(_ elements: [JSONValue], old: [JSONValue]?, node: SchemaNode, path: String, errors: inout [FieldError]) {
        if let maxItems = node.maxItems, elements.count > maxItems {
            errors.append(.tooMany(path, actual: elements.count, maximum: maxItems))
        }
        if let minItems = node.minItems, elements.count < minItems {
            errors.append(.invalid(path, .int(Int64(elements.count)), "\(inBody(path)) should have at least \(minItems) items"))
        }
        if let items = node.items {
            for (i, element) in elements.enumerated() {
                validate(element, old: correlatedItem(element, in: old, node: node), node: items, path: "\(path)[\(i)]", errors: &errors)
            }
        }
        switch node.listType {
        case "set":
            var seen: [JSONValue] = []
            for (i, element) in elements.enumerated() {
                if seen.contains(where: { $0.semanticallyEquals(element) }) {
                    errors.append(.duplicate("\(path)[\(i)]", element))
                } else {
                    seen.append(element)
                }
            }
        case "map":
            var seen: Set<JSONValue> = []
            for (i, element) in elements.enumerated() {
                var key: [String: JSONValue] = [:]
                for k in node.listMapKeys {
                    key[k] = element[k].isNull ? (node.items?.properties[k]?.defaultValue ?? .null) : element[k]
                }
                if !seen.insert(.object(key)).inserted {
                    errors.append(.duplicate("\(path)[\(i)]", .object(key)))
                }
            }
        default:
            break
        }
    }

    /// The old item a new one corresponds to: same keys for map lists, same value for sets;
    /// atomic lists have no correlation.
    static func correlatedItem(_ element: JSONValue, in old: [JSONValue]?, node: SchemaNode) -> JSONValue? {
        guard let old else { return nil }
        switch node.listType {
        case "map":
            return old.first { candidate in node.listMapKeys.allSatisfy { candidate[$0].semanticallyEquals(element[$0]) } }
        case "set":
            return old.first { $0.semanticallyEquals(element) }
        default:
            return nil
        }
    }

    static func validateObject(_ members: [String: JSONValue], old: [String: JSONValue]?, node: SchemaNode, path: String, errors: inout [FieldError]) {
        if let maxProperties = node.maxProperties, members.count > maxProperties {
            errors.append(.tooMany(path, actual: members.count, maximum: maxProperties))
        }
        if let minProperties = node.minProperties, members.count < minProperties {
            errors.append(.invalid(path, .int(Int64(members.count)), "\(inBody(path)) should have at least \(minProperties) properties"))
        }
        for key in node.required where members[key] == nil {
            errors.append(.required(StructuralSchema.join(path, key)))
        }
        for key in members.keys.sorted() {
            let childPath = StructuralSchema.join(path, key)
            if let child = node.properties[key] {
                validate(members[key]!, old: old?[key], node: child, path: childPath, errors: &errors)
            } else if let additional = node.additionalProperties {
                validate(members[key]!, old: old?[key], node: additional, path: childPath, errors: &errors)
            }
        }
    }

    /// Go's %v for float64 as validation messages print limits: integral values without a point.
    static func formatNumber(_ d: Double) -> String {
        if d.rounded() == d && abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }

    static func formatAccepts(_ format: String, _ s: String) -> Bool {
        switch format {
        case "date-time", "datetime": return parseRFC3339(s)
        case "date": return s.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil
        case "byte": return Data(base64Encoded: s) != nil
        case "uuid": return s.wholeMatch(of: /[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}/) != nil
        case "ipv4":
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { p in p.count <= 3 && !p.isEmpty && p.allSatisfy(\.isASCIIDigitCharacter) && Int(p)! <= 255 }
        case "int-or-string": return true
        default:
            // Formats the dev server does not check (email, uri, hostname, ...) pass.
            return true
        }
    }

    static func parseRFC3339(_ s: String) -> Bool {
        s.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})/) != nil
    }
}
