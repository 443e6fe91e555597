/// Rules a tier's schema states as CEL, checked again in Swift so files rendered outside
/// a cluster get the same answers the API server would give.
extension ServiceTierSpec {
    public func violations() -> [SpecViolation] {
        var out: [SpecViolation] = []
        for service in PlatformService.allCases {
            let sizing = sizing(service)
            let path = "spec.services.\(service.rawValue)"
            if sizing.replicas.min > sizing.replicas.max {
                out.append(SpecViolation(field: "\(path).replicas.max", message: "must be >= min (\(sizing.replicas.min))"))
            }
            if sizing.resources.requests["cpu"] == nil {
                out.append(SpecViolation(field: "\(path).resources.requests", message: "a CPU request is required: the autoscaler's target is a share of it"))
            }
            out += ResourceRules.requestsWithinLimits(sizing.resources, path: "\(path).resources")
        }
        out += LifecycleRules.violations(storage.lifecycle, path: "spec.storage.lifecycle")
        if !ServiceTier.cloudWatchRetentionDays.contains(logRetentionDays) {
            let allowed = ServiceTier.cloudWatchRetentionDays.map(String.init).joined(separator: ", ")
            out.append(SpecViolation(field: "spec.logRetentionDays", message: "must be a retention CloudWatch accepts: \(allowed)"))
        }
        if hipaa {
            out += HIPAAGuardrails.violations(
                database: database, cache: cache, storage: storage,
                source: "tier", path: { "spec.\($0)" })
        }
        return out
    }
}

enum ResourceRules {
    static func requestsWithinLimits(_ resources: ResourceSizing, path: String) -> [SpecViolation] {
        var out: [SpecViolation] = []
        for (name, limitText) in resources.limits.sorted(by: { $0.key < $1.key }) {
            guard let requestText = resources.requests[name],
                let request = Quantity(requestText), let limit = Quantity(limitText)
            else { continue }
            if request.value > limit.value {
                out.append(SpecViolation(field: "\(path).requests.\(name)", message: "must be <= limit (\(limitText)), got \(requestText)"))
            }
        }
        return out
    }
}

enum LifecycleRules {
    static func violations(_ l: StorageLifecycle, path: String) -> [SpecViolation] {
        var out: [SpecViolation] = []
        if l.glacierAfterDays <= l.infrequentAccessAfterDays {
            out.append(SpecViolation(field: "\(path).glacierAfterDays", message: "must be after infrequentAccessAfterDays (\(l.infrequentAccessAfterDays))"))
        }
        if l.deepArchiveAfterDays <= l.glacierAfterDays {
            out.append(SpecViolation(field: "\(path).deepArchiveAfterDays", message: "must be after glacierAfterDays (\(l.glacierAfterDays))"))
        }
        return out
    }
}

/// The HIPAA guardrails: no unencrypted storage, no public buckets, backups kept at least
/// 7 days. Applied to a tier on its own and to a platform's effective (overridden) settings.
public enum HIPAAGuardrails {
    public static let minimumBackupRetentionDays: Int64 = 7

    /// `path` maps a setting (`database.backupRetentionDays`) to the field to blame, which
    /// is the tier's field or the platform's override depending on who set the value.
    static func violations(
        database: DatabaseTier, cache: CacheTier, storage: StorageTier,
        source: String, path: (String) -> String
    ) -> [SpecViolation] {
        var out: [SpecViolation] = []
        // "HIPAA tiers require …" for a tier's own fields, "the HIPAA tier "x" requires …"
        // when a platform's override breaks its tier's rule.
        let why = source == "tier" ? "HIPAA tiers" : "the HIPAA tier \(source)"
        let require = source == "tier" ? "require" : "requires"
        let forbid = source == "tier" ? "forbid" : "forbids"
        if !database.storageEncrypted {
            out.append(SpecViolation(field: path("database.storageEncrypted"), message: "\(why) \(require) encrypted database storage"))
        }
        if database.backupRetentionDays < minimumBackupRetentionDays {
            out.append(SpecViolation(field: path("database.backupRetentionDays"), message: "\(why) \(require) at least \(minimumBackupRetentionDays) days of backups, got \(database.backupRetentionDays)"))
        }
        if !cache.atRestEncryption {
            out.append(SpecViolation(field: path("cache.atRestEncryption"), message: "\(why) \(require) cache encryption at rest"))
        }
        if !cache.transitEncryption {
            out.append(SpecViolation(field: path("cache.transitEncryption"), message: "\(why) \(require) cache encryption in transit"))
        }
        if !storage.encrypted {
            out.append(SpecViolation(field: path("storage.encrypted"), message: "\(why) \(require) encrypted buckets"))
        }
        if storage.publicStaticAssets {
            out.append(SpecViolation(field: path("storage.publicStaticAssets"), message: "\(why) \(forbid) public buckets"))
        }
        return out
    }
}
