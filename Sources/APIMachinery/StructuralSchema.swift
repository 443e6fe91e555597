import Foundation
import JSON

/// Why a CRD's `openAPIV3Schema` is not a structural schema; `errors` carry one entry per
/// offending node with the path under the schema (`properties[spec].type`).
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FieldError]
    public init(errors: [FieldError]) { self.errors = errors }
    public var message: String { FieldError.aggregateMessage(errors) }
    public var description: String { message }
}

/// A CustomResourceDefinition schema checked to be structural, able to default, prune and
/// validate custom objects the way kube-apiserver's apiextensions code does.
///
/// Guarantees:
/// - Construction rejects what the real server rejects for structural schemas: missing
///   `type` on a specified field, `$ref`, `properties` together with `additionalProperties`,
///   an array `items`, `uniqueItems: true`, a root that is not an object, and a `metadata`
///   schema specifying more than `name`/`generateName`.
/// - `validate` reports failures with the reasons and wording of the real server
///   (`Required value`, `Unsupported value: ...`, `... in body should match '...'`).
/// Caveats:
/// - `x-kubernetes-validations` (CEL) rules are enforced only when they fall in the subset
///   `CELProgram` understands (field access, comparisons, `has`, `in`, `size`, string functions,
///   list macros); other rules are skipped, and transition rules (`oldSelf`) run only when
///   `validate` is given the old object. The real server
///   enforces all of them, so the operator must not rely on the dev server to catch CEL violations.
/// - `pattern` uses NSRegularExpression; Kubernetes uses Go's RE2. They agree on the
///   common subset (anchors, classes, quantifiers) but not on look-arounds, which RE2 lacks.
public struct StructuralSchema: Sendable {
    public let root: SchemaNode

    public init(_ openAPIV3Schema: JSONValue, fieldPath: String = "openAPIV3Schema") throws(SchemaError) {
        var errors: [FieldError] = []
        root = SchemaNode(openAPIV3Schema, path: fieldPath, errors: &errors, isRoot: true)
        if root.type != "object" {
            errors.append(.invalid(fieldPath + ".type", .string(root.type ?? ""), "must be object at the root"))
        }
        if let metadata = root.properties["metadata"] {
            let allowed: Set<String> = ["name", "generateName"]
            let extra = metadata.properties.keys.filter { !allowed.contains($0) }
            if metadata.type != "object" && metadata.type != nil {
                errors.append(.invalid(fieldPath + ".properties[metadata].type", .string(metadata.type ?? ""), "must be object"))
            }
            if !extra.isEmpty || metadata.hasValueValidation {
                errors.append(.forbidden(fieldPath + ".properties[metadata]",
                    "must not specify anything other than name and generateName, but metadata is implicitly specified"))
            }
        }
        if !errors.isEmpty { throw SchemaError(errors: errors) }
    }

    // MARK: defaulting

    /// Sets `default` values for absent fields, recursively (through properties, array items
    /// and additionalProperties), and replaces or drops `null` where the schema is not nullable,
    /// as the server does before persisting.
    public func applyDefaults(to value: inout JSONValue) {
        StructuralSchema.applyDefaults(node: root, to: &value)
    }

    static func applyDefaults(node: SchemaNode, to value: inout JSONValue) {
        switch value {
        case .object(var members):
            if !node.properties.isEmpty {
                for (key, child) in node.properties {
                    if let existing = members[key] {
                        if case .null = existing, !child.nullable {
                            if let d = child.defaultValue { members[key] = d } else { members.removeValue(forKey: key) }
                        }
                    } else if let d = child.defaultValue {
                        members[key] = d
                    }
                }
                for (key, child) in node.properties {
                    guard var m = members[key] else { continue }
                    members[key] = nil
                    applyDefaults(node: child, to: &m)
                    members[key] = m
                }
            } else if let additional = node.additionalProperties {
                for key in Array(members.keys) {
                    var m = members.removeValue(forKey: key)!
                    if case .null = m, !additional.nullable {
                        if let d = additional.defaultValue { m = d } else { continue }
                    }
                    applyDefaults(node: additional, to: &m)
                    members[key] = m
                }
            }
            value = .object(members)
        case .array(var elements):
            guard let items = node.items else { return }
            for i in elements.indices {
                if case .null = elements[i], !items.nullable, let d = items.defaultValue { elements[i] = d }
                applyDefaults(node: items, to: &elements[i])
            }
            value = .array(elements)
        default:
            return
        }
    }

    // MARK: pruning

    /// The ObjectMeta fields the server keeps; everything else under root `metadata` is dropped
    /// because the server decodes metadata into the typed ObjectMeta.
    public static let objectMetaFields: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
        "ownerReferences", "finalizers", "managedFields",
    ]

    /// Drops fields the schema does not specify (unless `x-kubernetes-preserve-unknown-fields`),
    /// keeping `apiVersion`, `kind` and `metadata` at the root and in embedded resources.
    /// Returns the dotted paths that were dropped, which a `fieldValidation=Strict` request
    /// turns into errors and `Warn` into warnings.
    @discardableResult
    public func prune(_ value: inout JSONValue) -> [String] {
        var pruned: [String] = []
        StructuralSchema.prune(&value, node: root, path: "", isResourceRoot: true, pruned: &pruned)
        return pruned.sorted()
    }

    static func prune(_ value: inout JSONValue, node: SchemaNode, path: String, isResourceRoot: Bool, pruned: inout [String]) {
        switch value {
        case .object(var members):
            if isResourceRoot, case .object(var meta) = members["metadata"] ?? .null {
                for key in Array(meta.keys) where !objectMetaFields.contains(key) {
                    meta.removeValue(forKey: key)
                    pruned.append(join(join(path, "metadata"), key))
                }
                members["metadata"] = .object(meta)
            }
            for key in Array(members.keys) {
                if isResourceRoot && (key == "apiVersion" || key == "kind" || key == "metadata") { continue }
                let childPath = join(path, key)
                if let child = node.properties[key] {
                    var m = members.removeValue(forKey: key)!
                    prune(&m, node: child, path: childPath, isResourceRoot: child.embeddedResource, pruned: &pruned)
                    members[key] = m
                } else if let additional = node.additionalProperties {
                    var m = members.removeValue(forKey: key)!
                    prune(&m, node: additional, path: childPath, isResourceRoot: additional.embeddedResource, pruned: &pruned)
                    members[key] = m
                } else if !node.preserveUnknownFields {
                    members.removeValue(forKey: key)
                    pruned.append(childPath)
                }
            }
            value = .object(members)
        case .array(var elements):
            guard let items = node.items else { return }
            for i in elements.indices {
                prune(&elements[i], node: items, path: "\(path)[\(i)]", isResourceRoot: items.embeddedResource, pruned: &pruned)
            }
            value = .array(elements)
        default:
            return
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    // MARK: validation

    /// Every violation of the schema, in document order. Pass the stored object as `old` on
    /// updates so transition rules (`oldSelf`) are checked.
    public func validate(_ value: JSONValue, old: JSONValue? = nil) -> [FieldError] {
        var errors: [FieldError] = []
        SchemaValidation.validate(value, old: old, node: root, path: "", errors: &errors)
        return errors
    }
}

/// One node of a structural schema, with every keyword the server validates decoded up front.
public final class SchemaNode: Sendable {
    public let type: String?
    public let nullable: Bool
    public let format: String?
    public let enumValues: [JSONValue]?
    public let pattern: String?
    let compiledPattern: CompiledPattern?
    public let minimum: Double?
    public let maximum: Double?
    public let exclusiveMinimum: Bool
    public let exclusiveMaximum: Bool
    public let multipleOf: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let minItems: Int?
    public let maxItems: Int?
    public let minProperties: Int?
    public let maxProperties: Int?
    public let required: [String]
    public let properties: [String: SchemaNode]
    public let additionalProperties: SchemaNode?
    public let items: SchemaNode?
    public let defaultValue: JSONValue?
    public let preserveUnknownFields: Bool
    public let intOrString: Bool
    public let embeddedResource: Bool
    /// `x-kubernetes-list-type`: `atomic` (the default), `set` or `map`.
    public let listType: String?
    public let listMapKeys: [String]
    /// `x-kubernetes-map-type`: `granular` (the default) or `atomic`.
    public let mapType: String?
    public let allOf: [SchemaNode]
    public let anyOf: [SchemaNode]
    public let oneOf: [SchemaNode]
    public let not: SchemaNode?
    /// The raw `x-kubernetes-validations` entries.
    public let celRules: [JSONValue]
    /// The rules in the subset `CELProgram` evaluates; others are skipped (see `StructuralSchema`).
    let celValidations: [CELValidationRule]

    var hasValueValidation: Bool {
        enumValues != nil || pattern != nil || minimum != nil || maximum != nil || minLength != nil || maxLength != nil
            || minItems != nil || maxItems != nil || !required.isEmpty || defaultValue != nil || !allOf.isEmpty
            || !anyOf.isEmpty || !oneOf.isEmpty || not != nil
    }

    static let knownTypes: Set<String> = ["object", "array", "string", "integer", "number", "boolean"]

    init(_ schema: JSONValue, path: String, errors: inout [FieldError], isRoot: Bool = false, insideValueValidation: Bool = false) {
        let s = schema
        if case .object = s {} else {
            errors.append(.invalid(path, s, "must be a schema object"))
        }
        type = s["type"].stringValue
        nullable = s["nullable"].boolValue ?? false
        format = s["format"].stringValue
        enumValues = s["enum"].arrayValue
        pattern = s["pattern"].stringValue
        if let pattern {
            if let compiled = CompiledPattern(pattern) {
                compiledPattern = compiled
            } else {
                compiledPattern = nil
                errors.append(.invalid(path + ".pattern", .string(pattern), "must be a valid regular expression"))
            }
        } else {
            compiledPattern = nil
        }
        minimum = s["minimum"].doubleValue
        maximum = s["maximum"].doubleValue
        exclusiveMinimum = s["exclusiveMinimum"].boolValue ?? false
        exclusiveMaximum = s["exclusiveMaximum"].boolValue ?? false
        multipleOf = s["multipleOf"].doubleValue
        minLength = s["minLength"].intValue.map(Int.init)
        maxLength = s["maxLength"].intValue.map(Int.init)
        minItems = s["minItems"].intValue.map(Int.init)
        maxItems = s["maxItems"].intValue.map(Int.init)
        minProperties = s["minProperties"].intValue.map(Int.init)
        maxProperties = s["maxProperties"].intValue.map(Int.init)
        required = (s["required"].arrayValue ?? []).compactMap(\.stringValue)
        defaultValue = { if case .object(let o) = s, let d = o["default"] { return d } else { return nil } }()
        preserveUnknownFields = s["x-kubernetes-preserve-unknown-fields"].boolValue ?? false
        intOrString = s["x-kubernetes-int-or-string"].boolValue ?? false
        embeddedResource = s["x-kubernetes-embedded-resource"].boolValue ?? false
        listType = s["x-kubernetes-list-type"].stringValue
        listMapKeys = (s["x-kubernetes-list-map-keys"].arrayValue ?? []).compactMap(\.stringValue)
        mapType = s["x-kubernetes-map-type"].stringValue
        celRules = s["x-kubernetes-validations"].arrayValue ?? []
        celValidations = celRules.compactMap(CELValidationRule.init(json:))

        var properties: [String: SchemaNode] = [:]
        for (key, child) in s["properties"].objectValue ?? [:] {
            let childPath = "\(path).properties[\(key)]"
            let node = SchemaNode(child, path: childPath, errors: &errors, insideValueValidation: insideValueValidation)
            if node.type == nil && !node.intOrString && !node.preserveUnknownFields && !insideValueValidation {
                errors.append(.required(childPath + ".type", "must not be empty for specified object fields"))
            }
            properties[key] = node
        }
        self.properties = properties

        switch s["additionalProperties"] {
        case .object:
            let childPath = path + ".additionalProperties"
            let node = SchemaNode(s["additionalProperties"], path: childPath, errors: &errors, insideValueValidation: insideValueValidation)
            if node.type == nil && !node.intOrString && !node.preserveUnknownFields && !insideValueValidation {
                errors.append(.required(childPath + ".type", "must not be empty for specified object fields"))
            }
            additionalProperties = node
            if !properties.isEmpty {
                errors.append(.forbidden(path + ".additionalProperties", "additionalProperties and properties are mutual exclusive"))
            }
        case .bool(false):
            additionalProperties = nil
            errors.append(.forbidden(path + ".additionalProperties", "additionalProperties cannot be set to false"))
        default:
            additionalProperties = nil
        }

        switch s["items"] {
        case .object:
            let childPath = path + ".items"
            let node = SchemaNode(s["items"], path: childPath, errors: &errors, insideValueValidation: insideValueValidation)
            if node.type == nil && !node.intOrString && !node.preserveUnknownFields && !insideValueValidation {
                errors.append(.required(childPath + ".type", "must not be empty for specified array items"))
            }
            items = node
        case .array:
            items = nil
            errors.append(.forbidden(path + ".items", "items must be a schema object and not an array"))
        default:
            items = nil
        }

        func junctors(_ key: String) -> [SchemaNode] {
            (s[key].arrayValue ?? []).enumerated().map { i, child in
                SchemaNode(child, path: "\(path).\(key)[\(i)]", errors: &errors, insideValueValidation: true)
            }
        }
        allOf = junctors("allOf")
        anyOf = junctors("anyOf")
        oneOf = junctors("oneOf")
        not = { if case .object = s["not"] { return SchemaNode(s["not"], path: path + ".not", errors: &errors, insideValueValidation: true) } else { return nil } }()

        if let type, !SchemaNode.knownTypes.contains(type) {
            errors.append(.notSupported(path + ".type", .string(type), supported: ["array", "boolean", "integer", "number", "object", "string"]))
        }
        if case .object(let o) = s, o["$ref"] != nil {
            errors.append(.forbidden(path + ".$ref", "$ref is not supported"))
        }
        if s["uniqueItems"].boolValue == true {
            errors.append(.forbidden(path + ".uniqueItems", "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
        if type == "array" && items == nil && !insideValueValidation {
            errors.append(.required(path + ".items", "must be specified"))
        }
        if intOrString && type != nil {
            errors.append(.invalid(path + ".type", .string(type ?? ""), "must be empty if x-kubernetes-int-or-string is true"))
        }
        if listType == "map" {
            if listMapKeys.isEmpty {
                errors.append(.required(path + ".x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map"))
            }
            if items?.type != "object" {
                errors.append(.invalid(path + ".items.type", .string(items?.type ?? ""), "must be object if parent array's x-kubernetes-list-type is map"))
            }
        }
        if let listType, !["atomic", "set", "map"].contains(listType) {
            errors.append(.notSupported(path + ".x-kubernetes-list-type", .string(listType), supported: ["atomic", "set", "map"]))
        }
        if isRoot, nullable {
            errors.append(.forbidden(path + ".nullable", "nullable cannot be true at the root"))
        }
    }
}

/// A compiled `pattern`; NSRegularExpression is immutable after creation and documented as
/// safe to share between threads, which Swift cannot see.
final class CompiledPattern: @unchecked Sendable {
    let regex: NSRegularExpression

    init?(_ pattern: String) {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.regex = regex
    }

    /// Unanchored search, as JSON Schema's `pattern` means.
    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}

/// One `x-kubernetes-validations` entry with its program parsed once.
struct CELValidationRule: Sendable {
    let rule: String
    let message: String?
    let messageExpression: CELProgram?
    let reason: String
    let fieldPath: String?
    /// nil when the rule is outside the evaluator's subset.
    let program: CELProgram?

    init?(json: JSONValue) {
        guard let rule = json["rule"].stringValue else { return nil }
        self.rule = rule
        message = json["message"].stringValue
        messageExpression = json["messageExpression"].stringValue.flatMap { text in
            do { return try CELProgram(text) } catch { return nil }
        }
        reason = json["reason"].stringValue ?? "FieldValueInvalid"
        fieldPath = json["fieldPath"].stringValue
        do { program = try CELProgram(rule) } catch { program = nil }
    }
}
