import ChildProcess
import ControllerRuntime
import DevAPIServer
import Foundation
import HTTPTransport
import JSON
import KubeAPI
import KubeConfig
import PlatformAPI
import Synchronization
import Testing
import YAML
@testable import PlatformController

/// Collects the demo's progress lines.
final class LineLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// What the `status`, `demo` commands and kubectl see, run in-process against the dev server.
@Suite(.serialized) struct CommandsEndToEndTests {
    static let kubectl = "/usr/bin/kubectl"

    @Test func statusTree_forAReadyPlatform_showsConditionsServicesAndDependenciesWithoutColors() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"]) { h in
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            try await h.waitForCondition(.ready, .true, "medsearch", "medsearch")
            try await h.eventually("every service to be counted ready") {
                let status = PlatformStatus(json: try await h.platform("medsearch", "medsearch")?["status"] ?? .null)
                return status.services.count == 6 && status.services.values.allSatisfy { $0.readyReplicas >= $0.desiredReplicas }
            }
            let text = try await StatusTree.fetch(client: h.client, namespace: "medsearch", name: "medsearch").render()
            #expect(text.hasPrefix("MedicalSearchPlatform medsearch/medsearch (tier production"))
            #expect(!text.contains("\u{1B}["), "no escape codes when colors are off")
            let lines = text.split(separator: "\n").map(String.init)
            let ready = try #require(lines.first { $0.contains("── Ready ") })
            #expect(ready.contains("True"))
            for service in PlatformService.allCases {
                let line = try #require(lines.first { $0.contains("── \(service.rawValue) ") }, "\(service)")
                #expect(line.contains("Deployment medsearch-\(service.rawValue) Available=True"))
            }
            for dependency in ["database", "cache", "storage"] {
                let line = try #require(lines.first { $0.contains("── \(dependency) ") })
                #expect(line.contains("Unknown"))
                #expect(line.contains("AWSTierNotConfigured"))
            }
            #expect(lines.last?.hasPrefix("└── Estimated monthly cost: $") == true)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CommandsEndToEndTests.kubectl), "kubectl is not installed at /usr/bin/kubectl"))
    func kubectlWait_forConditionReady_returnsOnceTheOperatorConverges() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"], tls: true) { h in
            let kubeconfig = try #require(h.kubeconfigPath)
            try await h.applyPlatform(try Examples.platform(name: "medsearch", namespace: "medsearch"))
            let result = try await runProcess(Self.kubectl, ["--kubeconfig", kubeconfig, "wait", "--for=condition=Ready", "msp/medsearch", "-n", "medsearch", "--timeout=120s"])
            #expect(result.status == 0, "kubectl wait failed: \(result.output)")
            #expect(result.output.contains("condition met"))
        }
    }

    @Test func demo_withTheRepositoryExamplesOnATLSServerWithAToken_reachesReadyAndPrintsTheTree() async throws {
        var configuration = DevAPIServerConfiguration()
        configuration.port = 0
        configuration.threads = 1
        configuration.tls = true
        configuration.token = "demo-test-\(UInt64.random(in: 0...UInt64.max))"
        configuration.simulationDelay = .milliseconds(200)
        configuration.logger = .quiet
        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h11-demo-\(UUID().uuidString).kubeconfig").path
        try endpoint.kubeconfig.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let connection = try KubeConfigLoader.loadAutomatically(explicitPath: path, context: nil, namespace: nil)
            let kube = KubernetesAPIClient(connection: connection, logger: .quiet)
            let lines = LineLog()
            let platform = try YAMLParser.parse(try Examples.text("examples/platform.yaml"))
            var demo = PlatformDemo(client: KubernetesResourceClient(client: kube), statusWriter: KubernetesStatusWriter(client: kube), tiers: try Examples.allTiers, platform: platform, output: { lines.append($0) }, logger: .quiet)
            demo.timeout = .seconds(120)
            let (running, tree) = try await demo.run()
            try await running.stop()
            #expect(lines.all.contains { $0.contains("installed CustomResourceDefinitions") })
            #expect(lines.all.last?.contains("Ready=True") == true)
            let text = tree.render()
            #expect(text.contains("AWSTierNotConfigured"))
            // examples/platform.yaml switches analytics off.
            #expect(!text.contains("── analytics "))
            #expect(text.contains("── search "))
            // A second install against the same server is a no-op, not an error.
            try await demo.install()
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    /// The executable next to this test binary; present when the whole package was built
    /// (as in CI), absent in a `MEDSEARCH_ONLY` build of this test target alone.
    static let operatorBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("medsearch-operator").path

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CommandsEndToEndTests.operatorBinary), "medsearch-operator is not built next to the tests (build the whole package)"))
    func demoCommand_withExitWhenReady_reachesReadyPrintsTheKubeconfigAndExitsZero() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h11-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await runProcess(Self.operatorBinary, ["demo", "--exit-when-ready", "--no-aws", "--port", "0", "--timeout", "120", "--demo-dir", directory, "--examples", Examples.root.appendingPathComponent("examples").path])
        #expect(result.status == 0, "demo failed: \(result.output)")
        #expect(result.output.contains("export KUBECONFIG=\(directory)/kubeconfig"))
        #expect(result.output.contains("Ready=True"))
        #expect(result.output.contains("AWSTierNotConfigured"))
        #expect(FileManager.default.fileExists(atPath: "\(directory)/kubeconfig"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CommandsEndToEndTests.operatorBinary), "medsearch-operator is not built next to the tests (build the whole package)"))
    func runCommand_withAWSDataTierButNoSubnets_refusesToStartAndSaysWhatIsMissing() async throws {
        let result = try await runProcess(Self.operatorBinary, ["run", "--aws-data-tier", "--aws-region", "us-east-1"])
        #expect(result.status != 0)
        #expect(result.output.contains("--aws-data-tier needs --aws-subnet-ids"), "\(result.output)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CommandsEndToEndTests.operatorBinary), "medsearch-operator is not built next to the tests (build the whole package)"),
          .enabled(if: LocalMotoServer.executablePath() != nil, "moto_server is not installed (pip install 'moto[server]')"))
    func demoCommand_withMoto_provisionsTheDataTierReachesReadyAndStopsMotoOnExit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h14-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await runProcess(Self.operatorBinary, ["demo", "--exit-when-ready", "--aws", "--port", "0", "--timeout", "120", "--demo-dir", directory, "--examples", Examples.root.appendingPathComponent("examples").path])
        #expect(result.status == 0, "demo failed: \(result.output)")
        #expect(result.output.contains("Ready=True Ready: services, database, cache and storage are ready"), "\(result.output)")
        #expect(!result.output.contains("AWSTierNotConfigured"))
        for line in ["database  True  Available", "cache     True  Available", "storage   True  Available"] {
            #expect(result.output.contains(line), "missing \(line) in \(result.output)")
        }
        // Data-plane probes either really authenticated against the local stand-ins, or the
        // demo said why it ran without them.
        #expect(result.output.contains("Degraded=False DataPlaneHealthy") || result.output.contains("data-plane probes: off ("), "\(result.output)")
        // moto is gone once the demo has exited: nothing answers on its port any more.
        let port = try #require(result.output.firstMatch(of: /moto_server on http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })
        let stillServing = try? await HTTPTransport().send(HTTPRequest(url: "http://127.0.0.1:\(port)/moto-api/data.json", timeout: .seconds(2)))
        #expect(stillServing == nil, "moto_server still answers on port \(port) after the demo exited")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CommandsEndToEndTests.operatorBinary), "medsearch-operator is not built next to the tests (build the whole package)"))
    func runCommand_convergesAPlatform_andOnSIGTERMDrainsAndExitsZero() async throws {
        var configuration = DevAPIServerConfiguration()
        configuration.port = 0
        configuration.threads = 1
        configuration.tls = true
        configuration.token = "run-test-\(UInt64.random(in: 0...UInt64.max))"
        configuration.simulationDelay = .milliseconds(200)
        configuration.logger = .quiet
        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h11-run-\(UUID().uuidString).kubeconfig").path
        try endpoint.kubeconfig.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let kube = KubernetesAPIClient(connection: try KubeConfigLoader.loadAutomatically(explicitPath: path, context: nil, namespace: nil), logger: .quiet)
            let client = KubernetesResourceClient(client: kube)
            // Only install here: the operator under test is the child process.
            let demo = PlatformDemo(client: client, statusWriter: KubernetesStatusWriter(client: kube), tiers: try Examples.allTiers, platform: try Examples.platform(name: "medsearch", namespace: "medsearch"), output: { _ in }, logger: .quiet)
            try await demo.install()

            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.operatorBinary)
            process.arguments = ["run", "--kubeconfig", path, "--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--log-format", "console", "--resync-interval", "1"]
            let pipe = try CloseOnExecPipe()
            process.standardOutput = pipe.writing
            process.standardError = pipe.writing
            let exited = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
            process.terminationHandler = { exited.continuation.yield($0.terminationStatus); exited.continuation.finish() }
            try process.runSerialized()
            try pipe.writing.close()
            var demoWait = demo
            demoWait.timeout = .seconds(120)
            do {
                try await demoWait.waitUntilReady()
            } catch {
                process.terminate()
                throw error
            }
            process.terminate()  // SIGTERM
            var status: Int32 = -1
            for await code in exited.stream { status = code }
            let log = String(decoding: pipe.reading.readDataToEndOfFile(), as: UTF8.self)
            #expect(status == 0, "run exited \(status): \(log)")
            #expect(log.contains("workers stopped"))
            #expect(!log.contains(configuration.token!), "the token never appears in logs")
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func demo_whenNoOperatorReportsReadiness_failsWithAMessageNamingTheLastCondition() async throws {
        try await OperatorHarness.with(namespaces: ["medsearch"], tiers: []) { h in
            // The harness operator sees no tier, so Ready stays False with TierNotFound.
            var demo = PlatformDemo(client: h.client, statusWriter: KubernetesStatusWriter(client: h.kube), tiers: [], platform: try Examples.platform(name: "medsearch", namespace: "medsearch"), output: { _ in }, logger: .quiet)
            demo.timeout = .seconds(3)
            try await demo.install()
            let failure = await #expect(throws: PlatformDemo.Failure.self) { try await demo.waitUntilReady() }
            #expect(failure?.description.contains("TierNotFound") == true)
            #expect(failure?.description.contains("medsearch-operator status medsearch -n medsearch") == true)
        }
    }
}

/// Runs a program to completion without blocking a concurrency thread.
func runProcess(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = try CloseOnExecPipe()
    process.standardOutput = pipe.writing
    process.standardError = pipe.writing
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.runSerialized() } catch { continuation.resume(throwing: error) }
    }
    try pipe.writing.close()
    let data = pipe.reading.readDataToEndOfFile()
    return (status, String(decoding: data, as: UTF8.self))
}
