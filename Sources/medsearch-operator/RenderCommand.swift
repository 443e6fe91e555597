import ArgumentParser
import Foundation
import JSON
import PlatformAPI
import PlatformSpecs
import YAML

/// `medsearch-operator render`: prints a platform's child objects as YAML without a
/// cluster, for GitOps pipelines and review.
///
/// Caveats: without `--uid` (or `metadata.uid` in the file) owner references carry the
/// placeholder uid `00000000-0000-0000-0000-000000000000`. Replace it with the platform's
/// real uid before applying: the garbage collector deletes objects whose owner uid
/// matches nothing.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the Kubernetes objects a MedicalSearchPlatform would own, as multi-document YAML.",
        discussion: """
            The tier comes from --tier (a file holding one or more ServiceTiers; the one named \
            by spec.tierRef is used) or --tiers-dir (every .yaml/.yml file in it is read). \
            Owner references use --uid, else metadata.uid from the file, else the placeholder \
            uid \(placeholderUIDText), which must be replaced before applying.
            """)

    static let placeholderUIDText = "00000000-0000-0000-0000-000000000000"

    @Option(name: .shortAndLong, help: "MedicalSearchPlatform YAML file.")
    var file: String

    @Option(name: .long, help: "ServiceTier YAML file.")
    var tier: String?

    @Option(name: .long, help: "Directory of ServiceTier YAML files, e.g. examples/tiers.")
    var tiersDir: String?

    @Option(name: .long, help: "uid of the platform object, for owner references.")
    var uid: String?

    func validate() throws {
        if tier == nil && tiersDir == nil {
            throw ValidationError("pass --tier <file> or --tiers-dir <directory> to say where the platform's ServiceTier is")
        }
    }

    func run() throws {
        let platformDocument = try Self.singleDocument(file)
        var platform: MedicalSearchPlatform
        do {
            platform = try MedicalSearchPlatform.decode(platformDocument.value)
        } catch {
            throw Self.located(error.violations, in: platformDocument)
        }
        if let uid { platform.uid = uid }

        let tierDocuments = try Self.tierDocuments(tier: tier, tiersDir: tiersDir)
        guard let tierDocument = tierDocuments.first(where: {
            $0.value["kind"].stringValue == ServiceTier.kind
                && $0.value[path: ["metadata", "name"]].stringValue == platform.spec.tierName
        }) else {
            let line = platformDocument.line(of: ["spec", "tierRef", "name"]) ?? 1
            throw InputError("\(file):\(line): spec.tierRef.name: no ServiceTier named \"\(platform.spec.tierName)\" in \(tier ?? tiersDir ?? "")")
        }
        let serviceTier: ServiceTier
        do {
            serviceTier = try ServiceTier.decode(tierDocument.value)
        } catch {
            throw Self.located(error.violations, in: tierDocument)
        }
        let violations = platform.violations(against: serviceTier)
        if !violations.isEmpty { throw Self.located(violations, in: platformDocument) }

        let state = desiredState(platform: platform, tier: serviceTier, observed: ObservedState())
        let cost = estimatedMonthlyCost(tier: serviceTier, platform: platform)
        var header = "# Rendered by medsearch-operator from \(file) with tier \"\(serviceTier.name)\".\n"
        header += "# Estimated monthly cost: $\(CostEstimate.dollars(cost.estimate.totalCents)) (see PriceList).\n"
        if platform.uid == nil {
            header += "# ownerReferences carry the placeholder uid \(Self.placeholderUIDText): set the platform's real uid (--uid) before applying.\n"
        }
        print(header + YAMLEmitter.emit(documents: state.objects), terminator: "")
    }

    static func singleDocument(_ path: String) throws -> YAMLDocument {
        let documents = try parse(path)
        guard documents.count == 1 else {
            throw InputError("\(path): expected one YAML document, found \(documents.count)")
        }
        return documents[0]
    }

    static func parse(_ path: String) throws -> [YAMLDocument] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("\(path): cannot read file")
        }
        do {
            return try YAMLParser.parseDocuments(bytes: Array(data), file: path)
        } catch {
            throw InputError(error.description)
        }
    }

    static func tierDocuments(tier: String?, tiersDir: String?) throws -> [YAMLDocument] {
        if let tier { return try parse(tier) }
        guard let tiersDir else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: tiersDir)
        } catch {
            throw InputError("\(tiersDir): cannot list directory")
        }
        var documents: [YAMLDocument] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            documents += try parse((tiersDir as NSString).appendingPathComponent(name))
        }
        return documents
    }

    /// One message per violation, each prefixed with `file:line:` so editors can jump to it.
    static func located(_ violations: [SpecViolation], in document: YAMLDocument) -> InputError {
        let file = document.file ?? "<input>"
        let lines = violations.map { v in "\(file):\(document.line(of: v) ?? 1): \(v)" }
        return InputError(lines.joined(separator: "\n"))
    }
}

/// A problem with an input file, already phrased as `file:line: field: message`; printed
/// as is, without the usage text ArgumentParser adds to validation errors.
struct InputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
