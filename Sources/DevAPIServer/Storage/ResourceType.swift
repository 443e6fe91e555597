import JSON

/// One resource the store serves: its names, scope and the behaviour that differs by kind.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var listKind: String
    public var plural: String
    public var singular: String
    public var shortNames: [String]
    public var categories: [String]
    public var namespaced: Bool
    public var hasStatusSubresource: Bool
    public var verbs: [String]
    public var printerColumns: [PrinterColumn]
    /// The `openAPIV3Schema` of a custom resource version; nil for built-ins.
    public var schema: JSONValue?
    /// Whether the version is the storage version (custom resources); built-ins always true.
    public var storage: Bool

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var key: ResourceKey { ResourceKey(group: group, version: version, plural: plural) }
    /// Custom resources are the ones with a schema from a CRD.
    public var isCustomResource: Bool { schema != nil }

    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public init(
        group: String, version: String, kind: String, listKind: String? = nil, plural: String,
        singular: String? = nil, shortNames: [String] = [], categories: [String] = [],
        namespaced: Bool, hasStatusSubresource: Bool, verbs: [String] = ResourceType.standardVerbs,
        printerColumns: [PrinterColumn] = [], schema: JSONValue? = nil, storage: Bool = true
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.listKind = listKind ?? kind + "List"
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.shortNames = shortNames
        self.categories = categories
        self.namespaced = namespaced
        self.hasStatusSubresource = hasStatusSubresource
        self.verbs = verbs
        self.printerColumns = printerColumns
        self.schema = schema
        self.storage = storage
    }
}

/// A column of `kubectl get` table output (`additionalPrinterColumns` for custom resources).
public struct PrinterColumn: Sendable, Hashable {
    public var name: String
    public var type: String
    public var jsonPath: String
    public var description: String
    public var priority: Int
    public var format: String

    public init(name: String, type: String, jsonPath: String, description: String = "", priority: Int = 0, format: String = "") {
        self.name = name
        self.type = type
        self.jsonPath = jsonPath
        self.description = description
        self.priority = priority
        self.format = format
    }
}

/// How HTTP routes address a resource type: `/apis/{group}/{version}/.../{plural}`.
public struct ResourceKey: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var plural: String

    public init(group: String, version: String, plural: String) {
        self.group = group
        self.version = version
        self.plural = plural
    }

    /// `plural.group` as the API server names resources in messages ("deployments.apps").
    public var groupResource: String { group.isEmpty ? plural : "\(plural).\(group)" }
    public var description: String { group.isEmpty ? "\(version)/\(plural)" : "\(group)/\(version)/\(plural)" }
}
