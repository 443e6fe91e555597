import ArgumentParser
import Foundation
import PlatformAPI

/// `medsearch-operator crds`: writes (or checks) the CustomResourceDefinitions generated
/// from the Swift API types.
struct CRDsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crds",
        abstract: "Write the MedicalSearchPlatform and ServiceTier CRDs generated from the Swift types.")

    @Option(name: .long, help: "Directory to write the CRD files into (default: crds).")
    var outputDir = "crds"

    @Flag(name: .long, help: "Do not write; exit non-zero if the files in --output-dir differ from what would be written.")
    var check = false

    @Flag(name: .long, help: "Print the CRDs to standard output as one multi-document stream instead of writing files.")
    var stdout = false

    func run() throws {
        let files = CustomResourceDefinitions.files()
        if stdout {
            print(files.map(\.contents).joined(separator: "---\n"), terminator: "")
            return
        }
        let directory = URL(fileURLWithPath: outputDir)
        if check {
            var stale: [String] = []
            for file in files {
                let path = directory.appendingPathComponent(file.name).path
                let current = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                if current != file.contents { stale.append(path) }
            }
            if !stale.isEmpty {
                throw InputError("out of date (run `medsearch-operator crds`): " + stale.joined(separator: ", "))
            }
            return
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in files {
            let url = directory.appendingPathComponent(file.name)
            try Data(file.contents.utf8).write(to: url, options: .atomic)
            print("wrote \(url.path)")
        }
    }
}
