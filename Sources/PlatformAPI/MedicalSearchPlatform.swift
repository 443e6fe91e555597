import JSON

/// One medical AI search platform (namespaced, short name `msp`): six services on
/// Kubernetes plus their RDS, ElastiCache and S3 data tier, sized by a `ServiceTier`.
public struct MedicalSearchPlatform: Sendable, Equatable {
    public static let kind = "MedicalSearchPlatform"
    public static let plural = "medicalsearchplatforms"
    public static let shortName = "msp"
    /// Children are named `<platform>-<service>` (up to 13 more characters) and must stay
    /// valid DNS labels; the bucket names add a little more.
    public static let maximumNameLength = 40

    public var name: String
    public var namespace: String
    public var uid: String?
    public var generation: Int64?
    public var spec: MedicalSearchPlatformSpec
    public var status: PlatformStatus?

    public init(name: String, namespace: String, spec: MedicalSearchPlatformSpec) {
        self.name = name
        self.namespace = namespace
        self.spec = spec
    }
}

/// Where images come from: an ECR registry and a tag shared by every service.
public struct ImageSettings: Sendable, Equatable {
    public var registry: String
    public var tag: String
    public var pullPolicy: String
}

/// What a platform changes about one service relative to its tier.
public struct ServiceOverride: Sendable, Equatable {
    public var enabled: Bool = true
    public var minReplicas: Int64?
    public var maxReplicas: Int64?
    public var repository: String?
    public var tag: String?
    public var env: [String: String] = [:]
    /// IAM role the service's pods assume through IRSA.
    public var iamRoleArn: String?
    public init() {}
}

/// A host and port, given in the spec until the data tier discovers them.
public struct Endpoint: Sendable, Equatable {
    public var host: String
    public var port: Int64
    public init(host: String, port: Int64) {
        self.host = host
        self.port = port
    }
}

/// The platform's RDS settings: overrides of the tier (nil = the tier's value), adoption and wiring.
public struct DatabaseSettings: Sendable, Equatable {
    public var instanceClass: String?
    public var allocatedStorageGiB: Int64?
    public var multiAZ: Bool?
    public var readReplicas: Int64?
    public var backupRetentionDays: Int64?
    public var storageEncrypted: Bool?
    public var deletionPolicy: DeletionPolicy?
    /// Identifier of an existing RDS instance to manage instead of creating one.
    public var adoptInstanceIdentifier: String?
    public var endpoint: Endpoint?
    public var databaseName: String = "medsearch"
    /// Secret (in the platform's namespace) holding `username` and `password`.
    public var credentialsSecretName: String?
}

/// The platform's ElastiCache settings: overrides of the tier, adoption and wiring.
public struct CacheSettings: Sendable, Equatable {
    public var nodeType: String?
    public var replicas: Int64?
    public var atRestEncryption: Bool?
    public var transitEncryption: Bool?
    public var deletionPolicy: DeletionPolicy?
    /// ID of an existing ElastiCache replication group to manage instead of creating one.
    public var adoptReplicationGroupId: String?
    public var endpoint: Endpoint?
    /// Secret holding the Redis AUTH token under `authToken`.
    public var authSecretName: String?
}

/// The five buckets of the seed's storage design.
public enum BucketRole: String, Sendable, CaseIterable, Comparable {
    case documents, staticAssets, mlArtifacts, logs, backups

    public static func < (a: BucketRole, b: BucketRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Suffix of the bucket name the operator creates, `<prefix>-<suffix>`.
    public var nameSuffix: String {
        switch self {
        case .documents: return "documents"
        case .staticAssets: return "static-assets"
        case .mlArtifacts: return "ml-artifacts"
        case .logs: return "logs"
        case .backups: return "backups"
        }
    }

    /// Environment variable the services read the bucket name from.
    public var environmentName: String {
        switch self {
        case .documents: return "S3_DOCUMENTS_BUCKET"
        case .staticAssets: return "S3_STATIC_ASSETS_BUCKET"
        case .mlArtifacts: return "S3_ML_ARTIFACTS_BUCKET"
        case .logs: return "S3_LOGS_BUCKET"
        case .backups: return "S3_BACKUPS_BUCKET"
        }
    }
}

/// The platform's S3 settings: overrides of the tier, bucket naming and adoption.
public struct StorageSettings: Sendable, Equatable {
    public var encrypted: Bool?
    public var versioning: Bool?
    public var publicStaticAssets: Bool?
    public var infrequentAccessAfterDays: Int64?
    public var glacierAfterDays: Int64?
    public var deepArchiveAfterDays: Int64?
    public var deletionPolicy: DeletionPolicy?
    /// Bucket names default to `<bucketPrefix>-<role>`; the prefix defaults to `<namespace>-<name>`.
    public var bucketPrefix: String?
    /// Existing buckets to manage instead of creating them, by role.
    public var adoptBuckets: [BucketRole: String] = [:]
}

/// CloudWatch alarms the data tier creates (seed: page on CPU > 80 %, notify on 5xx > 5 %).
public struct AlarmSettings: Sendable, Equatable {
    public var enabled: Bool
    public var cpuUtilizationPercent: Int64
    public var http5xxRatePercent: Int64
    public init(enabled: Bool, cpuUtilizationPercent: Int64, http5xxRatePercent: Int64) {
        self.enabled = enabled
        self.cpuUtilizationPercent = cpuUtilizationPercent
        self.http5xxRatePercent = http5xxRatePercent
    }
}

/// Where traffic may come from and go to, for the NetworkPolicies.
public struct NetworkSettings: Sendable, Equatable {
    public var ingressNamespace: String
    public var monitoringNamespace: String
    /// Address ranges of the VPC subnets holding RDS and ElastiCache (seed: 10.0.0.0/16).
    public var dataStoreCIDRs: [String]
}

/// What the user asks for; everything not set here comes from the tier.
public struct MedicalSearchPlatformSpec: Sendable, Equatable {
    public var tierName: String
    public var region: String
    public var image: ImageSettings
    public var services: [PlatformService: ServiceOverride]
    public var database: DatabaseSettings
    public var cache: CacheSettings
    public var storage: StorageSettings
    public var alarms: AlarmSettings
    public var networking: NetworkSettings

    public func override(_ service: PlatformService) -> ServiceOverride { services[service] ?? ServiceOverride() }
}

// MARK: - Schema

extension MedicalSearchPlatform {
    public static let regionPattern = "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"
    public static let registryPattern = "^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$"
    public static let tagPattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
    public static let repositoryPattern = "^[a-z0-9]+([._/-][a-z0-9]+)*$"
    public static let roleArnPattern = "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
    public static let envNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$"
    /// RDS DB instance identifiers: a letter, then letters, digits and single hyphens.
    public static let rdsIdentifierPattern = "^[a-zA-Z](-?[a-zA-Z0-9])*$"
    /// ElastiCache replication group IDs: lowercase, same hyphen rule, at most 40 characters.
    public static let replicationGroupIdPattern = "^[a-z](-?[a-z0-9])*$"
    public static let bucketNamePattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
    public static let cidrPattern = "^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$"

    static let secretNameSchema = OpenAPISchema.string(pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253)

    static let endpointSchema = OpenAPISchema.object("Address of an existing endpoint, until the data tier reports one.", [
        ("host", .string(pattern: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", maxLength: 253)),
        ("port", .integer(minimum: 1, maximum: 65535)),
    ], required: ["host", "port"])

    static let optionalDeletionPolicy = OpenAPISchema.string(
        "What happens to the AWS resource when the platform is deleted; defaults to the tier's policy (Retain unless the tier says otherwise).",
        enum: DeletionPolicy.allCases.map(\.rawValue))

    static let optionalStorageDeletionPolicy = OpenAPISchema.string(
        "What happens to the buckets when the platform is deleted (S3 has no snapshots); defaults to the tier's policy.",
        enum: [DeletionPolicy.retain.rawValue, DeletionPolicy.delete.rawValue])

    static let serviceOverrideSchema: OpenAPISchema = {
        OpenAPISchema.object("Changes to one service relative to the tier.", [
            ("enabled", .boolean("Run this service.", default: true)),
            ("replicas", OpenAPISchema.object("Autoscaling bounds; each defaults to the tier's.", [
                ("min", .integer(minimum: 1, maximum: 1000)),
                ("max", .integer(minimum: 1, maximum: 1000)),
            ]).validated(.init("!has(self.min) || !has(self.max) || self.min <= self.max", message: "max must be >= min", fieldPath: ".max"))),
            ("image", OpenAPISchema.object("Image of this service, relative to spec.image.", [
                ("repository", .string("Repository in the registry; defaults to <service>-service.", pattern: repositoryPattern, maxLength: 255)),
                ("tag", .string("Tag; defaults to spec.image.tag.", pattern: tagPattern)),
            ])),
            ("env", OpenAPISchema.map("Extra environment variables (plain values; reference secrets through the data-store settings).",
                values: .string(maxLength: 4096), maxProperties: 64)),
            ("iamRoleArn", .string("IAM role for IRSA (eks.amazonaws.com/role-arn).", pattern: roleArnPattern)),
        ]).defaulting(.emptyObject)
    }()

    static let specSchema: OpenAPISchema = {
        var services: [(String, OpenAPISchema)] = []
        for service in PlatformService.allCases { services.append((service.rawValue, serviceOverrideSchema)) }
        return OpenAPISchema.object("Desired state of the platform.", [
            ("tierRef", OpenAPISchema.object("The ServiceTier that sizes this platform.", [
                ("name", .string(pattern: ServiceTier.dnsLabelPattern, maxLength: 63)),
            ], required: ["name"])),
            ("region", .string("AWS region of the data tier.", pattern: regionPattern)),
            ("image", OpenAPISchema.object("Container images.", [
                ("registry", .string("Registry host and path, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com.", pattern: registryPattern, maxLength: 255)),
                ("tag", .string("Tag used by every service unless overridden.", pattern: tagPattern)),
                ("pullPolicy", .string(enum: ["Always", "IfNotPresent", "Never"], default: "IfNotPresent")),
            ], required: ["registry", "tag"])),
            ("services", OpenAPISchema.object("Per-service overrides.", services).defaulting(.emptyObject)),
            ("database", OpenAPISchema.object("RDS PostgreSQL; unset fields come from the tier.", [
                ("instanceClass", .string(pattern: ServiceTier.instanceClassPattern)),
                ("allocatedStorageGiB", .integer(minimum: 20, maximum: 65536)),
                ("multiAZ", .boolean()),
                ("readReplicas", .integer(minimum: 0, maximum: 5)),
                ("backupRetentionDays", .integer(minimum: 0, maximum: 35)),
                ("storageEncrypted", .boolean()),
                ("deletionPolicy", optionalDeletionPolicy),
                ("adopt", OpenAPISchema.object("Manage an existing instance instead of creating one.", [
                    ("instanceIdentifier", .string(pattern: rdsIdentifierPattern, maxLength: 63)),
                ], required: ["instanceIdentifier"])),
                ("endpoint", endpointSchema),
                ("databaseName", .string(pattern: "^[a-zA-Z][a-zA-Z0-9_]{0,62}$", default: "medsearch")),
                ("credentialsSecretRef", OpenAPISchema.object("Secret with username and password keys.", [("name", secretNameSchema)], required: ["name"])),
            ]).defaulting(.emptyObject)),
            ("cache", OpenAPISchema.object("ElastiCache Redis; unset fields come from the tier.", [
                ("nodeType", .string(pattern: ServiceTier.cacheNodeTypePattern)),
                ("replicas", .integer(minimum: 0, maximum: 5)),
                ("atRestEncryption", .boolean()),
                ("transitEncryption", .boolean()),
                ("deletionPolicy", optionalDeletionPolicy),
                ("adopt", OpenAPISchema.object("Manage an existing replication group instead of creating one.", [
                    ("replicationGroupId", .string(pattern: replicationGroupIdPattern, maxLength: 40)),
                ], required: ["replicationGroupId"])),
                ("endpoint", endpointSchema),
                ("authSecretRef", OpenAPISchema.object("Secret with an authToken key.", [("name", secretNameSchema)], required: ["name"])),
            ]).defaulting(.emptyObject)),
            ("storage", OpenAPISchema.object("S3 buckets; unset fields come from the tier.", [
                ("encrypted", .boolean()),
                ("versioning", .boolean()),
                ("publicStaticAssets", .boolean()),
                ("lifecycle", OpenAPISchema.object("Lifecycle transitions, days after creation.", [
                    ("infrequentAccessAfterDays", .integer(minimum: 30, maximum: 36500)),
                    ("glacierAfterDays", .integer(minimum: 31, maximum: 36500)),
                    ("deepArchiveAfterDays", .integer(minimum: 32, maximum: 36500)),
                ])),
                ("deletionPolicy", optionalStorageDeletionPolicy),
                ("bucketPrefix", .string("Bucket names are <bucketPrefix>-<role>; defaults to <namespace>-<name>.", pattern: "^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$")),
                ("adopt", OpenAPISchema.object("Existing buckets to manage, by role.", [
                    ("buckets", OpenAPISchema.object(nil, BucketRole.allCases.map { ($0.rawValue, OpenAPISchema.string(pattern: bucketNamePattern, maxLength: 63)) })),
                ], required: ["buckets"])),
            ]).defaulting(.emptyObject)),
            ("alarms", OpenAPISchema.object("CloudWatch alarms.", [
                ("enabled", .boolean(default: true)),
                ("cpuUtilizationPercent", .integer("Alarm when average CPU exceeds this.", minimum: 1, maximum: 100, default: 80)),
                ("http5xxRatePercent", .integer("Alarm when the share of 5xx responses exceeds this.", minimum: 1, maximum: 100, default: 5)),
            ]).defaulting(.emptyObject)),
            ("networking", OpenAPISchema.object("Sources and destinations the NetworkPolicies allow.", [
                ("ingressNamespace", .string("Namespace of the ingress controller.", pattern: ServiceTier.dnsLabelPattern, maxLength: 63, default: "ingress-nginx")),
                ("monitoringNamespace", .string("Namespace of the metrics scraper.", pattern: ServiceTier.dnsLabelPattern, maxLength: 63, default: "monitoring")),
                ("dataStoreCIDRs", OpenAPISchema.array("VPC ranges holding RDS and ElastiCache.", of: .string(pattern: cidrPattern), maxItems: 16).defaulting(["10.0.0.0/16"])),
            ]).defaulting(.emptyObject)),
        ], required: ["tierRef", "region", "image"])
    }()
}

// MARK: - Decoding

extension MedicalSearchPlatform {
    /// Decodes a MedicalSearchPlatform object, applying defaults and the rules that need no
    /// tier; `violations(against:)` adds the ones that do.
    public static func decode(_ object: JSONValue) throws(SpecDecodingError) -> MedicalSearchPlatform {
        var violations = ObjectEnvelope.check(object, kind: kind, namespaced: true)
        let (spec, specViolations) = SchemaValidator().apply(specSchema, to: object["spec"], at: FieldPath(["spec"]))
        violations += specViolations
        let name = object[path: ["metadata", "name"]].stringValue ?? ""
        if name.count > maximumNameLength {
            violations.append(SpecViolation(field: "metadata.name", message: "must be at most \(maximumNameLength) characters so child names stay valid"))
        }
        if !violations.isEmpty { throw SpecDecodingError(kind: kind, violations: violations) }
        var platform = MedicalSearchPlatform(
            name: name,
            namespace: object[path: ["metadata", "namespace"]].stringValue ?? "default",
            spec: MedicalSearchPlatformSpec(defaulted: spec))
        platform.uid = object[path: ["metadata", "uid"]].stringValue
        platform.generation = object[path: ["metadata", "generation"]].intValue
        if !object["status"].isNull { platform.status = PlatformStatus(json: object["status"]) }
        var crossField = platform.spec.violations()
        for role in BucketRole.allCases where platform.spec.storage.adoptBuckets[role] == nil {
            let bucket = platform.bucketName(role)
            if bucket.count > 63 {
                crossField.append(SpecViolation(field: "spec.storage.bucketPrefix", message: "bucket name \"\(bucket)\" would be longer than 63 characters; set a shorter prefix"))
                break
            }
        }
        if !crossField.isEmpty { throw SpecDecodingError(kind: kind, violations: crossField) }
        return platform
    }
}

extension MedicalSearchPlatformSpec {
    init(defaulted s: JSONValue) {
        tierName = s[path: ["tierRef", "name"]].stringValue ?? ""
        region = s["region"].stringValue ?? ""
        image = ImageSettings(
            registry: s[path: ["image", "registry"]].stringValue ?? "",
            tag: s[path: ["image", "tag"]].stringValue ?? "",
            pullPolicy: s[path: ["image", "pullPolicy"]].stringValue ?? "IfNotPresent")
        services = [:]
        for service in PlatformService.allCases {
            let v = s[path: ["services", service.rawValue]]
            var o = ServiceOverride()
            o.enabled = v["enabled"].boolValue ?? true
            o.minReplicas = v[path: ["replicas", "min"]].intValue
            o.maxReplicas = v[path: ["replicas", "max"]].intValue
            o.repository = v[path: ["image", "repository"]].stringValue
            o.tag = v[path: ["image", "tag"]].stringValue
            o.env = (v["env"].objectValue ?? [:]).compactMapValues(\.stringValue)
            o.iamRoleArn = v["iamRoleArn"].stringValue
            services[service] = o
        }
        let d = s["database"]
        database = DatabaseSettings(
            instanceClass: d["instanceClass"].stringValue,
            allocatedStorageGiB: d["allocatedStorageGiB"].intValue,
            multiAZ: d["multiAZ"].boolValue,
            readReplicas: d["readReplicas"].intValue,
            backupRetentionDays: d["backupRetentionDays"].intValue,
            storageEncrypted: d["storageEncrypted"].boolValue,
            deletionPolicy: d["deletionPolicy"].stringValue.flatMap(DeletionPolicy.init(rawValue:)),
            adoptInstanceIdentifier: d[path: ["adopt", "instanceIdentifier"]].stringValue,
            endpoint: Endpoint(d["endpoint"]),
            databaseName: d["databaseName"].stringValue ?? "medsearch",
            credentialsSecretName: d[path: ["credentialsSecretRef", "name"]].stringValue)
        let c = s["cache"]
        cache = CacheSettings(
            nodeType: c["nodeType"].stringValue,
            replicas: c["replicas"].intValue,
            atRestEncryption: c["atRestEncryption"].boolValue,
            transitEncryption: c["transitEncryption"].boolValue,
            deletionPolicy: c["deletionPolicy"].stringValue.flatMap(DeletionPolicy.init(rawValue:)),
            adoptReplicationGroupId: c[path: ["adopt", "replicationGroupId"]].stringValue,
            endpoint: Endpoint(c["endpoint"]),
            authSecretName: c[path: ["authSecretRef", "name"]].stringValue)
        let st = s["storage"]
        var adopted: [BucketRole: String] = [:]
        for role in BucketRole.allCases {
            if let name = st[path: ["adopt", "buckets", role.rawValue]].stringValue { adopted[role] = name }
        }
        storage = StorageSettings(
            encrypted: st["encrypted"].boolValue,
            versioning: st["versioning"].boolValue,
            publicStaticAssets: st["publicStaticAssets"].boolValue,
            infrequentAccessAfterDays: st[path: ["lifecycle", "infrequentAccessAfterDays"]].intValue,
            glacierAfterDays: st[path: ["lifecycle", "glacierAfterDays"]].intValue,
            deepArchiveAfterDays: st[path: ["lifecycle", "deepArchiveAfterDays"]].intValue,
            deletionPolicy: st["deletionPolicy"].stringValue.flatMap(DeletionPolicy.init(rawValue:)),
            bucketPrefix: st["bucketPrefix"].stringValue,
            adoptBuckets: adopted)
        let a = s["alarms"]
        alarms = AlarmSettings(
            enabled: a["enabled"].boolValue ?? true,
            cpuUtilizationPercent: a["cpuUtilizationPercent"].intValue ?? 80,
            http5xxRatePercent: a["http5xxRatePercent"].intValue ?? 5)
        let n = s["networking"]
        networking = NetworkSettings(
            ingressNamespace: n["ingressNamespace"].stringValue ?? "ingress-nginx",
            monitoringNamespace: n["monitoringNamespace"].stringValue ?? "monitoring",
            dataStoreCIDRs: (n["dataStoreCIDRs"].arrayValue ?? []).compactMap(\.stringValue))
    }
}

extension Endpoint {
    init?(_ v: JSONValue) {
        guard let host = v["host"].stringValue, let port = v["port"].intValue else { return nil }
        self.init(host: host, port: port)
    }
}
