import JSON
import PlatformAPI
import YAML

/// Turns a MedicalSearchPlatform document and ServiceTier documents into the platform's
/// child manifests as multi-document YAML, without a cluster (`medsearch-operator render`).
///
/// Errors: every problem is reported as `file:line: field: message`, one per line, with
/// the line of the offending field (or of its nearest written ancestor when the field was
/// absent), so editors and CI logs can point at it.
/// Caveats: without a uid (argument or `metadata.uid`) the children have no owner
/// references, and the output says so in a leading comment.
public enum ManifestRendering {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var lines: [String]
        public init(lines: [String]) { self.lines = lines }
        public var description: String { lines.joined(separator: "\n") }
    }

    public struct Output: Sendable {
        public var yaml: String
        public var platform: MedicalSearchPlatform
        public var tier: ServiceTier
        public var state: DesiredChildren
        public var cost: MonthlyCost
    }

    public static func render(platform platformDocument: YAMLDocument, tiers: [YAMLDocument], uid: String? = nil, tierSource: String) throws(Failure) -> Output {
        var platform: MedicalSearchPlatform
        do {
            platform = try MedicalSearchPlatform.decode(platformDocument.value)
        } catch {
            throw located(error.violations, in: platformDocument)
        }
        if let uid { platform.uid = uid }

        guard let tierDocument = tiers.first(where: {
            $0.value["kind"].stringValue == ServiceTier.kind
                && $0.value[path: ["metadata", "name"]].stringValue == platform.spec.tierName
        }) else {
            throw located([SpecViolation(field: "spec.tierRef.name", message: "no ServiceTier named \"\(platform.spec.tierName)\" in \(tierSource)")], in: platformDocument)
        }
        let tier: ServiceTier
        do {
            tier = try ServiceTier.decode(tierDocument.value)
        } catch {
            throw located(error.violations, in: tierDocument)
        }
        let violations = platform.violations(against: tier)
        if !violations.isEmpty { throw located(violations, in: platformDocument) }

        let state = desiredState(platform: platform, tier: tier, observed: ObservedState())
        let cost = estimatedMonthlyCost(tier: tier, platform: platform)
        var header = "# Rendered by medsearch-operator from \(platformDocument.file ?? "<input>") with tier \"\(tier.name)\".\n"
        header += "# Estimated monthly cost: $\(CostEstimate.dollars(cost.estimate.totalCents)) (PlatformSpecs.PriceList).\n"
        if platform.uid == nil {
            header += "# No ownerReferences: the platform's uid is unknown (pass --uid to add them). The operator adds them when it applies these objects.\n"
        }
        return Output(yaml: header + YAMLEmitter.emit(documents: state.objects), platform: platform, tier: tier, state: state, cost: cost)
    }

    static func located(_ violations: [SpecViolation], in document: YAMLDocument) -> Failure {
        let file = document.file ?? "<input>"
        return Failure(lines: violations.map { "\(file):\(document.line(of: $0) ?? 1): \($0)" })
    }
}
