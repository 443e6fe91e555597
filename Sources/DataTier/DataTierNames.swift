import AWS
import PlatformAPI

/// Deterministic AWS names and ownership tags for one platform's data tier.
///
/// Guarantees: the same namespace/name always gives the same names; two platforms never share
/// a name (an 8-hex-digit FNV-1a hash of `namespace/name` ends each identifier, so truncating
/// the readable part cannot collide); every name fits its service's length and charset rules
/// (RDS: letter first, letters/digits/single hyphens, at most 63; ElastiCache replication
/// groups: the same, lowercase, at most 40). Adopted resources keep their own names.
public struct DataTierNames: Sendable, Equatable {
    /// Tag naming the owning platform as `namespace/name`, on every resource we create or adopt.
    public static let platformTagKey = "medsearch.io/platform"
    /// Tag left on a retained resource after its platform is gone, naming that platform.
    public static let retainedFromTagKey = "medsearch.io/retained-from"
    /// Tag naming the resource's role (database, cache, storage, alarm).
    public static let componentTagKey = "medsearch.io/component"
    public static let managedByTagKey = "app.kubernetes.io/managed-by"

    public var owner: String
    public var dbInstance: String
    public var dbSubnetGroup: String
    public var replicationGroup: String
    public var cacheSubnetGroup: String
    public var databaseSecret: String
    public var cacheSecret: String
    /// Kubernetes Secret (platform namespace) the controller writes the credentials into; the
    /// Deployments read it through `envFrom` (PlatformSpecs names it `<platform>-credentials`).
    public var kubernetesSecret: String
    public var buckets: [BucketRole: String]
    public var cpuAlarm: String
    public var errorRateAlarm: String

    public init(platform: MedicalSearchPlatform) {
        owner = "\(platform.namespace)/\(platform.name)"
        let hash = Self.hash8(owner)
        let slug = Self.slug("\(platform.namespace)-\(platform.name)")
        let derivedDB = "ms-\(Self.trimmed(slug, to: 40))-\(hash)"
        dbInstance = platform.spec.database.adoptInstanceIdentifier ?? derivedDB
        dbSubnetGroup = derivedDB
        let derivedCache = "ms-\(Self.trimmed(slug, to: 28))-\(hash)"
        replicationGroup = platform.spec.cache.adoptReplicationGroupId ?? derivedCache
        cacheSubnetGroup = derivedCache
        databaseSecret = "medsearch/\(platform.namespace)/\(platform.name)/database"
        cacheSecret = "medsearch/\(platform.namespace)/\(platform.name)/cache"
        kubernetesSecret = "\(platform.name)-credentials"
        var buckets: [BucketRole: String] = [:]
        for role in BucketRole.allCases { buckets[role] = platform.bucketName(role) }
        self.buckets = buckets
        cpuAlarm = "medsearch-\(derivedDB)-database-cpu"
        errorRateAlarm = "medsearch-\(derivedDB)-error-rate"
    }

    /// Read replica `index` (1-based) of the primary.
    public func readReplica(_ index: Int) -> String { "\(dbInstance)-r\(index)" }

    /// The CRDs allow at most 5 read replicas.
    public static let maxReadReplicas = 5

    /// Every read replica name this platform can have had, wanted now or not.
    public var allReadReplicas: [String] { (1...Self.maxReadReplicas).map(readReplica) }

    /// Final snapshot names are fixed so a cleanup retried after a crash asks for the same one.
    public var finalDBSnapshot: String { "\(dbInstance)-final" }
    public var finalCacheSnapshot: String { "\(replicationGroup)-final" }

    /// Tags for a resource we own.
    public func tags(component: String) -> [AWSTag] {
        [
            AWSTag(key: Self.platformTagKey, value: owner),
            AWSTag(key: Self.componentTagKey, value: component),
            AWSTag(key: Self.managedByTagKey, value: "medsearch-operator"),
        ]
    }

    /// Who a tag list says owns a resource: ours, another platform's, or nobody's.
    public func ownership(of tags: [AWSTag]) -> Ownership {
        guard let value = tags.first(where: { $0.key == Self.platformTagKey })?.value else { return .untagged }
        return value == owner ? .ours : .another(value)
    }

    public enum Ownership: Sendable, Equatable {
        case ours
        case another(String)
        case untagged
    }

    /// Lowercase letters, digits and single hyphens, starting with a letter.
    static func slug(_ text: String) -> String {
        var out = ""
        for ch in text.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) {
                if out.isEmpty && ch.isNumber { out.append("n") }
                out.append(ch)
            } else if !out.isEmpty && out.last != "-" {
                out.append("-")
            }
        }
        return out.isEmpty ? "x" : out
    }

    static func trimmed(_ slug: String, to length: Int) -> String {
        var s = String(slug.prefix(length))
        while s.hasSuffix("-") { s.removeLast() }
        return s
    }

    /// FNV-1a, 64 bits, folded to 32 and printed as 8 hex digits: stable across runs and
    /// platforms (Swift's `Hasher` is seeded per process).
    static func hash8(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        let folded = UInt32(truncatingIfNeeded: h ^ (h >> 32))
        let hex = String(folded, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
