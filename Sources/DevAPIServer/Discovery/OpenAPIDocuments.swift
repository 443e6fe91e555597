import JSON

/// OpenAPI v3 documents (`/openapi/v3` and one per group-version) built from the served types
/// and the CRDs' structural schemas.
///
/// Guarantees: every resource has item and collection paths whose operations carry
/// `x-kubernetes-group-version-kind` and the `fieldValidation` parameter, which is how kubectl
/// v1.32 decides to validate on the server instead of downloading schemas; every CRD kind has a
/// component schema with its own `openAPIV3Schema`, which `kubectl explain` reads.
/// Caveats: built-in kinds get a permissive schema (`apiVersion`, `kind`, `metadata`, open
/// `spec`/`status`), so `kubectl explain` on them shows no field docs. PATCH operations do not
/// advertise strategic merge patch in their request body, so kubectl's client-side apply
/// computes strategic patches from its compiled-in types rather than from these schemas.
struct OpenAPIDocuments: Sendable {
    let types: [ResourceType]
    let serverVersion: String

    /// Relative path (`api/v1`, `apis/apps/v1`) of each served group-version.
    var groupVersionPaths: [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for type in types {
            let path = Self.groupVersionPath(group: type.group, version: type.version)
            if seen.insert(path).inserted { out.append(path) }
        }
        return out.sorted()
    }

    static func groupVersionPath(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    var root: JSONValue {
        var paths = JSONValue.emptyObject
        for path in groupVersionPaths {
            let document = self.document(forPath: path) ?? .null
            // The hash lets clients cache per group-version; any stable digest of the content works.
            let hash = Self.fnv1a(document.serializedBytes())
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash)")]
        }
        return ["paths": paths]
    }

    func document(forPath path: String) -> JSONValue? {
        let served = types.filter { Self.groupVersionPath(group: $0.group, version: $0.version) == path }
        guard !served.isEmpty else { return nil }
        var paths = JSONValue.emptyObject
        var schemas: JSONValue = ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": Self.objectMetaSchema]
        for type in served.sorted(by: { $0.plural < $1.plural }) {
            let schemaName = Self.schemaName(for: type)
            var schema = type.schema ?? Self.permissiveSchema
            schema = Self.withStandardFields(schema, description: "\(type.kind) is served by the medsearch development API server.")
            schema["x-kubernetes-group-version-kind"] = [["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]]
            schemas[schemaName] = schema
            let ref: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName)")]
            let base = "/" + path + (type.namespaced ? "/namespaces/{namespace}/" : "/") + type.plural
            paths[base] = collectionOperations(type, ref: ref)
            paths[base + "/{name}"] = itemOperations(type, ref: ref, subresource: nil)
            if type.hasStatusSubresource { paths[base + "/{name}/status"] = itemOperations(type, ref: ref, subresource: "status") }
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": .string(serverVersion)],
            "paths": paths,
            "components": ["schemas": schemas],
        ]
    }

    static func schemaName(for type: ResourceType) -> String {
        if type.group == "apiextensions.k8s.io" { return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.\(type.version).\(type.kind)" }
        if ResourceRequestHandler.isBuiltInGroup(type.group) {
            let package = type.group.isEmpty ? "core" : String(type.group.split(separator: ".")[0])
            return "io.k8s.api.\(package).\(type.version).\(type.kind)"
        }
        return type.group.split(separator: ".").reversed().joined(separator: ".") + ".\(type.version).\(type.kind)"
    }

    private func gvk(_ type: ResourceType) -> JSONValue {
        ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
    }

    private static func queryParameter(_ name: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "query", "description": .string(description), "schema": ["type": "string"], "uniqueItems": true]
    }

    private static let writeParameters: [JSONValue] = [
        queryParameter("dryRun", "When present, indicates that modifications should not be persisted."),
        queryParameter("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
        queryParameter("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
    ]

    private func operation(_ type: ResourceType, action: String, ref: JSONValue, parameters: [JSONValue], body: [String]?) -> JSONValue {
        var op: JSONValue = [
            "operationId": .string("\(action)\(type.kind)"),
            "x-kubernetes-action": .string(action),
            "x-kubernetes-group-version-kind": gvk(type),
            "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]],
        ]
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        if let body {
            var content = JSONValue.emptyObject
            for mediaType in body { content[mediaType] = ["schema": ref] }
            op["requestBody"] = ["content": content, "required": true]
        }
        return op
    }

    private func collectionOperations(_ type: ResourceType, ref: JSONValue) -> JSONValue {
        var ops: JSONValue = [
            "get": operation(type, action: "list", ref: ref, parameters: [
                Self.queryParameter("labelSelector", "A selector to restrict the list of returned objects by their labels."),
                Self.queryParameter("fieldSelector", "A selector to restrict the list of returned objects by their fields."),
                Self.queryParameter("watch", "Watch for changes to the described resources."),
            ], body: nil),
            "post": operation(type, action: "post", ref: ref, parameters: Self.writeParameters, body: ["*/*"]),
            "delete": operation(type, action: "deletecollection", ref: ref, parameters: [], body: nil),
        ]
        if type.namespaced { ops["parameters"] = [Self.pathParameter("namespace")] }
        return ops
    }

    private func itemOperations(_ type: ResourceType, ref: JSONValue, subresource: String?) -> JSONValue {
        let patchParameters = Self.writeParameters + [Self.queryParameter("force", "Force is going to \"force\" Apply requests.")]
        var ops: JSONValue = [
            "get": operation(type, action: "get", ref: ref, parameters: [], body: nil),
            "put": operation(type, action: "put", ref: ref, parameters: Self.writeParameters, body: ["*/*"]),
            "patch": operation(type, action: "patch", ref: ref, parameters: patchParameters,
                               body: ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"]),
        ]
        if subresource == nil { ops["delete"] = operation(type, action: "delete", ref: ref, parameters: [], body: nil) }
        var pathParameters = [Self.pathParameter("name")]
        if type.namespaced { pathParameters.append(Self.pathParameter("namespace")) }
        ops["parameters"] = .array(pathParameters)
        return ops
    }

    private static func pathParameter(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"], "uniqueItems": true]
    }

    /// Adds apiVersion/kind/metadata to a schema that lacks them, as the real server does when publishing CRD schemas.
    static func withStandardFields(_ schema: JSONValue, description: String) -> JSONValue {
        var schema = schema
        if schema["type"].isNull { schema["type"] = "object" }
        if schema["description"].isNull { schema["description"] = .string(description) }
        var properties = schema["properties"].objectValue ?? [:]
        if properties["apiVersion"] == nil {
            properties["apiVersion"] = ["type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."]
        }
        if properties["kind"] == nil {
            properties["kind"] = ["type": "string", "description": "Kind is a string value representing the REST resource this object represents."]
        }
        properties["metadata"] = [
            "description": "Standard object's metadata.",
            "allOf": [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]],
        ]
        schema["properties"] = .object(properties)
        return schema
    }

    static let permissiveSchema: JSONValue = [
        "type": "object",
        "properties": [
            "spec": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
            "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
        ],
        "x-kubernetes-preserve-unknown-fields": true,
    ]

    static let objectMetaSchema: JSONValue = [
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        "properties": [
            "name": ["type": "string", "description": "Name must be unique within a namespace."],
            "generateName": ["type": "string", "description": "Prefix used to generate a unique name when name is not provided."],
            "namespace": ["type": "string", "description": "Namespace defines the space within which each name must be unique."],
            "labels": ["type": "object", "additionalProperties": ["type": "string"], "description": "Map of string keys and values that can be used to organize and categorize objects."],
            "annotations": ["type": "object", "additionalProperties": ["type": "string"], "description": "Unstructured key value map stored with a resource."],
            "uid": ["type": "string", "description": "UID is the unique in time and space value for this object."],
            "resourceVersion": ["type": "string", "description": "An opaque value that represents the internal version of this object."],
            "generation": ["type": "integer", "format": "int64", "description": "A sequence number representing a specific generation of the desired state."],
            "creationTimestamp": ["type": "string", "format": "date-time", "description": "Time at which this object was created."],
            "deletionTimestamp": ["type": "string", "format": "date-time", "description": "Time at which this resource will be deleted."],
            "finalizers": ["type": "array", "items": ["type": "string"], "description": "Must be empty before the object is deleted from the registry."],
            "ownerReferences": ["type": "array", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true], "description": "List of objects depended by this object."],
            "managedFields": ["type": "array", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true], "description": "Maps workflow-id and version to the set of fields that are managed by that workflow."],
        ],
    ]

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16).uppercased()
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
