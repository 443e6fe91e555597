import JSON

/// The two CustomResourceDefinitions, generated from the Swift schemas.
///
/// Guarantees: output is a pure function of the code, so `crds/` can be checked for drift;
/// every schema is structural (types everywhere, `x-kubernetes-preserve-unknown-fields`
/// only where content is genuinely free-form).
public enum CustomResourceDefinitions {
    public static var all: [JSONValue] { [medicalSearchPlatform, serviceTier] }

    /// File names under `crds/`, following the kubebuilder convention `<group>_<plural>.yaml`.
    public static func fileName(for crd: JSONValue) -> String {
        "\(PlatformAPIGroup.group)_\(crd[path: ["spec", "names", "plural"]].stringValue ?? "unknown").yaml"
    }

    public static var medicalSearchPlatform: JSONValue {
        definition(
            kind: MedicalSearchPlatform.kind, plural: MedicalSearchPlatform.plural,
            shortNames: [MedicalSearchPlatform.shortName], scope: "Namespaced",
            description: "A medical AI search platform: six services on Kubernetes and their RDS, ElastiCache and S3 data tier, sized by a ServiceTier.",
            spec: MedicalSearchPlatform.specSchema, status: statusSchema,
            columns: [
                column("Tier", "string", ".spec.tierRef.name"),
                column("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status"),
                column("Services", "string", ".status.servicesSummary", "Ready services out of enabled ones."),
                column("Database", "string", ".status.conditions[?(@.type==\"DatabaseReady\")].status"),
                column("Cache", "string", ".status.conditions[?(@.type==\"CacheReady\")].status"),
                column("Storage", "string", ".status.conditions[?(@.type==\"StorageReady\")].status"),
                column("Cost", "string", ".status.estimatedMonthlyCost.total", "Estimated monthly cost in USD.", priority: 1),
                column("Age", "date", ".metadata.creationTimestamp"),
            ])
    }

    public static var serviceTier: JSONValue {
        definition(
            kind: ServiceTier.kind, plural: ServiceTier.plural, shortNames: ["st"], scope: "Cluster",
            description: "A named sizing and policy profile that MedicalSearchPlatforms reference, like a StorageClass.",
            spec: ServiceTier.specSchema, status: nil,
            columns: [
                column("HIPAA", "boolean", ".spec.hipaa"),
                column("Database", "string", ".spec.database.instanceClass"),
                column("Multi-AZ", "boolean", ".spec.database.multiAZ"),
                column("Cache", "string", ".spec.cache.nodeType"),
                column("Backups", "integer", ".spec.database.backupRetentionDays", "Backup retention in days."),
                column("Age", "date", ".metadata.creationTimestamp"),
            ])
    }

    /// The status schema; the operator is its only writer, so it is kept loose where the
    /// controller may add detail later (service and endpoint maps).
    public static let statusSchema: OpenAPISchema = {
        let condition = OpenAPISchema.object("A metav1.Condition.", [
            ("type", .string(pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$", maxLength: 316)),
            ("status", .string(enum: ["True", "False", "Unknown"])),
            ("reason", .string(pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", maxLength: 1024)),
            ("message", .string(maxLength: 32768)),
            ("lastTransitionTime", .string("RFC 3339 time of the last status change.")),
            ("observedGeneration", .integer(minimum: 0)),
        ], required: ["type", "status", "lastTransitionTime", "reason", "message"])
        return OpenAPISchema.object("Observed state, written by the operator.", [
            ("observedGeneration", .integer("The generation the status describes.", minimum: 0)),
            ("conditions", OpenAPISchema.array(of: condition, maxItems: 32).listMap(keys: ["type"])),
            ("services", OpenAPISchema.map("Replica counts per service.", values: .object(nil, [
                ("desiredReplicas", .integer(minimum: 0)),
                ("readyReplicas", .integer(minimum: 0)),
            ]))),
            ("servicesSummary", .string("Ready/enabled services.")),
            ("endpoints", OpenAPISchema.map("Endpoints of the data tier and services.", values: .string())),
            ("estimatedMonthlyCost", OpenAPISchema.object("Estimated monthly cost from the tier's sizing.", [
                ("currency", .string()),
                ("total", .string()),
                ("items", OpenAPISchema.map(values: .string())),
            ])),
            ("failedGuardrails", OpenAPISchema.array("Policy checks the spec fails.", of: .string(), maxItems: 64)),
        ])
    }()

    static func column(_ name: String, _ type: String, _ path: String, _ description: String? = nil, priority: Int64 = 0) -> JSONValue {
        var c: JSONValue = ["name": .string(name), "type": .string(type), "jsonPath": .string(path)]
        if let description { c["description"] = .string(description) }
        if priority != 0 { c["priority"] = .int(priority) }
        return c
    }

    static func definition(
        kind: String, plural: String, shortNames: [String], scope: String, description: String,
        spec: OpenAPISchema, status: OpenAPISchema?, columns: [JSONValue]
    ) -> JSONValue {
        var root = OpenAPISchema.object(description, [
            ("apiVersion", .string("Versioned schema of this representation.")),
            ("kind", .string("REST resource this object represents.")),
            ("metadata", OpenAPISchema(type: .object)),
            ("spec", spec.defaultValue == nil ? spec : { var s = spec; s.defaultValue = nil; return s }()),
        ], required: ["spec"])
        if let status { root.properties.append(.init(name: "status", schema: status)) }
        var version: JSONValue = [
            "name": .string(PlatformAPIGroup.version),
            "served": true,
            "storage": true,
            "schema": ["openAPIV3Schema": root.jsonValue],
            "additionalPrinterColumns": .array(columns),
        ]
        if status != nil { version["subresources"] = ["status": .emptyObject] }
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": [
                "name": .string("\(plural).\(PlatformAPIGroup.group)"),
                "labels": ["app.kubernetes.io/part-of": "medsearch", "app.kubernetes.io/managed-by": "medsearch-operator"],
            ],
            "spec": [
                "group": .string(PlatformAPIGroup.group),
                "scope": .string(scope),
                "names": [
                    "kind": .string(kind),
                    "listKind": .string("\(kind)List"),
                    "plural": .string(plural),
                    "singular": .string(kind.lowercased()),
                    "shortNames": .array(shortNames.map { .string($0) }),
                    "categories": [.string(PlatformAPIGroup.category)],
                ],
                "versions": [version],
            ],
        ]
    }
}
