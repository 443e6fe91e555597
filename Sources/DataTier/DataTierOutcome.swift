import AWS
import Foundation
import PlatformAPI
import Probes

/// The AWS clients the data tier uses, each behind its protocol so tests pass fakes.
public struct AWSServices: Sendable {
    public var rds: any RDSAPI
    public var elastiCache: any ElastiCacheAPI
    public var s3: any S3API
    public var secretsManager: any SecretsManagerAPI
    public var cloudWatch: any CloudWatchAPI

    public init(rds: any RDSAPI, elastiCache: any ElastiCacheAPI, s3: any S3API, secretsManager: any SecretsManagerAPI, cloudWatch: any CloudWatchAPI) {
        self.rds = rds
        self.elastiCache = elastiCache
        self.s3 = s3
        self.secretsManager = secretsManager
        self.cloudWatch = cloudWatch
    }

    /// The real clients sharing one `AWSClient` (region, credentials, retries).
    public init(client: AWSClient) {
        self.init(
            rds: RDSClient(client: client), elastiCache: ElastiCacheClient(client: client), s3: S3Client(client: client),
            secretsManager: SecretsManagerClient(client: client), cloudWatch: CloudWatchClient(client: client))
    }
}

/// Where the services reach the data tier.
public struct DataTierEndpoints: Sendable, Equatable {
    public var databaseWriter: Endpoint?
    /// The first available read replica (RDS PostgreSQL has no reader endpoint of its own).
    public var databaseReader: Endpoint?
    public var cache: Endpoint?
    public var buckets: [BucketRole: String] = [:]
    /// The PostgreSQL database the services use (`spec.database.databaseName`).
    public var databaseName: String = "medsearch"
    public init() {}

    /// Entries for `PlatformStatus.endpoints` (`database`, `databaseReader`, `cache`, `bucket.documents`, …).
    public var statusEntries: [String: String] {
        var out: [String: String] = [:]
        if let e = databaseWriter { out["database"] = "\(e.host):\(e.port)" }
        if let e = databaseReader { out["databaseReader"] = "\(e.host):\(e.port)" }
        if let e = cache { out["cache"] = "\(e.host):\(e.port)" }
        for (role, name) in buckets { out["bucket.\(role.rawValue)"] = name }
        return out
    }
}

/// What one data-tier reconcile found and did, for the platform controller to act on.
///
/// `credentialSecrets` holds secret values (Kubernetes Secret name → key → value) for the
/// controller to write; `description` never shows them, and nothing else here contains them.
public struct DataTierOutcome: Sendable, CustomStringConvertible {
    /// DatabaseReady, CacheReady, StorageReady and Degraded, merged into the platform's previous conditions.
    public var conditions: [Condition]
    public var endpoints: DataTierEndpoints
    public var credentialSecrets: [String: [String: String]]
    /// Secrets Manager ARNs by credential (`database`, `cache`).
    public var credentialReferences: [String: String]
    /// Changes exactly when a credential's Secrets Manager version changes.
    public var credentialsRevision: String?
    /// Ask again after this long (AWS still working, or the next health check); nil = no need.
    public var requeueAfter: Duration?
    public var health: [ProbeHealthRecord]
    /// What was applied, in order, as sentences without secrets (for logs and events).
    public var appliedActions: [String]

    public var description: String {
        let keys = credentialSecrets.map { "\($0.key): [\($0.value.keys.sorted().joined(separator: ", "))] (values redacted)" }
        return "DataTierOutcome(conditions: \(conditions.map { "\($0.type)=\($0.status.rawValue) \($0.reason)" }), endpoints: \(endpoints.statusEntries), credentials: \(keys), revision: \(credentialsRevision ?? "-"), requeueAfter: \(requeueAfter.map { "\($0)" } ?? "-"), applied: \(appliedActions))"
    }
}

/// What one cleanup pass did; the controller removes its finalizer only when `done`.
public struct CleanupOutcome: Sendable, Equatable {
    public var done: Bool
    public var conditions: [Condition]
    public var requeueAfter: Duration?
    public var appliedActions: [String]
}

/// Builds the data-plane probes for a ready data tier: endpoints and the credential values
/// (keys as in `credentialSecrets`). Nil or empty disables probing.
public typealias DataTierProbeFactory = @Sendable (_ endpoints: DataTierEndpoints, _ credentials: [String: String]) -> [any DataPlaneProbe]

/// S3 HeadBucket as a data-plane probe.
public struct S3BucketProbe: DataPlaneProbe {
    public let s3: any S3API
    public let bucket: String
    public init(s3: any S3API, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    public var target: ProbeTarget { ProbeTarget(kind: .s3, host: "\(bucket).s3.amazonaws.com", port: 443) }

    public func probe() async -> ProbeResult {
        let start = ContinuousClock.now
        do {
            _ = try await s3.headBucket(bucket)
            let latency = ContinuousClock.now - start
            return ProbeResult(target: target, outcome: .healthy(latency: latency), stages: [.init(stage: .query, duration: latency)])
        } catch {
            let (reason, message) = AWSStatusMapping.reason(for: error)
            return ProbeResult(target: target, outcome: .unhealthy(ProbeFailure(stage: .query, reason: reason, message: message)))
        }
    }
}

/// The probes a ready data tier gets by default: PostgreSQL on the writer, Redis on the
/// primary (with the AUTH token when there is one) and HeadBucket on the documents bucket.
public enum DataTierProbes {
    /// A factory for `DataTierReconciler(probes:)`. TLS modes are the caller's: RDS and
    /// ElastiCache with in-transit encryption need `.required(...)` trusting the AWS CAs.
    public static func standard(
        s3: any S3API, databaseTLS: ProbeTLSMode, cacheTLS: ProbeTLSMode, timeout: Duration = .seconds(10),
        endpointOverrides: ProbeEndpointOverrides = ProbeEndpointOverrides()
    ) -> DataTierProbeFactory {
        { endpoints, credentials in
            var probes: [any DataPlaneProbe] = []
            if let db = endpoints.databaseWriter, let user = credentials["DATABASE_USERNAME"], let password = credentials["DATABASE_PASSWORD"] {
                probes.append(PostgreSQLProbe(configuration: PostgreSQLProbeConfiguration(
                    host: db.host, port: Int(db.port), user: user, password: password, database: endpoints.databaseName,
                    tls: databaseTLS, timeout: timeout, endpointOverrides: endpointOverrides)))
            }
            if let cache = endpoints.cache {
                probes.append(RedisProbe(configuration: RedisProbeConfiguration(
                    host: cache.host, port: Int(cache.port), password: credentials["REDIS_AUTH_TOKEN"], tls: cacheTLS,
                    timeout: timeout, endpointOverrides: endpointOverrides)))
            }
            if let documents = endpoints.buckets[.documents] {
                probes.append(S3BucketProbe(s3: s3, bucket: documents))
            }
            return probes
        }
    }
}
