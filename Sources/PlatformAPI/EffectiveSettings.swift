/// The data tier a platform gets: the tier's settings with the platform's overrides on top.
public struct EffectiveDataTier: Sendable, Equatable {
    public var database: DatabaseTier
    public var cache: CacheTier
    public var storage: StorageTier
    public var deletionPolicy: DeletionPolicies

    public init(platform: MedicalSearchPlatformSpec, tier: ServiceTierSpec) {
        var d = tier.database
        let pd = platform.database
        d.instanceClass = pd.instanceClass ?? d.instanceClass
        d.allocatedStorageGiB = pd.allocatedStorageGiB ?? d.allocatedStorageGiB
        d.multiAZ = pd.multiAZ ?? d.multiAZ
        d.readReplicas = pd.readReplicas ?? d.readReplicas
        d.backupRetentionDays = pd.backupRetentionDays ?? d.backupRetentionDays
        d.storageEncrypted = pd.storageEncrypted ?? d.storageEncrypted
        database = d

        var c = tier.cache
        let pc = platform.cache
        c.nodeType = pc.nodeType ?? c.nodeType
        c.replicas = pc.replicas ?? c.replicas
        c.atRestEncryption = pc.atRestEncryption ?? c.atRestEncryption
        c.transitEncryption = pc.transitEncryption ?? c.transitEncryption
        cache = c

        var s = tier.storage
        let ps = platform.storage
        s.encrypted = ps.encrypted ?? s.encrypted
        s.versioning = ps.versioning ?? s.versioning
        s.publicStaticAssets = ps.publicStaticAssets ?? s.publicStaticAssets
        s.lifecycle.infrequentAccessAfterDays = ps.infrequentAccessAfterDays ?? s.lifecycle.infrequentAccessAfterDays
        s.lifecycle.glacierAfterDays = ps.glacierAfterDays ?? s.lifecycle.glacierAfterDays
        s.lifecycle.deepArchiveAfterDays = ps.deepArchiveAfterDays ?? s.lifecycle.deepArchiveAfterDays
        storage = s

        deletionPolicy = DeletionPolicies(
            database: pd.deletionPolicy ?? tier.deletionPolicy.database,
            cache: pc.deletionPolicy ?? tier.deletionPolicy.cache,
            storage: ps.deletionPolicy ?? tier.deletionPolicy.storage)
    }
}

/// One service as a platform runs it: tier sizing with the platform's overrides applied.
public struct EffectiveService: Sendable, Equatable {
    public var service: PlatformService
    public var enabled: Bool
    public var replicas: ReplicaRange
    public var targetCPUUtilizationPercentage: Int64
    public var resources: ResourceSizing
    public var nodeGroup: NodeGroupName
    public var placement: NodeGroupPlacement
    /// Full image reference, `<registry>/<repository>:<tag>`.
    public var image: String
    public var imagePullPolicy: String
    public var env: [String: String]
    public var iamRoleArn: String?

    public init(_ service: PlatformService, platform: MedicalSearchPlatformSpec, tier: ServiceTierSpec) {
        let o = platform.override(service)
        let sizing = tier.sizing(service)
        self.service = service
        enabled = o.enabled
        replicas = ReplicaRange(min: o.minReplicas ?? sizing.replicas.min, max: o.maxReplicas ?? sizing.replicas.max)
        targetCPUUtilizationPercentage = sizing.targetCPUUtilizationPercentage
        resources = sizing.resources
        nodeGroup = sizing.nodeGroup
        placement = tier.placement(sizing.nodeGroup)
        let registry = platform.image.registry.hasSuffix("/") ? String(platform.image.registry.dropLast()) : platform.image.registry
        image = "\(registry)/\(o.repository ?? service.repositoryName):\(o.tag ?? platform.image.tag)"
        imagePullPolicy = platform.image.pullPolicy
        env = o.env
        iamRoleArn = o.iamRoleArn
    }
}

extension MedicalSearchPlatform {
    public func effectiveServices(tier: ServiceTier) -> [EffectiveService] {
        PlatformService.allCases.map { EffectiveService($0, platform: spec, tier: tier.spec) }
    }

    public func effectiveDataTier(tier: ServiceTier) -> EffectiveDataTier {
        EffectiveDataTier(platform: spec, tier: tier.spec)
    }

    /// Prefix of the bucket names the operator creates.
    public var bucketPrefix: String { spec.storage.bucketPrefix ?? "\(namespace)-\(name)" }

    /// Bucket name per role: the adopted bucket if given, else `<prefix>-<role>`.
    public func bucketName(_ role: BucketRole) -> String {
        spec.storage.adoptBuckets[role] ?? "\(bucketPrefix)-\(role.nameSuffix)"
    }
}
