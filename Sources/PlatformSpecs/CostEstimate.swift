import PlatformAPI

/// Unit prices for the monthly cost estimate, in US cents.
///
/// Source: the seed guide's cost tables (docs: /work/shared/seed/platform-infrastructure-guide.md,
/// section 11 "Cost Optimization"), not AWS list prices. Each unit price is a seed line item
/// divided by the units that scenario runs; sizes the seed does not name are scaled from
/// the nearest named size by AWS's on-demand ratio (each size step doubles). The example
/// tiers reproduce the seed's totals: dev ≈ $135, production ≈ $705.
///
/// - EKS: $75 for the control plane and system node group (the seed's whole dev EKS line:
///   dev runs its services on the system nodes). Application nodes: $45 per vCPU of CPU
///   *requested at minimum replicas* (the capacity that is always on): the seed's
///   production EKS line, $300 − $75, over the 5 vCPU its production tier requests.
/// - RDS: per instance (primary, Multi-AZ standby, each read replica) plus $0.10 per GiB
///   per copy. db.t3.small $23: seed dev ($25) less 20 GiB. db.r5.large $56.67: seed
///   production ($200) less 3 × 100 GiB, over 3 instances.
/// - ElastiCache: per node (primary + replicas). cache.t3.micro $20 (seed dev, one node),
///   cache.r5.large $50 (seed production, $100 for primary + replica).
/// - S3: $0.023 per GiB-month of Standard storage (AWS's published price; the seed's
///   $10/$50 correspond to the tiers' `costAssumptions.storageGiB`).
/// - Data transfer: $0.09 per GiB out (AWS's first pricing band).
/// - Load balancer: $25 per ALB (seed production).
public enum PriceList {
    public static let eksBaseCents: Int64 = 7_500
    public static let applicationVCPUCents: Int64 = 4_500
    public static let rdsStoragePerGiBMilliCents: Int64 = 10_000  // $0.10
    public static let s3PerGiBMilliCents: Int64 = 2_300  // $0.023
    public static let egressPerGiBMilliCents: Int64 = 9_000  // $0.09
    public static let loadBalancerCents: Int64 = 2_500

    public static let rdsInstanceCents: [String: Int64] = [
        "db.t3.micro": 1_150, "db.t3.small": 2_300, "db.t3.medium": 4_600, "db.t3.large": 9_200,
        "db.r5.large": 5_667, "db.r5.xlarge": 11_334, "db.r5.2xlarge": 22_668, "db.r5.4xlarge": 45_336,
    ]

    public static let cacheNodeCents: [String: Int64] = [
        "cache.t3.micro": 2_000, "cache.t3.small": 4_000, "cache.t3.medium": 8_000,
        "cache.r5.large": 5_000, "cache.r5.xlarge": 10_000, "cache.r5.2xlarge": 20_000,
    ]
}

/// The result of `estimatedMonthlyCost`: the estimate plus anything it could not price.
public struct MonthlyCost: Sendable, Equatable {
    public var estimate: CostEstimate
    /// Instance classes or node types missing from `PriceList`, counted as $0.
    public var unpriced: [String]
}

/// Estimated monthly cost of a platform at its tier's sizing (see `PriceList` for the model).
public func estimatedMonthlyCost(tier: ServiceTier, platform: MedicalSearchPlatform) -> MonthlyCost {
    var items: [String: Int64] = [:]
    var unpriced: [String] = []

    var vCPUMillis: Int64 = 0
    for s in platform.effectiveServices(tier: tier) where s.enabled && s.nodeGroup == .application {
        let cpu = s.resources.requests["cpu"].flatMap(Quantity.init)?.value ?? 0
        vCPUMillis += Int64((cpu * 1000).rounded()) * s.replicas.min
    }
    items["eks"] = PriceList.eksBaseCents + (vCPUMillis * PriceList.applicationVCPUCents + 500) / 1000

    let data = platform.effectiveDataTier(tier: tier)
    let db = data.database
    let copies = (db.multiAZ ? 2 : 1) + db.readReplicas
    let instance = PriceList.rdsInstanceCents[db.instanceClass]
    if instance == nil { unpriced.append(db.instanceClass) }
    let storage = (copies * db.allocatedStorageGiB * PriceList.rdsStoragePerGiBMilliCents + 500) / 1000
    items["rds"] = copies * (instance ?? 0) + storage

    let nodes = 1 + data.cache.replicas
    let node = PriceList.cacheNodeCents[data.cache.nodeType]
    if node == nil { unpriced.append(data.cache.nodeType) }
    items["elasticache"] = nodes * (node ?? 0)

    let assumptions = tier.spec.costAssumptions
    items["s3"] = (assumptions.storageGiB * PriceList.s3PerGiBMilliCents + 500) / 1000
    items["dataTransfer"] = (assumptions.egressGiB * PriceList.egressPerGiBMilliCents + 500) / 1000
    items["loadBalancer"] = assumptions.loadBalancers * PriceList.loadBalancerCents
    return MonthlyCost(estimate: CostEstimate(itemsCents: items), unpriced: unpriced)
}
