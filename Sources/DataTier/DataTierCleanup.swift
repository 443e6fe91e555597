import AWS
import Foundation
import PlatformAPI

/// Deleting a platform's data tier according to its deletion policies.
///
/// Guarantees: re-entrant (every pass re-reads AWS and does only what is left, so calling it
/// again after a crash is safe); never deletes a resource whose tags name another platform
/// or none; never empties a bucket; `done` only when every store is retained or gone.
/// Caveats: Retain leaves the credential secret in Secrets Manager (the retained database
/// is useless without its password) and tags it `medsearch.io/retained-from`.
extension DataTierReconciler {
    public func cleanup(platform: MedicalSearchPlatform, tier: ServiceTier, annotations: [String: String] = [:]) async -> CleanupOutcome {
        let names = DataTierNames(platform: platform)
        let effective = platform.effectiveDataTier(tier: tier)
        let production = DataTierPlanner.isProduction(tier)
        let replicaIds = names.allReadReplicas
        await observer.register(platform: names.owner, dbInstances: [names.dbInstance] + replicaIds, replicationGroup: names.replicationGroup)
        await observer.invalidate()
        let snapshot = await observer.snapshot()
        var conditions = platform.status?.conditions ?? []
        var applied: [String] = []
        var pending = false
        // Components whose condition already carries an AWS error, which a summary must not overwrite.
        var failed: Set<DataTierComponent> = []
        let time = now()
        func set(_ component: DataTierComponent, _ status: ConditionStatus, _ reason: String, _ message: String) {
            Conditions.set(component.conditionType, status, reason: reason, message: message, generation: platform.generation, now: time, in: &conditions)
        }
        func fail(_ component: DataTierComponent, _ error: AWSError) {
            let (reason, message) = AWSStatusMapping.reason(for: error)
            set(component, .false, reason, message)
            failed.insert(component)
            pending = true
        }
        let retainedTag = [AWSTag(key: DataTierNames.retainedFromTagKey, value: names.owner)]

        // Alarms go with the platform whatever the policies: they hold no data.
        do {
            try await aws.cloudWatch.deleteAlarms(names: [names.cpuAlarm, names.errorRateAlarm])
        } catch where !error.isNotFound {
            fail(.database, error)
        } catch {}

        // Database.
        databaseBlock: do {
            if let error = snapshot.rdsError { fail(.database, error); break databaseBlock }
            let decision = DeletionDecisions.database(
                effective.deletionPolicy.database, production: production, platformName: platform.name, annotations: annotations)
            let ours = ([names.dbInstance] + replicaIds).compactMap { snapshot.instances[$0] }
                .filter { names.ownership(of: $0.tags) == .ours }
            switch decision {
            case .refuse(let reason, let message):
                set(.database, .false, reason, message)
                pending = true
            case .retain:
                for instance in ours {
                    guard let arn = instance.arn else { continue }
                    do {
                        try await aws.rds.addTagsToResource(arn: arn, tags: retainedTag)
                        try await aws.rds.removeTagsFromResource(arn: arn, keys: [DataTierNames.platformTagKey])
                        applied.append("retained DB instance \(instance.identifier)")
                    } catch where error.isNotFound {} catch { fail(.database, error) }
                }
                await retainSecret(names.databaseSecret, tags: retainedTag)
                if !failed.contains(.database) { set(.database, .false, "Retained", "DB instance \(names.dbInstance) retained (untagged from the platform)") }
            case .snapshotThenDelete, .delete:
                let replicas = ours.filter { $0.identifier != names.dbInstance }
                let primary = ours.first { $0.identifier == names.dbInstance }
                if !replicas.isEmpty {
                    // Replicas first: RDS refuses to delete a primary that still has replicas.
                    for replica in replicas where replica.status != "deleting" {
                        do {
                            _ = try await aws.rds.deleteDBInstance(.init(identifier: replica.identifier, skipFinalSnapshot: true))
                            applied.append("delete read replica \(replica.identifier)")
                        } catch where error.isNotFound {} catch { fail(.database, error) }
                    }
                    pending = true
                    set(.database, .false, "Deleting", "deleting read replicas before the primary")
                } else if let db = primary {
                    pending = true
                    if db.status == "deleting" {
                        set(.database, .false, "Deleting", "DB instance \(db.identifier) is deleting")
                    } else if db.deletionProtection == true {
                        do {
                            _ = try await aws.rds.modifyDBInstance(.init(identifier: db.identifier, deletionProtection: false, applyImmediately: true))
                            applied.append("lift deletion protection of \(db.identifier)")
                            set(.database, .false, "Deleting", "lifting deletion protection of \(db.identifier) before deleting it")
                        } catch { fail(.database, error) }
                    } else {
                        let snapshotName = decision == .snapshotThenDelete ? names.finalDBSnapshot : nil
                        do {
                            _ = try await aws.rds.deleteDBInstance(.init(
                                identifier: db.identifier, skipFinalSnapshot: snapshotName == nil, finalSnapshotIdentifier: snapshotName))
                            applied.append("delete DB instance \(db.identifier)" + (snapshotName.map { " after final snapshot \($0)" } ?? ""))
                            set(.database, .false, "Deleting", "DB instance \(db.identifier) is deleting" + (snapshotName.map { " (final snapshot \($0))" } ?? ""))
                        } catch where error.isNotFound {} catch { fail(.database, error) }
                    }
                } else {
                    do { try await aws.rds.deleteDBSubnetGroup(name: names.dbSubnetGroup) } catch where error.isNotFound {} catch { fail(.database, error) }
                    if platform.spec.database.adoptInstanceIdentifier == nil {
                        await deleteSecret(names.databaseSecret, onError: { fail(.database, $0) })
                    }
                    if !failed.contains(.database) { set(.database, .false, "Deleted", "DB instance \(names.dbInstance) deleted") }
                }
            }
        }

        // Cache.
        cacheBlock: do {
            if let error = snapshot.elastiCacheError { fail(.cache, error); break cacheBlock }
            let decision = DeletionDecisions.cache(effective.deletionPolicy.cache)
            var group = snapshot.replicationGroups[names.replicationGroup]
            if let g = group, let arn = g.arn {
                do {
                    let tags = try await observer.replicationGroupTags(arn: arn)
                    if names.ownership(of: tags) != .ours { group = nil }
                } catch where error.isNotFound { group = nil } catch { fail(.cache, error); break cacheBlock }
            }
            switch decision {
            case .refuse(let reason, let message):
                set(.cache, .false, reason, message)
                pending = true
            case .retain:
                if let g = group, let arn = g.arn {
                    do {
                        try await aws.elastiCache.addTagsToResource(arn: arn, tags: retainedTag)
                        try await aws.elastiCache.removeTagsFromResource(arn: arn, keys: [DataTierNames.platformTagKey])
                        await observer.forgetTags(arn: arn)
                        applied.append("retained replication group \(g.id)")
                    } catch where error.isNotFound {} catch { fail(.cache, error) }
                }
                await retainSecret(names.cacheSecret, tags: retainedTag)
                if !failed.contains(.cache) { set(.cache, .false, "Retained", "replication group \(names.replicationGroup) retained (untagged from the platform)") }
            case .snapshotThenDelete, .delete:
                if let g = group {
                    pending = true
                    if g.status == "deleting" {
                        set(.cache, .false, "Deleting", "replication group \(g.id) is deleting")
                    } else {
                        let snapshotName = decision == .snapshotThenDelete ? names.finalCacheSnapshot : nil
                        do {
                            _ = try await aws.elastiCache.deleteReplicationGroup(id: g.id, finalSnapshotIdentifier: snapshotName)
                            applied.append("delete replication group \(g.id)" + (snapshotName.map { " after final snapshot \($0)" } ?? ""))
                            set(.cache, .false, "Deleting", "replication group \(g.id) is deleting")
                        } catch where error.isNotFound {} catch { fail(.cache, error) }
                    }
                } else {
                    do { try await aws.elastiCache.deleteCacheSubnetGroup(name: names.cacheSubnetGroup) } catch where error.isNotFound {} catch {
                        fail(.cache, error)
                    }
                    if platform.spec.cache.adoptReplicationGroupId == nil {
                        await deleteSecret(names.cacheSecret, onError: { fail(.cache, $0) })
                    }
                    if !failed.contains(.cache) { set(.cache, .false, "Deleted", "replication group \(names.replicationGroup) deleted") }
                }
            }
        }

        // Storage.
        var storageMessages: [String] = []
        var storageReason = "Retained"
        for role in BucketRole.allCases {
            guard let name = names.buckets[role] else { continue }
            let tags: [AWSTag]?
            do {
                bucketTags[name] = nil
                guard let observedTags = try await observedBucketTags(name) else {
                    storageMessages.append("\(name) gone")
                    continue
                }
                tags = observedTags
            } catch { fail(.storage, error); continue }
            guard names.ownership(of: tags ?? []) == .ours else {
                storageMessages.append("\(name) not ours, left alone")
                continue
            }
            var isEmpty = false
            if effective.deletionPolicy.storage == .delete {
                do { isEmpty = try await aws.s3.listObjectsV2(name, prefix: nil, maxKeys: 1, continuationToken: nil).isEmpty } catch { fail(.storage, error); continue }
            }
            switch DeletionDecisions.bucket(effective.deletionPolicy.storage, name: name, isEmpty: isEmpty) {
            case .retain, .snapshotThenDelete:
                let kept = (tags ?? []).filter { $0.key != DataTierNames.platformTagKey } + retainedTag
                do {
                    try await aws.s3.putBucketTagging(name, tags: kept)
                    applied.append("retained bucket \(name)")
                    storageMessages.append("\(name) retained")
                } catch { fail(.storage, error) }
            case .delete:
                do {
                    try await aws.s3.deleteBucket(name)
                    applied.append("delete bucket \(name)")
                    storageMessages.append("\(name) deleted")
                    storageReason = "Deleted"
                } catch where error.code == "BucketNotEmpty" {
                    // Object versions or delete markers remain though no current object does.
                    storageReason = "BucketNotEmpty"
                    storageMessages.append("bucket \(name) still holds object versions; the operator never force-deletes them")
                    pending = true
                } catch where error.isNotFound {} catch { fail(.storage, error) }
            case .refuse(let reason, let message):
                storageReason = reason
                storageMessages.append(message)
                pending = true
            }
        }
        if !failed.contains(.storage) {
            set(.storage, .false, storageReason, storageMessages.isEmpty ? "no buckets left" : storageMessages.joined(separator: "; "))
        }

        for action in applied { logger.info("data tier cleanup", metadata: ["platform": "\(names.owner)", "step": "\(action)"]) }
        if !pending {
            await observer.unregister(platform: names.owner)
            health[names.owner] = nil
        } else {
            await observer.invalidate()
        }
        return CleanupOutcome(done: !pending, conditions: conditions, requeueAfter: pending ? settleInterval : nil, appliedActions: applied)
    }

    private func retainSecret(_ name: String, tags: [AWSTag]) async {
        do { try await aws.secretsManager.tagResource(id: name, tags: tags) } catch {}
    }

    private func deleteSecret(_ name: String, onError: (AWSError) -> Void) async {
        do {
            // A recovery window rather than force-delete: a mistaken deletion can be undone for 7 days.
            _ = try await aws.secretsManager.deleteSecret(id: name, recoveryWindowInDays: 7)
            secrets[name] = nil
        } catch where error.isNotFound || error.code == "InvalidRequestException" {
            secrets[name] = nil
        } catch {
            onError(error)
        }
    }
}
