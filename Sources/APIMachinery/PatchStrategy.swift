import JSON

/// How the lists and maps of one kind merge: the `patchStrategy`/`patchMergeKey` struct tags
/// that strategic merge patch reads, and the `x-kubernetes-list-type`/`-list-map-keys`/
/// `-map-type` markers that server-side apply reads, for one node of an object and its children.
///
/// Guarantees:
/// - A field with no entry merges like an unknown field: maps merge member by member,
///   lists are replaced whole (atomic), which is what both mechanisms do for unlisted fields.
/// - For a keyed list the first key is strategic merge's `patchMergeKey`; all keys identify an
///   item for server-side apply (e.g. container ports: `containerPort` then `protocol`).
public final class PatchStrategy: Sendable {
    /// How a list merges.
    public enum ListType: Sendable, Equatable {
        /// Replaced whole (no patchStrategy / `x-kubernetes-list-type: atomic`).
        case atomic
        /// A set of scalars merged by value (`patchStrategy:"merge"` on scalars / `set`).
        case set
        /// Items identified by the values of `keys` (`patchMergeKey` / `map` + `list-map-keys`).
        case map(keys: [String])
    }

    public let listType: ListType?
    /// `patchStrategy:"retainKeys"`: fields absent from `$retainKeys` are cleared.
    public let retainKeys: Bool
    /// `+structType=atomic` / `+mapType=atomic`: server-side apply owns it as one value.
    public let atomic: Bool
    /// `patchStrategy:"replace"`: strategic merge replaces the value instead of merging it.
    public let replace: Bool
    public let fields: [String: PatchStrategy]
    /// The strategy of each list item.
    public let items: PatchStrategy?
    /// The strategy of each map value (for string-keyed maps like `additionalProperties`).
    public let values: PatchStrategy?

    public init(listType: ListType? = nil, retainKeys: Bool = false, atomic: Bool = false, replace: Bool = false,
                fields: [String: PatchStrategy] = [:], items: PatchStrategy? = nil, values: PatchStrategy? = nil) {
        self.listType = listType
        self.retainKeys = retainKeys
        self.atomic = atomic
        self.replace = replace
        self.fields = fields
        self.items = items
        self.values = values
    }

    /// The strategy for a member of this node (a struct field or a map value).
    public func child(_ key: String) -> PatchStrategy? { fields[key] ?? values }

    /// The strategic merge key of a keyed list.
    public var mergeKey: String? {
        if case .map(let keys) = listType { return keys.first }
        return nil
    }

    public static func object(_ fields: [String: PatchStrategy] = [:], retainKeys: Bool = false, atomic: Bool = false) -> PatchStrategy {
        PatchStrategy(retainKeys: retainKeys, atomic: atomic, fields: fields)
    }

    public static func list(keys: String..., item: PatchStrategy = .object()) -> PatchStrategy {
        PatchStrategy(listType: .map(keys: keys), items: item)
    }

    public static let set = PatchStrategy(listType: .set)
    public static let atomicList = PatchStrategy(listType: .atomic)
    public static let atomicValue = PatchStrategy(atomic: true)

    // MARK: CRDs

    /// The strategy a structural schema denotes through its `x-kubernetes-*` list and map markers,
    /// used for server-side apply to custom resources (which have no strategic merge).
    public convenience init(schema: StructuralSchema) {
        self.init(node: schema.root)
    }

    convenience init(node: SchemaNode) {
        var listType: ListType?
        if node.type == "array" {
            switch node.listType {
            case "map": listType = .map(keys: node.listMapKeys)
            case "set": listType = .set
            default: listType = .atomic
            }
        }
        self.init(
            listType: listType,
            atomic: node.mapType == "atomic" || node.intOrString,
            fields: node.properties.mapValues { PatchStrategy(node: $0) },
            items: node.items.map { PatchStrategy(node: $0) },
            values: node.additionalProperties.map { PatchStrategy(node: $0) }
        )
    }
}

extension PatchStrategy {
    /// The strategy of a built-in kind the operator writes, from the Go struct tags and OpenAPI
    /// markers of k8s.io/api; nil for kinds not covered.
    public static func builtIn(apiVersion: String, kind: String) -> PatchStrategy? {
        switch (apiVersion, kind) {
        case ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "ReplicaSet"), ("apps/v1", "DaemonSet"):
            return BuiltInStrategies.deployment
        case ("v1", "Service"): return BuiltInStrategies.service
        case ("v1", "ServiceAccount"): return BuiltInStrategies.serviceAccount
        case ("v1", "ConfigMap"), ("v1", "Secret"), ("coordination.k8s.io/v1", "Lease"), ("v1", "Event"),
             ("events.k8s.io/v1", "Event"):
            return BuiltInStrategies.metadataOnly
        case ("v1", "Namespace"): return BuiltInStrategies.namespace
        case ("v1", "Pod"): return BuiltInStrategies.pod
        case ("autoscaling/v2", "HorizontalPodAutoscaler"): return BuiltInStrategies.horizontalPodAutoscaler
        case ("policy/v1", "PodDisruptionBudget"): return BuiltInStrategies.podDisruptionBudget
        case ("networking.k8s.io/v1", "NetworkPolicy"): return BuiltInStrategies.networkPolicy
        case ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): return BuiltInStrategies.customResourceDefinition
        default: return nil
        }
    }
}

/// The struct tags of the k8s.io/api types the operator uses, transcribed by hand.
enum BuiltInStrategies {
    static let ownerReference = PatchStrategy.object()
    static let objectMeta = PatchStrategy.object([
        "ownerReferences": .list(keys: "uid"),
        "finalizers": .set,
        "managedFields": .atomicList,
    ])
    static let conditions = PatchStrategy.list(keys: "type")
    static let labelSelector = PatchStrategy.object(["matchExpressions": .atomicList], atomic: true)
    /// PodDisruptionBudget's selector is tagged `patchStrategy:"replace"`.
    static let replacedLabelSelector = PatchStrategy(atomic: true, replace: true, fields: ["matchExpressions": .atomicList])

    static let container = PatchStrategy.object([
        "ports": .list(keys: "containerPort", "protocol"),
        "env": .list(keys: "name", item: .object(["valueFrom": .object()])),
        "envFrom": .atomicList,
        "volumeMounts": .list(keys: "mountPath"),
        "volumeDevices": .list(keys: "devicePath"),
        "command": .atomicList,
        "args": .atomicList,
        "resizePolicy": .atomicList,
        "resources": .object(["claims": .list(keys: "name")]),
    ])

    static let podSpec = PatchStrategy.object([
        "containers": .list(keys: "name", item: container),
        "initContainers": .list(keys: "name", item: container),
        "ephemeralContainers": .list(keys: "name", item: container),
        "volumes": PatchStrategy(listType: .map(keys: ["name"]), items: .object(retainKeys: true)),
        "imagePullSecrets": .list(keys: "name"),
        "tolerations": .atomicList,
        "hostAliases": .list(keys: "ip"),
        "topologySpreadConstraints": .list(keys: "topologyKey", "whenUnsatisfiable"),
        "schedulingGates": .list(keys: "name"),
        "resourceClaims": .list(keys: "name"),
        "readinessGates": .atomicList,
        "nodeSelector": .atomicValue,
    ])

    static let podTemplate = PatchStrategy.object(["metadata": objectMeta, "spec": podSpec])

    static let deployment = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object([
            "selector": labelSelector,
            "template": podTemplate,
            "strategy": .object(retainKeys: true),
            "updateStrategy": .object(retainKeys: true),
        ]),
        "status": .object(["conditions": conditions]),
    ])

    static let pod = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": podSpec,
        "status": .object(["conditions": conditions]),
    ])

    static let service = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object([
            "ports": .list(keys: "port", "protocol"),
            "selector": .atomicValue,
            "externalIPs": .atomicList,
            "clusterIPs": .atomicList,
            "ipFamilies": .atomicList,
            "loadBalancerSourceRanges": .atomicList,
        ]),
        "status": .object(["conditions": conditions]),
    ])

    static let serviceAccount = PatchStrategy.object([
        "metadata": objectMeta,
        "secrets": .list(keys: "name"),
        "imagePullSecrets": .atomicList,
    ])

    static let metadataOnly = PatchStrategy.object(["metadata": objectMeta])

    static let namespace = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object(["finalizers": .atomicList]),
        "status": .object(["conditions": conditions]),
    ])

    static let horizontalPodAutoscaler = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object([
            "metrics": .atomicList,
            "behavior": .object([
                "scaleUp": .object(["policies": .atomicList]),
                "scaleDown": .object(["policies": .atomicList]),
            ]),
        ]),
        "status": .object(["conditions": conditions, "currentMetrics": .atomicList]),
    ])

    static let podDisruptionBudget = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object(["selector": replacedLabelSelector]),
        "status": .object(["conditions": conditions]),
    ])

    static let networkPolicy = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object([
            "podSelector": labelSelector,
            "ingress": .atomicList,
            "egress": .atomicList,
            "policyTypes": .atomicList,
        ]),
    ])

    static let customResourceDefinition = PatchStrategy.object([
        "metadata": objectMeta,
        "spec": .object([
            "versions": .atomicList,
        ]),
        "status": .object(["conditions": conditions]),
    ])
}
