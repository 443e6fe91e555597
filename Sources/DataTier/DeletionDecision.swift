import PlatformAPI

/// What cleanup does with one data store, decided from its deletion policy.
public enum DeletionDecision: Sendable, Equatable {
    /// Untag from the platform (remove `medsearch.io/platform`, add `medsearch.io/retained-from`) and leave it.
    case retain
    /// Final snapshot, then delete.
    case snapshotThenDelete
    case delete
    /// Do nothing yet; the condition explains what a person must do.
    case refuse(reason: String, message: String)
}

/// Deletion policy → decision, per data store.
///
/// Guarantees: nothing holding data is removed without an explicit policy saying so;
/// production (HIPAA or `production`-named) tiers delete a database only when the platform's
/// annotation `platform.medsearch.io/confirm-database-deletion` equals the platform's name;
/// buckets are never snapshotted (S3 has no snapshots: `Snapshot` keeps them) and never
/// emptied by the operator (see `bucketDecision`).
public enum DeletionDecisions {
    public static let confirmDatabaseDeletionAnnotation = "platform.medsearch.io/confirm-database-deletion"

    public static func database(
        _ policy: DeletionPolicy, production: Bool, platformName: String, annotations: [String: String]
    ) -> DeletionDecision {
        switch policy {
        case .retain: return .retain
        case .snapshot: return .snapshotThenDelete
        case .delete:
            if production && annotations[confirmDatabaseDeletionAnnotation] != platformName {
                return .refuse(
                    reason: "DeletionNotConfirmed",
                    message: "deletionPolicy Delete on a production tier needs the annotation \(confirmDatabaseDeletionAnnotation): \"\(platformName)\"; the database is kept until then")
            }
            return .delete
        }
    }

    public static func cache(_ policy: DeletionPolicy) -> DeletionDecision {
        switch policy {
        case .retain: .retain
        case .snapshot: .snapshotThenDelete
        case .delete: .delete
        }
    }

    /// Buckets: `Delete` removes an empty bucket only; `Snapshot` means retain.
    public static func bucket(_ policy: DeletionPolicy, name: String, isEmpty: Bool) -> DeletionDecision {
        switch policy {
        case .retain, .snapshot: return .retain
        case .delete:
            if !isEmpty {
                return .refuse(
                    reason: "BucketNotEmpty",
                    message: "bucket \(name) is not empty; the operator never force-deletes objects: empty it (all versions) or change deletionPolicy to Retain")
            }
            return .delete
        }
    }
}
