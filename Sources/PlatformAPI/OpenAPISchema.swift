import JSON

/// A structural OpenAPI v3 schema, the single source for CRD generation and for decoding.
///
/// The same value that becomes `openAPIV3Schema` in the CRD is used by `SchemaValidator`
/// to default and check input, so the cluster and the operator cannot disagree on shape,
/// enums, bounds or defaults. Cross-field rules are written twice on purpose: as CEL
/// (`validations`) for the API server and in Swift (`*Validation.swift`) for decoding
/// outside a cluster; tests keep the two in step.
public struct OpenAPISchema: Sendable, Equatable {
    /// The OpenAPI `type` keyword.
    public enum ValueType: String, Sendable {
        case object, array, string, integer, number, boolean
    }

    /// A CEL rule (`x-kubernetes-validations` entry).
    public struct Rule: Sendable, Equatable {
        public var rule: String
        public var message: String
        /// Where the API server reports the failure, relative to the schema (`.max`).
        public var fieldPath: String?
        public init(_ rule: String, message: String, fieldPath: String? = nil) {
            self.rule = rule
            self.message = message
            self.fieldPath = fieldPath
        }
    }

    /// A named member of an object schema; kept in declaration order.
    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: OpenAPISchema
    }

    public var type: ValueType?
    public var description: String?
    public var properties: [Property] = []
    public var required: [String] = []
    /// Arrays hold zero or one element so the recursive type stays a value type.
    var itemsStorage: [OpenAPISchema] = []
    var additionalPropertiesStorage: [OpenAPISchema] = []
    public var enumValues: [String] = []
    public var pattern: String?
    public var minimum: Int64?
    public var maximum: Int64?
    public var minLength: Int?
    public var maxLength: Int?
    public var maxItems: Int?
    public var maxProperties: Int?
    public var defaultValue: JSONValue?
    public var validations: [Rule] = []
    /// Free-form subtree (status conditions' foreign fields, metadata).
    public var preserveUnknownFields = false
    public var intOrString = false
    public var listType: String?
    public var listMapKeys: [String] = []

    public init(type: ValueType?) { self.type = type }

    public var items: OpenAPISchema? { itemsStorage.first }
    public var additionalProperties: OpenAPISchema? { additionalPropertiesStorage.first }

    public func property(_ name: String) -> OpenAPISchema? {
        properties.first { $0.name == name }?.schema
    }
}

// Fluent construction, so schemas read like the YAML they become.
extension OpenAPISchema {
    public static func object(_ description: String? = nil, _ properties: [(String, OpenAPISchema)] = [], required: [String] = []) -> OpenAPISchema {
        var s = OpenAPISchema(type: .object)
        s.description = description
        s.properties = properties.map { Property(name: $0.0, schema: $0.1) }
        s.required = required
        return s
    }

    public static func map(_ description: String? = nil, values: OpenAPISchema, maxProperties: Int? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .object)
        s.description = description
        s.additionalPropertiesStorage = [values]
        s.maxProperties = maxProperties
        return s
    }

    public static func array(_ description: String? = nil, of items: OpenAPISchema, maxItems: Int? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .array)
        s.description = description
        s.itemsStorage = [items]
        s.maxItems = maxItems
        return s
    }

    public static func string(_ description: String? = nil, enum values: [String] = [], pattern: String? = nil, maxLength: Int? = nil, default value: String? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .string)
        s.description = description
        s.enumValues = values
        s.pattern = pattern
        s.maxLength = maxLength
        s.defaultValue = value.map { .string($0) }
        return s
    }

    public static func integer(_ description: String? = nil, minimum: Int64? = nil, maximum: Int64? = nil, default value: Int64? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .integer)
        s.description = description
        s.minimum = minimum
        s.maximum = maximum
        s.defaultValue = value.map { .int($0) }
        return s
    }

    public static func boolean(_ description: String? = nil, default value: Bool? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .boolean)
        s.description = description
        s.defaultValue = value.map { .bool($0) }
        return s
    }

    /// Kubernetes resource quantity (`250m`, `1Gi`), which clients may send as a number.
    public static func quantity(_ description: String? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: nil)
        s.description = description
        s.intOrString = true
        s.pattern = Quantity.pattern
        return s
    }

    public static func freeForm(_ description: String? = nil) -> OpenAPISchema {
        var s = OpenAPISchema(type: .object)
        s.description = description
        s.preserveUnknownFields = true
        return s
    }

    public func defaulting(_ value: JSONValue) -> OpenAPISchema {
        var s = self
        s.defaultValue = value
        return s
    }

    public func validated(_ rules: OpenAPISchema.Rule...) -> OpenAPISchema {
        var s = self
        s.validations += rules
        return s
    }

    public func listMap(keys: [String]) -> OpenAPISchema {
        var s = self
        s.listType = "map"
        s.listMapKeys = keys
        return s
    }
}

extension OpenAPISchema {
    /// The schema as it appears in a CRD (`openAPIV3Schema`).
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let type { o["type"] = .string(type.rawValue) }
        if let description { o["description"] = .string(description) }
        if !properties.isEmpty {
            var p: [String: JSONValue] = [:]
            for property in properties { p[property.name] = property.schema.jsonValue }
            o["properties"] = .object(p)
        }
        if !required.isEmpty { o["required"] = .array(required.map { .string($0) }) }
        if let items { o["items"] = items.jsonValue }
        if let additionalProperties { o["additionalProperties"] = additionalProperties.jsonValue }
        if !enumValues.isEmpty { o["enum"] = .array(enumValues.map { .string($0) }) }
        if let pattern { o["pattern"] = .string(pattern) }
        if let minimum { o["minimum"] = .int(minimum) }
        if let maximum { o["maximum"] = .int(maximum) }
        if let minLength { o["minLength"] = .int(Int64(minLength)) }
        if let maxLength { o["maxLength"] = .int(Int64(maxLength)) }
        if let maxItems { o["maxItems"] = .int(Int64(maxItems)) }
        if let maxProperties { o["maxProperties"] = .int(Int64(maxProperties)) }
        if let defaultValue { o["default"] = defaultValue }
        if preserveUnknownFields { o["x-kubernetes-preserve-unknown-fields"] = true }
        if intOrString { o["x-kubernetes-int-or-string"] = true }
        if let listType { o["x-kubernetes-list-type"] = .string(listType) }
        if !listMapKeys.isEmpty { o["x-kubernetes-list-map-keys"] = .array(listMapKeys.map { .string($0) }) }
        if !validations.isEmpty {
            o["x-kubernetes-validations"] = .array(validations.map { rule in
                var r: JSONValue = ["rule": .string(rule.rule), "message": .string(rule.message)]
                if let fieldPath = rule.fieldPath { r["fieldPath"] = .string(fieldPath) }
                return r
            })
        }
        return .object(o)
    }
}
