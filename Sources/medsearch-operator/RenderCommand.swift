import ArgumentParser
import Foundation
import PlatformSpecs
import YAML

/// `medsearch-operator render`: prints a platform's child objects as YAML without a
/// cluster, for GitOps pipelines and review.
///
/// Caveats: without `--uid` (or `metadata.uid` in the file) the objects carry no owner
/// references (a made-up uid would have the garbage collector delete them once applied);
/// the operator adds the real one when it applies them.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the Kubernetes objects a MedicalSearchPlatform would own, as multi-document YAML.",
        discussion: """
            The tier comes from --tier (a file holding one or more ServiceTiers; the one named \
            by spec.tierRef is used) or --tiers-dir (every .yaml/.yml file in it is read). \
            Owner references use --uid, else metadata.uid from the file; without either the \
            objects have none, and the operator adds them when it applies the objects.
            """)

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
        let documents = try Self.parse(file)
        guard documents.count == 1 else {
            throw InputError("\(file): expected one YAML document, found \(documents.count)")
        }
        let output: ManifestRendering.Output
        do {
            output = try ManifestRendering.render(
                platform: documents[0], tiers: try Self.tierDocuments(tier: tier, tiersDir: tiersDir),
                uid: uid, tierSource: tier ?? tiersDir ?? "")
        } catch let failure as ManifestRendering.Failure {
            throw InputError(failure.description)
        }
        print(output.yaml, terminator: "")
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
}

/// A problem with an input file, already phrased as `file:line: field: message`; printed
/// as is, without the usage text ArgumentParser adds to validation errors.
struct InputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
