/// Rules for a platform that its schema cannot state, first on its own, then against
/// the tier it references (overrides are only wrong relative to what they override).
extension MedicalSearchPlatformSpec {
    /// Environment names the operator sets itself; a service override must not shadow them,
    /// or a typo'd env entry could silently point a service at the wrong database.
    public static let reservedEnvironmentPrefixes = ["DATABASE_", "REDIS_", "S3_", "AWS_", "MEDSEARCH_"]

    public func violations() -> [SpecViolation] {
        var out: [SpecViolation] = []
        for service in PlatformService.allCases {
            let o = override(service)
            let path = "spec.services.\(service.rawValue)"
            if let min = o.minReplicas, let max = o.maxReplicas, min > max {
                out.append(SpecViolation(field: "\(path).replicas.max", message: "must be >= min (\(min))"))
            }
            for name in o.env.keys.sorted() {
                if !SchemaValidator.matches(name, MedicalSearchPlatform.envNamePattern) {
                    out.append(SpecViolation(field: "\(path).env.\(name)", message: "is not a valid environment variable name"))
                } else if let prefix = Self.reservedEnvironmentPrefixes.first(where: { name.hasPrefix($0) }) {
                    out.append(SpecViolation(field: "\(path).env.\(name)", message: "names starting with \(prefix) are set by the operator"))
                }
            }
        }
        if !PlatformService.allCases.contains(where: { override($0).enabled }) {
            out.append(SpecViolation(field: "spec.services", message: "at least one service must be enabled"))
        }
        for (role, name) in storage.adoptBuckets.sorted(by: { $0.key < $1.key }) {
            let path = "spec.storage.adopt.buckets.\(role.rawValue)"
            if name.contains("..") || name.hasPrefix("xn--") || name.hasSuffix("-s3alias")
                || SchemaValidator.matches(name, "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$")
            {
                out.append(SpecViolation(field: path, message: "\"\(name)\" is not a valid S3 bucket name"))
            }
        }
        let adoptedNames = storage.adoptBuckets.sorted(by: { $0.key < $1.key })
        var seen: [String: BucketRole] = [:]
        for (role, name) in adoptedNames {
            if let first = seen[name] {
                out.append(SpecViolation(field: "spec.storage.adopt.buckets.\(role.rawValue)", message: "bucket \"\(name)\" is already adopted as \(first.rawValue)"))
            } else {
                seen[name] = role
            }
        }
        for (i, cidr) in networking.dataStoreCIDRs.enumerated() where !Self.isValidCIDR(cidr) {
            out.append(SpecViolation(field: "spec.networking.dataStoreCIDRs[\(i)]", message: "\"\(cidr)\" is not an IPv4 CIDR"))
        }
        return out
    }

    /// Rules that compare the platform's overrides with its tier, blaming the override.
    public func violations(against tier: ServiceTierSpec, tierName: String) -> [SpecViolation] {
        var out: [SpecViolation] = []
        for service in PlatformService.allCases where override(service).enabled {
            let o = override(service)
            let sizing = tier.sizing(service)
            let min = o.minReplicas ?? sizing.replicas.min
            let max = o.maxReplicas ?? sizing.replicas.max
            if min > max {
                // Blame whichever side the platform set; if it set both, decoding already did.
                let field = o.maxReplicas != nil ? "max" : "min"
                let message = field == "max"
                    ? "must be >= min (\(min))" + (o.minReplicas == nil ? " from tier \"\(tierName)\"" : "")
                    : "must be <= max (\(max)) from tier \"\(tierName)\""
                out.append(SpecViolation(field: "spec.services.\(service.rawValue).replicas.\(field)", message: message))
            }
        }
        let resolved = EffectiveDataTier(platform: self, tier: tier)
        out += LifecycleRules.violations(resolved.storage.lifecycle, path: "spec.storage.lifecycle")
        if tier.hipaa {
            // A value the platform did not override came from a tier that already passed
            // these checks, so every violation here is the platform's doing.
            out += HIPAAGuardrails.violations(
                database: resolved.database, cache: resolved.cache, storage: resolved.storage,
                source: "\"\(tierName)\"", path: { "spec.\($0)" })
        }
        return out
    }

    static func isValidCIDR(_ cidr: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits) else { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
    }
}

extension MedicalSearchPlatform {
    /// Every violation of this platform against the tier it references.
    public func violations(against tier: ServiceTier) -> [SpecViolation] {
        var out = spec.violations()
        if tier.name != spec.tierName {
            out.append(SpecViolation(field: "spec.tierRef.name", message: "refers to tier \"\(spec.tierName)\", not \"\(tier.name)\""))
        }
        out += spec.violations(against: tier.spec, tierName: tier.name)
        return out
    }
}

extension MedicalSearchPlatform {
    /// The HIPAA guardrails this platform fails on its tier (empty for non-HIPAA tiers),
    /// for `status.failedGuardrails`; a subset of `violations(against:)`.
    public func failedGuardrails(against tier: ServiceTier) -> [SpecViolation] {
        guard tier.spec.hipaa else { return [] }
        let data = effectiveDataTier(tier: tier)
        return HIPAAGuardrails.violations(
            database: data.database, cache: data.cache, storage: data.storage,
            source: "\"\(tier.name)\"", path: { "spec.\($0)" })
    }
}
