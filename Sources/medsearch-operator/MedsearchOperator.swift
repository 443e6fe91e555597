import ArgumentParser

/// The single executable: each subcommand wires modules together and nothing else.
@main
struct MedsearchOperator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medsearch-operator",
        abstract: "Runs a medical AI search platform on Kubernetes from one MedicalSearchPlatform resource.",
        version: "0.1.0",
        subcommands: [RunCommand.self, StatusCommand.self, DemoCommand.self, DevAPIServerCommand.self, DevAPIServerBenchmarkCommand.self, BenchCacheCommand.self, CRDsCommand.self, RenderCommand.self]
    )
}
