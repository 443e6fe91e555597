import JSON

/// A named sizing and policy profile (cluster-scoped, like a StorageClass) that platforms
/// point at with `spec.tierRef`.
public struct ServiceTier: Sendable, Equatable {
    public static let kind = "ServiceTier"
    public static let plural = "servicetiers"

    public var name: String
    public var uid: String?
    public var generation: Int64?
    public var spec: ServiceTierSpec

    public init(name: String, spec: ServiceTierSpec) {
        self.name = name
        self.spec = spec
    }
}

/// Whether a data-tier resource outlives the platform that created it.
public enum DeletionPolicy: String, Sendable, CaseIterable {
    /// Leave the AWS resource alone (the safe default for medical data).
    case retain = "Retain"
    /// Take a final snapshot, then delete (databases and caches; S3 has no snapshots, so
    /// the storage schemas do not offer it).
    case snapshot = "Snapshot"
    case delete = "Delete"
}

/// Which EKS node group a service is scheduled onto.
public enum NodeGroupName: String, Sendable, CaseIterable {
    case system, application
}

/// Scheduling constraints for one node group.
public struct NodeGroupPlacement: Sendable, Equatable {
    public var nodeSelector: [String: String]
    /// Kubernetes `Toleration` objects, passed through as given.
    public var tolerations: [JSONValue]
}

/// Autoscaling bounds: the HPA's minReplicas and maxReplicas.
public struct ReplicaRange: Sendable, Equatable {
    public var min: Int64
    public var max: Int64
    public init(min: Int64, max: Int64) {
        self.min = min
        self.max = max
    }
}

/// Requests and limits as Kubernetes quantities (`cpu`, `memory`).
public struct ResourceSizing: Sendable, Equatable {
    public var requests: [String: String]
    public var limits: [String: String]
}

/// Per-service sizing in a tier.
public struct ServiceSizing: Sendable, Equatable {
    public var replicas: ReplicaRange
    public var targetCPUUtilizationPercentage: Int64
    public var resources: ResourceSizing
    public var nodeGroup: NodeGroupName
}

/// RDS PostgreSQL sizing and protection.
public struct DatabaseTier: Sendable, Equatable {
    public var instanceClass: String
    public var engineVersion: String
    public var allocatedStorageGiB: Int64
    public var multiAZ: Bool
    public var readReplicas: Int64
    public var backupRetentionDays: Int64
    public var storageEncrypted: Bool
}

/// ElastiCache Redis sizing and encryption.
public struct CacheTier: Sendable, Equatable {
    public var nodeType: String
    /// Replicas besides the primary.
    public var replicas: Int64
    public var atRestEncryption: Bool
    public var transitEncryption: Bool
}

/// S3 lifecycle transitions, in days since object creation.
public struct StorageLifecycle: Sendable, Equatable {
    public var infrequentAccessAfterDays: Int64
    public var glacierAfterDays: Int64
    public var deepArchiveAfterDays: Int64
    public init(infrequentAccessAfterDays: Int64, glacierAfterDays: Int64, deepArchiveAfterDays: Int64) {
        self.infrequentAccessAfterDays = infrequentAccessAfterDays
        self.glacierAfterDays = glacierAfterDays
        self.deepArchiveAfterDays = deepArchiveAfterDays
    }
}

/// S3 bucket policy shared by the five buckets.
public struct StorageTier: Sendable, Equatable {
    public var lifecycle: StorageLifecycle
    public var encrypted: Bool
    public var versioning: Bool
    /// Whether the static-assets bucket may be public (behind CloudFront); HIPAA tiers forbid it.
    public var publicStaticAssets: Bool
}

/// Deletion policy per data-tier dependency.
public struct DeletionPolicies: Sendable, Equatable {
    public var database: DeletionPolicy
    public var cache: DeletionPolicy
    public var storage: DeletionPolicy
    public init(database: DeletionPolicy, cache: DeletionPolicy, storage: DeletionPolicy) {
        self.database = database
        self.cache = cache
        self.storage = storage
    }
}

/// Usage the cost estimate assumes; they size nothing.
public struct CostAssumptions: Sendable, Equatable {
    public var storageGiB: Int64
    public var egressGiB: Int64
    public var loadBalancers: Int64
}

/// The tier's sizing and policy, fully defaulted.
public struct ServiceTierSpec: Sendable, Equatable {
    public var description: String?
    public var hipaa: Bool
    public var nodeGroups: [NodeGroupName: NodeGroupPlacement]
    public var services: [PlatformService: ServiceSizing]
    public var database: DatabaseTier
    public var cache: CacheTier
    public var storage: StorageTier
    public var logRetentionDays: Int64
    public var deletionPolicy: DeletionPolicies
    public var costAssumptions: CostAssumptions

    public func sizing(_ service: PlatformService) -> ServiceSizing { services[service]! }
    public func placement(_ group: NodeGroupName) -> NodeGroupPlacement { nodeGroups[group]! }
}

// MARK: - Schema

extension ServiceTier {
    static let dnsLabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

    static let tolerationSchema = OpenAPISchema.object("A Kubernetes toleration.", [
        ("key", .string(maxLength: 253)),
        ("operator", .string(enum: ["Exists", "Equal"], default: "Equal")),
        ("value", .string(maxLength: 63)),
        ("effect", .string(enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"])),
        ("tolerationSeconds", .integer()),
    ])

    static let nodeGroupSchema = OpenAPISchema.object("Scheduling constraints for pods placed on this node group.", [
        ("nodeSelector", OpenAPISchema.map(values: .string(maxLength: 63), maxProperties: 16).defaulting(.emptyObject)),
        ("tolerations", OpenAPISchema.array(of: tolerationSchema, maxItems: 16).defaulting([])),
    ]).defaulting(.emptyObject)

    public static let replicaRangeSchema = OpenAPISchema.object("Autoscaling bounds.", [
        ("min", .integer("Fewest pods; also the HPA's minReplicas.", minimum: 1, maximum: 1000, default: 1)),
        ("max", .integer("Most pods the HPA may scale to.", minimum: 1, maximum: 1000, default: 3)),
    ]).validated(.init("self.min <= self.max", message: "max must be >= min", fieldPath: ".max"))
        .defaulting(.emptyObject)

    static let resourceListSchema = OpenAPISchema.object(nil, [
        ("cpu", .quantity("CPU, e.g. 250m.")),
        ("memory", .quantity("Memory, e.g. 512Mi.")),
    ])

    static let serviceSizingSchema = OpenAPISchema.object("Sizing of one service.", [
        ("replicas", replicaRangeSchema),
        ("targetCPUUtilizationPercentage", .integer("HPA target average CPU utilization.", minimum: 1, maximum: 100, default: 70)),
        ("resources", OpenAPISchema.object("Container requests and limits.", [
            ("requests", resourceListSchema.defaulting(["cpu": "100m", "memory": "128Mi"])),
            ("limits", resourceListSchema.defaulting(["cpu": "500m", "memory": "512Mi"])),
        ]).validated(.init("has(self.requests.cpu)", message: "a CPU request is required: the autoscaler's target is a share of it", fieldPath: ".requests"))
            .defaulting(.emptyObject)),
        ("nodeGroup", .string("Node group the pods run on.", enum: NodeGroupName.allCases.map(\.rawValue), default: "application")),
    ]).defaulting(.emptyObject)

    static let deletionPolicySchema = OpenAPISchema.string(
        "What happens to the AWS resource when the platform is deleted.",
        enum: DeletionPolicy.allCases.map(\.rawValue), default: "Retain")

    static let storageDeletionPolicySchema = OpenAPISchema.string(
        "What happens to the buckets when the platform is deleted (S3 has no snapshots).",
        enum: [DeletionPolicy.retain.rawValue, DeletionPolicy.delete.rawValue], default: "Retain")

    public static let lifecycleSchema = OpenAPISchema.object("S3 lifecycle transitions, days after creation.", [
        ("infrequentAccessAfterDays", .integer(minimum: 30, maximum: 36500, default: 30)),
        ("glacierAfterDays", .integer(minimum: 31, maximum: 36500, default: 90)),
        ("deepArchiveAfterDays", .integer(minimum: 32, maximum: 36500, default: 365)),
    ]).validated(
        .init("self.infrequentAccessAfterDays < self.glacierAfterDays", message: "glacierAfterDays must be after infrequentAccessAfterDays", fieldPath: ".glacierAfterDays"),
        .init("self.glacierAfterDays < self.deepArchiveAfterDays", message: "deepArchiveAfterDays must be after glacierAfterDays", fieldPath: ".deepArchiveAfterDays")
    ).defaulting(.emptyObject)

    /// The only retention periods CloudWatch Logs' PutRetentionPolicy accepts.
    public static let cloudWatchRetentionDays: [Int64] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

    public static let instanceClassPattern = "^db\\.[a-z0-9]+\\.[a-z0-9]+$"
    public static let cacheNodeTypePattern = "^cache\\.[a-z0-9]+\\.[a-z0-9]+$"

    static let specSchema: OpenAPISchema = {
        var services: [(String, OpenAPISchema)] = []
        for service in PlatformService.allCases { services.append((service.rawValue, serviceSizingSchema)) }
        return OpenAPISchema.object("Sizing and policy applied to every platform that references this tier.", [
            ("description", .string("What the tier is for.", maxLength: 256)),
            ("hipaa", .boolean("Forbid unencrypted storage, public buckets and backup retention under 7 days.", default: false)),
            ("nodeGroups", OpenAPISchema.object("Placement of the system and application node groups.", [
                ("system", nodeGroupSchema), ("application", nodeGroupSchema),
            ]).defaulting(.emptyObject)),
            ("services", OpenAPISchema.object("Per-service sizing.", services).defaulting(.emptyObject)),
            ("database", OpenAPISchema.object("RDS PostgreSQL.", [
                ("instanceClass", .string("RDS instance class.", pattern: instanceClassPattern, default: "db.t3.micro")),
                ("engineVersion", .string("PostgreSQL major version.", pattern: "^[0-9]+(\\.[0-9]+)?$", default: "16")),
                ("allocatedStorageGiB", .integer(minimum: 20, maximum: 65536, default: 20)),
                ("multiAZ", .boolean("Synchronous standby in a second availability zone.", default: false)),
                ("readReplicas", .integer(minimum: 0, maximum: 5, default: 0)),
                ("backupRetentionDays", .integer(minimum: 0, maximum: 35, default: 7)),
                ("storageEncrypted", .boolean(default: true)),
            ]).defaulting(.emptyObject)),
            ("cache", OpenAPISchema.object("ElastiCache Redis.", [
                ("nodeType", .string("ElastiCache node type.", pattern: cacheNodeTypePattern, default: "cache.t3.micro")),
                ("replicas", .integer("Replicas besides the primary.", minimum: 0, maximum: 5, default: 0)),
                ("atRestEncryption", .boolean(default: true)),
                ("transitEncryption", .boolean(default: true)),
            ]).defaulting(.emptyObject)),
            ("storage", OpenAPISchema.object("S3 buckets.", [
                ("lifecycle", lifecycleSchema),
                ("encrypted", .boolean(default: true)),
                ("versioning", .boolean(default: true)),
                ("publicStaticAssets", .boolean("Allow a public static-assets bucket.", default: false)),
            ]).defaulting(.emptyObject)),
            ("logRetentionDays", .integer("CloudWatch log retention; one of the values CloudWatch accepts.", minimum: 1, maximum: 3653, default: 30)),
            ("deletionPolicy", OpenAPISchema.object("Defaults for platforms that do not set their own.", [
                ("database", deletionPolicySchema), ("cache", deletionPolicySchema), ("storage", storageDeletionPolicySchema),
            ]).defaulting(.emptyObject)),
            ("costAssumptions", OpenAPISchema.object("Usage assumed by the monthly cost estimate.", [
                ("storageGiB", .integer("S3 Standard GiB stored.", minimum: 0, default: 100)),
                ("egressGiB", .integer("GiB transferred out per month.", minimum: 0, default: 50)),
                ("loadBalancers", .integer("Application load balancers.", minimum: 0, maximum: 10, default: 1)),
            ]).defaulting(.emptyObject)),
        ]).validated(
            .init("self.logRetentionDays in \(ServiceTier.cloudWatchRetentionDays)", message: "must be a retention CloudWatch accepts: \(ServiceTier.cloudWatchRetentionDays.map(String.init).joined(separator: ", "))", fieldPath: ".logRetentionDays"),
            .init("!self.hipaa || self.database.storageEncrypted", message: "HIPAA tiers require encrypted database storage", fieldPath: ".database.storageEncrypted"),
            .init("!self.hipaa || self.database.backupRetentionDays >= 7", message: "HIPAA tiers require at least 7 days of backups", fieldPath: ".database.backupRetentionDays"),
            .init("!self.hipaa || (self.cache.atRestEncryption && self.cache.transitEncryption)", message: "HIPAA tiers require cache encryption at rest and in transit", fieldPath: ".cache"),
            .init("!self.hipaa || self.storage.encrypted", message: "HIPAA tiers require encrypted buckets", fieldPath: ".storage.encrypted"),
            .init("!self.hipaa || !self.storage.publicStaticAssets", message: "HIPAA tiers forbid public buckets", fieldPath: ".storage.publicStaticAssets")
        ).defaulting(.emptyObject)
    }()
}

// MARK: - Decoding

extension ServiceTier {
    /// Decodes a ServiceTier object, applying defaults and the cross-field rules.
    public static func decode(_ object: JSONValue) throws(SpecDecodingError) -> ServiceTier {
        var violations = ObjectEnvelope.check(object, kind: kind, namespaced: false)
        let (spec, specViolations) = SchemaValidator().apply(specSchema, to: object["spec"].isNull ? .emptyObject : object["spec"], at: FieldPath(["spec"]))
        violations += specViolations
        if !violations.isEmpty { throw SpecDecodingError(kind: kind, violations: violations) }
        var tier = ServiceTier(name: object[path: ["metadata", "name"]].stringValue ?? "", spec: ServiceTierSpec(defaulted: spec))
        tier.uid = object[path: ["metadata", "uid"]].stringValue
        tier.generation = object[path: ["metadata", "generation"]].intValue
        let crossField = tier.spec.violations()
        if !crossField.isEmpty { throw SpecDecodingError(kind: kind, violations: crossField) }
        return tier
    }
}

extension ServiceTierSpec {
    /// Reads a spec the schema has already checked and defaulted.
    init(defaulted s: JSONValue) {
        description = s["description"].stringValue
        hipaa = s["hipaa"].boolValue ?? false
        nodeGroups = [:]
        for group in NodeGroupName.allCases {
            let g = s[path: ["nodeGroups", group.rawValue]]
            nodeGroups[group] = NodeGroupPlacement(
                nodeSelector: (g["nodeSelector"].objectValue ?? [:]).compactMapValues(\.stringValue),
                tolerations: g["tolerations"].arrayValue ?? [])
        }
        services = [:]
        for service in PlatformService.allCases {
            let v = s[path: ["services", service.rawValue]]
            services[service] = ServiceSizing(
                replicas: ReplicaRange(min: v[path: ["replicas", "min"]].intValue ?? 1, max: v[path: ["replicas", "max"]].intValue ?? 3),
                targetCPUUtilizationPercentage: v["targetCPUUtilizationPercentage"].intValue ?? 70,
                resources: ResourceSizing(
                    requests: Self.quantities(v[path: ["resources", "requests"]]),
                    limits: Self.quantities(v[path: ["resources", "limits"]])),
                nodeGroup: NodeGroupName(rawValue: v["nodeGroup"].stringValue ?? "") ?? .application)
        }
        let d = s["database"]
        database = DatabaseTier(
            instanceClass: d["instanceClass"].stringValue ?? "db.t3.micro",
            engineVersion: d["engineVersion"].stringValue ?? "16",
            allocatedStorageGiB: d["allocatedStorageGiB"].intValue ?? 20,
            multiAZ: d["multiAZ"].boolValue ?? false,
            readReplicas: d["readReplicas"].intValue ?? 0,
            backupRetentionDays: d["backupRetentionDays"].intValue ?? 7,
            storageEncrypted: d["storageEncrypted"].boolValue ?? true)
        let c = s["cache"]
        cache = CacheTier(
            nodeType: c["nodeType"].stringValue ?? "cache.t3.micro",
            replicas: c["replicas"].intValue ?? 0,
            atRestEncryption: c["atRestEncryption"].boolValue ?? true,
            transitEncryption: c["transitEncryption"].boolValue ?? true)
        let st = s["storage"]
        storage = StorageTier(
            lifecycle: StorageLifecycle(defaulted: st["lifecycle"]),
            encrypted: st["encrypted"].boolValue ?? true,
            versioning: st["versioning"].boolValue ?? true,
            publicStaticAssets: st["publicStaticAssets"].boolValue ?? false)
        logRetentionDays = s["logRetentionDays"].intValue ?? 30
        let p = s["deletionPolicy"]
        deletionPolicy = DeletionPolicies(
            database: DeletionPolicy(rawValue: p["database"].stringValue ?? "") ?? .retain,
            cache: DeletionPolicy(rawValue: p["cache"].stringValue ?? "") ?? .retain,
            storage: DeletionPolicy(rawValue: p["storage"].stringValue ?? "") ?? .retain)
        let a = s["costAssumptions"]
        costAssumptions = CostAssumptions(
            storageGiB: a["storageGiB"].intValue ?? 100,
            egressGiB: a["egressGiB"].intValue ?? 50,
            loadBalancers: a["loadBalancers"].intValue ?? 1)
    }

    static func quantities(_ v: JSONValue) -> [String: String] {
        var out: [String: String] = [:]
        for (k, value) in v.objectValue ?? [:] {
            switch value {
            case .string(let s): out[k] = s
            case .int(let i): out[k] = String(i)
            case .double(let d): out[k] = String(d)
            default: break
            }
        }
        return out
    }
}

extension StorageLifecycle {
    init(defaulted l: JSONValue) {
        infrequentAccessAfterDays = l["infrequentAccessAfterDays"].intValue ?? 30
        glacierAfterDays = l["glacierAfterDays"].intValue ?? 90
        deepArchiveAfterDays = l["deepArchiveAfterDays"].intValue ?? 365
    }
}

/// Checks of the parts outside `spec` that decoding relies on.
enum ObjectEnvelope {
    static func check(_ object: JSONValue, kind: String, namespaced: Bool) -> [SpecViolation] {
        var violations: [SpecViolation] = []
        guard object.objectValue != nil else {
            return [SpecViolation(field: "", message: "must be an object")]
        }
        if object["apiVersion"].stringValue != PlatformAPIGroup.apiVersion {
            violations.append(SpecViolation(field: "apiVersion", message: "must be \(PlatformAPIGroup.apiVersion)"))
        }
        if object["kind"].stringValue != kind {
            violations.append(SpecViolation(field: "kind", message: "must be \(kind)"))
        }
        if let name = object[path: ["metadata", "name"]].stringValue {
            if name.count > 63 || !SchemaValidator.matches(name, ServiceTier.dnsLabelPattern) {
                violations.append(SpecViolation(field: "metadata.name", message: "must be a DNS label (lowercase letters, digits, '-'; at most 63 characters)"))
            }
        } else {
            violations.append(SpecViolation(field: "metadata.name", message: "required"))
        }
        return violations
    }
}
