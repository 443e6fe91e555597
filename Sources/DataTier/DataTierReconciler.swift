import AWS
import Foundation
import Logging
import PlatformAPI
import Probes

/// Brings one platform's AWS data tier to its desired state and reports it: a thin apply
/// step around `DataTierPlanner`.
///
/// Guarantees: never blocks on AWS (a resource still creating or modifying ends the call
/// with `requeueAfter`); never throws (AWS failures become conditions carrying the AWS
/// error code); secret values appear only in `DataTierOutcome.credentialSecrets`, never in
/// logs, conditions or action descriptions; resources whose tags name another platform, or
/// none, are never changed unless the spec adopts them.
/// Caveats: what the operator applied to buckets and alarms is remembered in memory, so a
/// restarted operator re-puts that configuration once (the puts are idempotent).
public actor DataTierReconciler {
    public let aws: AWSServices
    public let observer: DataTierObserver
    public let network: DataTierNetwork
    private let probeFactory: DataTierProbeFactory?
    /// Requeue while AWS is still working (default 30 s).
    public let settleInterval: Duration
    /// Requeue when ready, for the next health check (default 5 min).
    public let healthInterval: Duration
    /// How long a credential read from Secrets Manager is trusted before re-reading it to
    /// notice rotation (default 5 min).
    public let secretRefreshInterval: Duration
    let now: @Sendable () -> Date
    let logger: Logger

    struct CachedSecret {
        var arn: String
        var versionId: String?
        var fields: [String: String]
        var fetchedAt: Date
    }

    var secrets: [String: CachedSecret] = [:]
    var bucketTags: [String: [AWSTag]?] = [:]
    var appliedBuckets: [String: BucketConfiguration] = [:]
    var appliedAlarms: [String: CloudWatch.MetricAlarm] = [:]
    var appliedRetention: [String: Int] = [:]
    var health: [String: [ProbeTarget: ProbeHealthRecord]] = [:]

    public init(
        aws: AWSServices, observer: DataTierObserver, network: DataTierNetwork, probes: DataTierProbeFactory? = nil,
        settleInterval: Duration = .seconds(30), healthInterval: Duration = .seconds(300),
        secretRefreshInterval: Duration = .seconds(300), logger: Logger = Logger(label: "medsearch.datatier"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.aws = aws
        self.observer = observer
        self.network = network
        self.probeFactory = probes
        self.settleInterval = settleInterval
        self.healthInterval = healthInterval
        self.secretRefreshInterval = secretRefreshInterval
        self.logger = logger
        self.now = now
    }

    /// A step that could not be applied: an AWS error, or a refusal found while applying
    /// (a resource that turned out to belong to someone else).
    enum StepFailure: Error {
        case aws(AWSError)
        case refused(reason: String, message: String)
    }

    // MARK: Reconcile

    public func reconcile(platform: MedicalSearchPlatform, tier: ServiceTier) async -> DataTierOutcome {
        let names = DataTierNames(platform: platform)
        let effective = platform.effectiveDataTier(tier: tier)
        let replicaIds = (0..<Int(max(effective.database.readReplicas, 0))).map { names.readReplica($0 + 1) }
        // All five names are watched, so replicas left by a larger tier are seen (and removed).
        await observer.register(platform: names.owner, dbInstances: [names.dbInstance] + names.allReadReplicas, replicationGroup: names.replicationGroup)
        let snapshot = await observer.snapshot()

        var failures: [DataTierComponent: StepFailure] = [:]
        if let error = snapshot.rdsError { failures[.database] = .aws(error) }
        if let error = snapshot.elastiCacheError { failures[.cache] = .aws(error) }

        var observed = ObservedAWSState()
        observed.dbInstance = snapshot.instances[names.dbInstance]
        observed.readReplicas = replicaIds.compactMap { snapshot.instances[$0] }
        observed.surplusReadReplicas = names.allReadReplicas.dropFirst(replicaIds.count).compactMap { snapshot.instances[$0] }
        observed.appliedBackupRetentionDays = appliedRetention[names.dbInstance]
        observed.replicationGroup = snapshot.replicationGroups[names.replicationGroup]
        if let arn = observed.replicationGroup?.arn, failures[.cache] == nil {
            do { observed.replicationGroupTags = try await observer.replicationGroupTags(arn: arn) } catch { failures[.cache] = .aws(error) }
        }
        for (name, component) in [(names.databaseSecret, DataTierComponent.database), (names.cacheSecret, .cache)] where failures[component] == nil {
            do {
                if let arn = try await secretARN(name) { observed.secrets[name] = arn }
            } catch { failures[component] = .aws(error) }
        }
        for name in BucketRole.allCases.compactMap({ names.buckets[$0] }) where failures[.storage] == nil {
            do {
                if let tags = try await observedBucketTags(name) {
                    observed.buckets[name] = ObservedBucket(tags: tags, appliedConfiguration: appliedBuckets[name])
                }
            } catch { failures[.storage] = .aws(error) }
        }
        for (name, alarm) in appliedAlarms where [names.cpuAlarm, names.errorRateAlarm].contains(name) { observed.alarms[name] = alarm }

        let plan = DataTierPlanner.plan(platform: platform, tier: tier, observed: observed, network: network)
        var applied: [String] = []
        var created: Set<DataTierComponent> = []
        for action in plan.actions where failures[action.component] == nil {
            do {
                try await apply(action, names: names)
                applied.append(action.description)
                if case .createDBInstance = action { created.insert(.database) }
                if case .createReplicationGroup = action { created.insert(.cache) }
            } catch {
                let failure: StepFailure = (error as? StepFailure) ?? (error as? AWSError).map { .aws($0) }
                    ?? .refused(reason: "InternalError", message: "unexpected error applying \(action.description)")
                failures[action.component] = failure
                if case .aws(let aws) = failure {
                    logger.warning("data tier step failed", metadata: [
                        "platform": "\(names.owner)", "step": "\(action.description)", "code": "\(aws.code)", "status": "\(aws.status.map(String.init) ?? "-")",
                    ])
                }
            }
        }
        if !applied.isEmpty {
            logger.info("data tier changed", metadata: ["platform": "\(names.owner)", "applied": "\(applied.joined(separator: "; "))"])
        }

        // Conditions.
        var conditions = platform.status?.conditions ?? []
        let generation = platform.generation
        let time = now()
        var settling = false
        func set(_ component: DataTierComponent, _ status: ConditionStatus, _ reason: String, _ message: String) {
            Conditions.set(component.conditionType, status, reason: reason, message: message, generation: generation, now: time, in: &conditions)
        }
        for component in DataTierComponent.allCases {
            let findings = plan.findings.filter { $0.component == component }
            let notes = findings.filter { $0.severity != .blocking }.map(\.message)
            func withNotes(_ message: String) -> String { ([message] + notes).joined(separator: "; ") }
            if let blocking = findings.first(where: { $0.severity == .blocking }) {
                set(component, .false, blocking.reason, blocking.message)
                continue
            }
            if let failure = failures[component] {
                switch failure {
                case .aws(let error):
                    let (reason, message) = AWSStatusMapping.reason(for: error)
                    set(component, .false, reason, message)
                    settling = true
                case .refused(let reason, let message):
                    set(component, .false, reason, message)
                }
                continue
            }
            switch component {
            case .database:
                guard let db = observed.dbInstance else {
                    set(.database, .false, "Creating", created.contains(.database) ? "DB instance \(names.dbInstance) requested" : "waiting for DB instance \(names.dbInstance)")
                    settling = true
                    continue
                }
                let h = AWSStatusMapping.rds(db.status)
                let replicaStates = observed.readReplicas.map { ($0.identifier, AWSStatusMapping.rds($0.status)) }
                let pendingReplicas = replicaIds.count - observed.readReplicas.count
                if h.state != .ready || db.status != "available" || pendingReplicas > 0 || replicaStates.contains(where: { $0.1.status != "available" }) {
                    settling = true
                }
                // Surplus replicas on their way out keep the platform requeueing until gone;
                // they do not make the database less ready. Ones left in place (not ours,
                // protected) are only a note, and must not keep it requeueing.
                let leaving = observed.surplusReadReplicas.filter { DataTierPlanner.isRemovableSurplus($0, primary: db, names) }
                if !leaving.isEmpty { settling = true }
                var message = "DB instance \(db.identifier) is \(db.status)"
                if !replicaIds.isEmpty {
                    message += "; read replicas " + (replicaStates.map { "\($0.0) \($0.1.status)" } + (pendingReplicas > 0 ? ["\(pendingReplicas) requested"] : [])).joined(separator: ", ")
                }
                if !leaving.isEmpty {
                    message += "; removing surplus read replicas " + leaving.map { "\($0.identifier) \($0.status)" }.joined(separator: ", ")
                }
                set(.database, h.conditionStatus, h.reason, withNotes(message))
            case .cache:
                guard let group = observed.replicationGroup else {
                    set(.cache, .false, "Creating", created.contains(.cache) ? "replication group \(names.replicationGroup) requested" : "waiting for replication group \(names.replicationGroup)")
                    settling = true
                    continue
                }
                let h = AWSStatusMapping.elastiCache(group.status)
                if group.status != "available" { settling = true }
                set(.cache, h.conditionStatus, h.reason, withNotes("replication group \(group.id) is \(group.status)"))
            case .storage:
                set(.storage, .true, "Available", withNotes("\(BucketRole.allCases.count) buckets configured"))
            }
        }

        // Endpoints and credentials.
        var endpoints = DataTierEndpoints()
        if let db = observed.dbInstance, let host = db.endpointAddress {
            endpoints.databaseWriter = Endpoint(host: host, port: Int64(db.endpointPort ?? 5432))
        }
        if let reader = observed.readReplicas.first(where: { $0.isAvailable && $0.endpointAddress != nil }), let host = reader.endpointAddress {
            endpoints.databaseReader = Endpoint(host: host, port: Int64(reader.endpointPort ?? 5432))
        }
        if let group = observed.replicationGroup, let host = group.primaryEndpointAddress ?? group.configurationEndpointAddress {
            endpoints.cache = Endpoint(host: host, port: Int64(group.primaryEndpointPort ?? group.configurationEndpointPort ?? 6379))
        }
        endpoints.buckets = names.buckets
        endpoints.databaseName = platform.spec.database.databaseName

        var values: [String: String] = [:]
        var references: [String: String] = [:]
        var versions: [String] = []
        for (name, kind) in [(names.databaseSecret, CredentialKind.database), (names.cacheSecret, .cache)] {
            guard let cached = try? await secretValue(name) else { continue }
            references[kind.rawValue] = cached.arn
            versions.append("\(kind.rawValue)=\(cached.versionId ?? cached.arn)")
            switch kind {
            case .database:
                values["DATABASE_USERNAME"] = cached.fields["username"]
                values["DATABASE_PASSWORD"] = cached.fields["password"]
            case .cache:
                values["REDIS_AUTH_TOKEN"] = cached.fields["authToken"]
            }
        }
        let revision = versions.isEmpty ? nil : DataTierNames.hash8(versions.joined(separator: ","))

        // Health: only once every store is ready, so probes do not report what AWS already says.
        var records: [ProbeHealthRecord] = []
        let degradedFinding = plan.findings.first { $0.severity == .degraded }
        let allReady = DataTierComponent.allCases.allSatisfy { Conditions.find($0.conditionType, in: conditions)?.status == .true }
        if allReady, let factory = probeFactory {
            let probes = factory(endpoints, values)
            if !probes.isEmpty {
                let results = await DataPlaneProbing.probeAll(probes)
                var byTarget = health[names.owner] ?? [:]
                for result in results { byTarget[result.target] = ProbeHealthRecord.updating(byTarget[result.target], with: result) }
                health[names.owner] = byTarget
                records = results.compactMap { byTarget[$0.target] }
            }
        }
        let summary = DataPlaneHealthSummary.summarize(records)
        if let finding = degradedFinding {
            Conditions.set(.degraded, .true, reason: finding.reason, message: finding.message, generation: generation, now: time, in: &conditions)
        } else if summary.isDegraded {
            Conditions.set(.degraded, .true, reason: summary.reason, message: summary.message, generation: generation, now: time, in: &conditions)
        } else {
            Conditions.set(.degraded, .false, reason: records.isEmpty ? "AsExpected" : summary.reason, message: records.isEmpty ? "no data-tier problems found" : summary.message, generation: generation, now: time, in: &conditions)
        }

        let requeue: Duration? = settling || !plan.actions.isEmpty ? settleInterval : (probeFactory != nil ? healthInterval : nil)
        return DataTierOutcome(
            conditions: conditions, endpoints: endpoints, credentialSecrets: values.isEmpty ? [:] : [names.kubernetesSecret: values],
            credentialReferences: references, credentialsRevision: revision, requeueAfter: requeue, health: records, appliedActions: applied)
    }

    // MARK: Observation helpers

    /// The secret's ARN, or nil when it does not exist (or is scheduled for deletion).
    func secretARN(_ name: String) async throws(AWSError) -> String? {
        if let cached = secrets[name] { return cached.arn }
        do {
            let description = try await aws.secretsManager.describeSecret(id: name)
            return description.deletedDate == nil ? description.arn : nil
        } catch where error.isNotFound {
            return nil
        }
    }

    func secretValue(_ name: String) async throws(AWSError) -> CachedSecret {
        if let cached = secrets[name], now().timeIntervalSince(cached.fetchedAt) < secretRefreshInterval.seconds { return cached }
        let value = try await aws.secretsManager.getSecretValue(id: name)
        var fields: [String: String] = [:]
        if let text = value.secretString, let json = try? JSONValueBridge.object(text) { fields = json }
        let cached = CachedSecret(arn: value.arn, versionId: value.versionId, fields: fields, fetchedAt: now())
        secrets[name] = cached
        return cached
    }

    /// Nil when the bucket does not exist; `.some(nil)` when it exists without tags.
    func observedBucketTags(_ name: String) async throws(AWSError) -> [AWSTag]?? {
        if let known = bucketTags[name] { return .some(known) }
        do {
            let tags = try await aws.s3.getBucketTagging(name)
            bucketTags[name] = .some(tags)
            return .some(tags)
        } catch where error.isNotFound && error.code != "NoSuchTagSet" {
            return nil
        }
    }

    // MARK: Apply

    /// Throws `AWSError` or `StepFailure`.
    private func apply(_ action: DataTierAction, names: DataTierNames) async throws {
        do {
            switch action {
            case .createSecret(let name, let kind, let tags):
                try await createSecret(name: name, kind: kind, tags: tags)
            case .createDBSubnetGroup(let input):
                do { _ = try await aws.rds.createDBSubnetGroup(input) } catch { guard error.isAlreadyExists else { throw error } }
            case .createDBInstance(var input, let secretName):
                input.masterUserPassword = try await secretValue(secretName).fields["password"]
                do {
                    _ = try await aws.rds.createDBInstance(input)
                } catch {
                    guard error.isAlreadyExists else { throw error }
                    // RDS has no idempotency token: an earlier attempt may have succeeded.
                    let existing = try await aws.rds.describeDBInstances(identifiers: [input.identifier]).first
                    try requireOurs(existing?.tags ?? [], names: names, what: "DB instance \(input.identifier)")
                }
                if let days = input.backupRetentionPeriod { appliedRetention[input.identifier] = days }
                await observer.invalidate()
            case .createReadReplica(let input):
                do { _ = try await aws.rds.createDBInstanceReadReplica(input) } catch { guard error.isAlreadyExists else { throw error } }
                await observer.invalidate()
            case .deleteReadReplica(let identifier, _):
                do {
                    _ = try await aws.rds.deleteDBInstance(.init(identifier: identifier, skipFinalSnapshot: true))
                } catch {
                    guard error.isNotFound else { throw error }
                }
                await observer.invalidate()
            case .modifyDBInstance(let input):
                _ = try await aws.rds.modifyDBInstance(input)
                if let days = input.backupRetentionPeriod { appliedRetention[input.identifier] = days }
                await observer.invalidate()
            case .tagDBInstance(let arn, let tags):
                try await aws.rds.addTagsToResource(arn: arn, tags: tags)
                await observer.invalidate()
            case .createCacheSubnetGroup(let input):
                do { try await aws.elastiCache.createCacheSubnetGroup(input) } catch { guard error.isAlreadyExists else { throw error } }
            case .createReplicationGroup(var input, let secretName):
                if let secretName { input.authToken = try await secretValue(secretName).fields["authToken"] }
                do {
                    _ = try await aws.elastiCache.createReplicationGroup(input)
                } catch {
                    guard error.isAlreadyExists else { throw error }
                    var tags: [AWSTag] = []
                    if let arn = try await aws.elastiCache.describeReplicationGroups(id: input.id).first?.arn {
                        tags = try await aws.elastiCache.listTagsForResource(arn: arn)
                    }
                    try requireOurs(tags, names: names, what: "replication group \(input.id)")
                }
                await observer.invalidate()
            case .modifyReplicationGroup(let input):
                _ = try await aws.elastiCache.modifyReplicationGroup(input)
                await observer.invalidate()
            case .tagReplicationGroup(let arn, let tags):
                try await aws.elastiCache.addTagsToResource(arn: arn, tags: tags)
                await observer.forgetTags(arn: arn)
            case .createBucket(let name, let tags):
                do {
                    try await aws.s3.createBucket(name, tags: tags)
                } catch {
                    if error.code == "BucketAlreadyExists" {
                        throw StepFailure.refused(reason: "NotOurs", message: "bucket name \(name) is taken by another AWS account")
                    }
                    guard error.code == "BucketAlreadyOwnedByYou" else { throw error }
                    let existing = try await aws.s3.getBucketTagging(name) ?? []
                    try requireOurs(existing, names: names, what: "bucket \(name)")
                }
                bucketTags[name] = .some(tags)
            case .configureBucket(let name, let configuration):
                try await configure(bucket: name, configuration)
            case .putAlarm(let alarm):
                try await aws.cloudWatch.putMetricAlarm(alarm)
                appliedAlarms[alarm.name] = alarm
            }
        }
    }

    private func requireOurs(_ tags: [AWSTag], names: DataTierNames, what: String) throws(StepFailure) {
        switch names.ownership(of: tags) {
        case .ours: return
        case .untagged: throw .refused(reason: "NotOurs", message: "\(what) exists without our tag; adopt it through the spec to manage it")
        case .another(let other): throw .refused(reason: "AlreadyOwnedByAnother", message: "\(what) belongs to platform \(other)")
        }
    }

    private func createSecret(name: String, kind: CredentialKind, tags: [AWSTag]) async throws(AWSError) {
        // RDS master passwords may not contain / @ " or spaces; AUTH tokens only printable
        // characters without those either, so both exclude them.
        let password = try await aws.secretsManager.getRandomPassword(.init(
            length: kind == .database ? 32 : 64, excludeCharacters: "/@\"' \\", excludePunctuation: kind == .cache, includeSpace: false))
        let body: JSONValue = kind == .database
            ? ["username": .string(DataTierPlanner.masterUsername), "password": .string(password.value)]
            : ["authToken": .string(password.value)]
        do {
            _ = try await aws.secretsManager.createSecret(.init(
                name: name, secretDescription: "medsearch \(kind.rawValue) credential", kmsKeyId: network.kmsKeyId,
                secretString: body.serialized(), tags: tags))
        } catch where error.isAlreadyExists {}
        secrets[name] = nil
    }

    private func configure(bucket name: String, _ c: BucketConfiguration) async throws(AWSError) {
        if c.versioning { try await aws.s3.putBucketVersioning(name, status: .enabled) }
        try await aws.s3.putBucketEncryption(name, c.encryption)
        try await aws.s3.putPublicAccessBlock(name, c.publicAccessBlock)
        try await aws.s3.putBucketPolicy(name, policy: c.policy)
        try await aws.s3.putBucketLifecycleConfiguration(name, rules: c.lifecycle)
        // Keep tags others put on the bucket; ours win on conflicting keys.
        let existing = (bucketTags[name] ?? nil) ?? []
        let ours = Set(c.tags.map(\.key))
        let merged = existing.filter { !ours.contains($0.key) } + c.tags
        try await aws.s3.putBucketTagging(name, tags: merged)
        bucketTags[name] = .some(merged)
        appliedBuckets[name] = c
    }
}

import JSON

/// Reads a flat JSON object of strings (the secret bodies the operator writes).
enum JSONValueBridge {
    static func object(_ text: String) throws -> [String: String] {
        (try JSONValue.parse(text)).objectValue?.compactMapValues(\.stringValue) ?? [:]
    }
}
