import AWS
import Foundation

/// Shared, batched view of every platform's RDS instances and ElastiCache replication groups.
///
/// Guarantees: per refresh, one DescribeDBInstances (a `db-instance-id` filter listing every
/// registered identifier; RDS takes 100 values per request, so beyond 100 identifiers one
/// more request per 100) and one DescribeReplicationGroups for all platforms, however many
/// reconciles ask; concurrent askers share one refresh. A snapshot younger than `interval`
/// is served from memory.
/// Caveats: DescribeReplicationGroups without an ID lists the account's groups (paged by
/// the client); groups nobody registered are dropped from the cache.
public actor DataTierObserver {
    /// What one refresh saw.
    public struct Snapshot: Sendable {
        public var instances: [String: RDS.DBInstance] = [:]
        public var replicationGroups: [String: ElastiCache.ReplicationGroup] = [:]
        public var fetchedAt: Date?
        /// Why the last RDS or ElastiCache describe failed, if it did; entries from the
        /// previous successful describe are kept.
        public var rdsError: AWSError?
        public var elastiCacheError: AWSError?
    }

    private let rds: any RDSAPI
    private let elastiCache: any ElastiCacheAPI
    public let interval: Duration
    private let now: @Sendable () -> Date
    private var registeredInstances: [String: Set<String>] = [:]
    private var registeredGroups: [String: String] = [:]
    private var current = Snapshot()
    private var stale = true
    private var inFlight: Task<Snapshot, Never>?
    private var groupTags: [String: [AWSTag]] = [:]

    public init(rds: any RDSAPI, elastiCache: any ElastiCacheAPI, interval: Duration = .seconds(30), now: @escaping @Sendable () -> Date = { Date() }) {
        self.rds = rds
        self.elastiCache = elastiCache
        self.interval = interval
        self.now = now
    }

    /// Adds (or replaces) what one platform wants observed; a new identifier makes the next
    /// `snapshot()` refresh.
    public func register(platform key: String, dbInstances: [String], replicationGroup: String?) {
        let ids = Set(dbInstances)
        if registeredInstances[key] != ids || registeredGroups[key] != replicationGroup { stale = true }
        registeredInstances[key] = ids
        registeredGroups[key] = replicationGroup
    }

    public func unregister(platform key: String) {
        registeredInstances[key] = nil
        registeredGroups[key] = nil
    }

    /// Makes the next `snapshot()` describe again (after a create or delete, so the next
    /// reconcile sees it).
    public func invalidate() { stale = true }

    /// The latest view, refreshed when older than `interval` or invalidated.
    public func snapshot() async -> Snapshot {
        if let task = inFlight { return await task.value }
        if !stale, let fetched = current.fetchedAt, now().timeIntervalSince(fetched) < interval.seconds {
            return current
        }
        let instanceIds = registeredInstances.values.reduce(into: Set<String>()) { $0.formUnion($1) }.sorted()
        let groupIds = Set(registeredGroups.values.compactMap { $0 })
        let rds = self.rds
        let elastiCache = self.elastiCache
        let base = current
        stale = false
        let task = Task<Snapshot, Never> {
            var next = base
            async let instances = Self.describeInstances(rds, instanceIds)
            async let groups = Self.describeGroups(elastiCache, groupIds)
            switch await instances {
            case .success(let list):
                next.instances = Dictionary(list.map { ($0.identifier, $0) }, uniquingKeysWith: { a, _ in a })
                next.rdsError = nil
            case .failure(let error): next.rdsError = error
            }
            switch await groups {
            case .success(let list):
                next.replicationGroups = Dictionary(
                    list.filter { groupIds.contains($0.id) }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                next.elastiCacheError = nil
            case .failure(let error): next.elastiCacheError = error
            }
            return next
        }
        inFlight = task
        var result = await task.value
        result.fetchedAt = now()
        current = result
        inFlight = nil
        return result
    }

    private static func describeInstances(_ rds: any RDSAPI, _ ids: [String]) async -> Result<[RDS.DBInstance], AWSError> {
        guard !ids.isEmpty else { return .success([]) }
        do { return .success(try await rds.describeDBInstances(identifiers: ids)) } catch { return .failure(error) }
    }

    private static func describeGroups(_ api: any ElastiCacheAPI, _ ids: Set<String>) async -> Result<[ElastiCache.ReplicationGroup], AWSError> {
        guard !ids.isEmpty else { return .success([]) }
        do { return .success(try await api.describeReplicationGroups(id: nil)) } catch { return .failure(error) }
    }

    /// Tags of a replication group (DescribeReplicationGroups does not return them), fetched
    /// once per group and then remembered; `forget` after the operator changes them.
    public func replicationGroupTags(arn: String) async throws(AWSError) -> [AWSTag] {
        if let tags = groupTags[arn] { return tags }
        let tags = try await elastiCache.listTagsForResource(arn: arn)
        groupTags[arn] = tags
        return tags
    }

    public func forgetTags(arn: String) { groupTags[arn] = nil }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
