import AWS
import ArgumentParser
import ControllerRuntime
import DataTier
import DevAPIServer
import Foundation
import HTTPTransport
import JSON
import KubeAPI
import KubeConfig
import Logging
import PlatformAPI
import PlatformController
import Synchronization
import YAML

/// `medsearch-operator demo`: the whole platform on a laptop — a dev API server, the CRDs,
/// the example tiers and platform, and the operator converging it to Ready.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Starts a local API server, applies examples/ and runs the operator until the platform is Ready.",
        discussion: """
            The server listens on 127.0.0.1 with TLS and a random bearer token; its kubeconfig \
            is written to <demo-dir>/kubeconfig so kubectl can explore while the demo runs. \
            Ctrl-C stops it (or --exit-when-ready stops once Ready, for CI). When moto_server is \
            on PATH (pip install 'moto[server]'), the demo starts it on 127.0.0.1 and the operator \
            provisions the platform's AWS data tier there (dummy credentials; nothing reaches real \
            AWS); otherwise database, cache and storage report AWSTierNotConfigured. With moto, \
            scripts/dataplane/start-local runs PostgreSQL and Redis (TLS) on loopback behind moto's \
            endpoints; as a demo-only stand-in for RDS/ElastiCache adopting the generated master \
            password, the demo copies the values from the <name>-credentials Secret into them, so \
            the data-plane probes really authenticate.
            """)

    @Option(help: "Port for the API server; 0 picks a free one.")
    var port = 0

    @Option(help: "Directory holding tiers/*.yaml and platform.yaml.")
    var examples = "examples"

    @Option(help: "Where the kubeconfig is written.")
    var demoDir = ".demo"

    @Option(help: "Seconds the platform may take to become Ready.")
    var timeout = 180

    @Flag(help: "Exit once the platform is Ready instead of serving until Ctrl-C.")
    var exitWhenReady = false

    @Flag(inversion: .prefixedNo, help: "Provision the AWS data tier in a local moto_server. Default: on when moto_server is on PATH.")
    var aws: Bool?

    @Flag(inversion: .prefixedNo, help: "With --aws: run PostgreSQL and Redis on loopback (scripts/dataplane/start-local) behind moto's endpoints so data-plane probes really connect. Default on when it works.")
    var dataPlane = true

    @Option(help: "Operator log level (logs go to stderr): trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        RuntimeLogHandler.bootstrap(format: .console, level: logLevel)
        let logger = Logger(label: "medsearch-operator")
        let tiers = try Self.documents(inDirectory: "\(examples)/tiers")
        let platforms = try Self.documents(inFile: "\(examples)/platform.yaml")
        guard platforms.count == 1, let platform = platforms.first else {
            throw InputError("\(examples)/platform.yaml: expected one MedicalSearchPlatform, found \(platforms.count) documents")
        }

        try FileManager.default.createDirectory(atPath: demoDir, withIntermediateDirectories: true)
        let kubeconfigPath = URL(fileURLWithPath: demoDir).appendingPathComponent("kubeconfig").standardizedFileURL.path
        var configuration = DevAPIServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = port
        configuration.tls = true
        configuration.token = Self.randomToken()
        configuration.kubeconfigPath = kubeconfigPath
        configuration.simulationDelay = .seconds(2)
        configuration.logger = logger
        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        Self.say("dev API server listening on \(endpoint.baseURL) (TLS, bearer token)")
        Self.say("export KUBECONFIG=\(kubeconfigPath)")

        // Listening from here on: a Ctrl-C while moto and the data plane start is kept and
        // acted on once they can be stopped.
        let interrupt = Task { await SignalWaiter.waitForInterrupt() }
        let moto: LocalMotoServer?
        let dataTier: DataTierReconciler?
        let dataPlane: DemoDataPlane?
        do {
            (moto, dataTier, dataPlane) = try await Self.startMoto(
                wanted: aws, region: platform[path: ["spec", "region"]].stringValue ?? "us-east-1",
                dataPlaneDirectory: self.dataPlane ? URL(fileURLWithPath: demoDir).appendingPathComponent("dataplane").standardizedFileURL.path : nil, logger: logger)
        } catch {
            await server.shutdown()
            throw error
        }
        // One signal waiter for the whole run (two would compete for the same signals).
        // Ctrl-C before Ready would otherwise end the process without the cleanup below and
        // leave PostgreSQL and Redis running; after Ready it is the normal way to stop.
        let servingUntilInterrupt = Atomic<Bool>(false)
        let earlyInterrupt = Task {
            await interrupt.value
            guard !Task.isCancelled, !servingUntilInterrupt.load(ordering: .acquiring) else { return }
            Self.say("interrupted; stopping" + (moto == nil ? "" : " moto and the local data plane"))
            moto?.stop()
            dataPlane?.stop()
            Foundation.exit(130)
        }
        defer {
            earlyInterrupt.cancel()
            moto?.stop()
            dataPlane?.stop()
        }

        do {
            let connection = try KubeConfigLoader.loadAutomatically(explicitPath: kubeconfigPath, context: nil, namespace: nil)
            let kube = KubernetesAPIClient(connection: connection, logger: logger)
            var demo = PlatformDemo(
                client: KubernetesResourceClient(client: kube), statusWriter: KubernetesStatusWriter(client: kube),
                tiers: tiers, platform: platform, output: { Self.say($0) }, logger: logger)
            demo.timeout = Duration.seconds(timeout)
            demo.dataTier = dataTier
            let demoClient = demo.client
            let demoKey = demo.platformKey
            let databaseName = platform[path: ["spec", "database", "databaseName"]].stringValue ?? "medsearch"
            let credentialsTask = dataPlane.map { plane in
                Task { try await Self.handCredentials(to: plane, client: demoClient, platform: demoKey, databaseName: databaseName) }
            }
            var (running, tree) = try await demo.run()
            if let credentialsTask {
                do {
                    try await credentialsTask.value
                    try await Self.waitForHealthyProbes(client: demo.client, platform: demo.platformKey)
                    tree = try await StatusTree.fetch(client: demo.client, namespace: demo.platformKey.namespace, name: demo.platformKey.name)
                } catch {
                    Self.say("data-plane probes: \(error)")
                }
            }
            var colored = tree
            colored.colors = isatty(STDOUT_FILENO) != 0
            print("")
            print(colored.render(), terminator: "")
            if !exitWhenReady {
                let key = demo.platformKey
                print("""

                    The platform is Ready. Explore it while the demo runs:
                      export KUBECONFIG=\(kubeconfigPath)
                      kubectl get msp -A
                      kubectl get deployments,hpa,pdb,networkpolicies -n \(key.namespace)
                      kubectl get events -n \(key.namespace)
                      medsearch-operator status \(key.name) -n \(key.namespace)
                    Press Ctrl-C to stop.
                    """)
                fflush(nil)
                servingUntilInterrupt.store(true, ordering: .releasing)
                await interrupt.value
                print("stopping")
            }
            try await running.stop()
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    /// moto and a data tier pointed at it, when wanted (`--aws`) or available (default),
    /// plus the local data plane behind it when `dataPlaneDirectory` is given and it starts.
    /// The AWS client gets only moto's address, dummy keys and the region: whatever AWS
    /// credentials the user's shell holds are never used by the demo.
    static func startMoto(wanted: Bool?, region: String, dataPlaneDirectory: String?, logger: Logger) async throws -> (LocalMotoServer?, DataTierReconciler?, DemoDataPlane?) {
        let installed = LocalMotoServer.executablePath() != nil
        guard wanted ?? installed else {
            say(wanted == false
                ? "AWS data tier: off (--no-aws); database, cache and storage report AWSTierNotConfigured"
                : "AWS data tier: off (moto_server is not installed: pip install 'moto[server]'); database, cache and storage report AWSTierNotConfigured")
            return (nil, nil, nil)
        }
        guard installed else { throw InputError("--aws needs moto_server on PATH (pip install 'moto[server]', or scripts/install-deps)") }
        let transport = HTTPTransport()
        let moto = try await LocalMotoServer.start(transport: transport)
        var dataPlane: DemoDataPlane?
        do {
            let subnets = try await moto.makeSubnets(region: region, transport: transport)
            var settings = AWSDataTierSettings(region: region, network: DataTierNetwork(subnetIds: subnets))
            settings.settleInterval = .seconds(2)
            settings.observeInterval = .seconds(1)
            settings.probeInterval = nil
            let environment = moto.awsEnvironment(region: region)
            if let dataPlaneDirectory {
                do {
                    let plane = try DemoDataPlane.start(directory: dataPlaneDirectory)
                    dataPlane = plane
                    let s3 = AWSServices(client: try AWSClient.fromEnvironment(region: region, environment: environment, transport: transport, logger: logger)).s3
                    settings.probeInterval = .seconds(3)
                    settings.customProbes = plane.probes(s3: s3)
                } catch {
                    say("data-plane probes: off (\(error))")
                }
            } else {
                say("data-plane probes: off (--no-data-plane)")
            }
            let dataTier = try settings.makeReconciler(environment: environment, transport: transport, logger: logger)
            say("AWS data tier: moto_server on \(moto.endpointURL) (region \(region), dummy credentials, VPC with subnets \(subnets.joined(separator: ", ")))")
            if let dataPlane {
                say("data-plane probes: on, every 3 s; moto's database and cache endpoints lead to PostgreSQL 127.0.0.1:\(dataPlane.postgresPort) and Redis 127.0.0.1:\(dataPlane.redisPort) (TLS)")
            }
            return (moto, dataTier, dataPlane)
        } catch {
            moto.stop()
            dataPlane?.stop()
            throw error
        }
    }

    /// Demo-only stand-in for RDS/ElastiCache taking the generated master password: waits
    /// for the operator to write the credentials Secret, then gives its values to the local
    /// servers. Until then the probes fail with AuthenticationFailed (Degraded=True).
    static func handCredentials(to plane: DemoDataPlane, client: any ResourceClient, platform: ObjectKey, databaseName: String) async throws {
        let end = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < end {
            if let secret = try? await client.get(.secrets, namespace: platform.namespace, name: "\(platform.name)-credentials"),
               let data = secret["data"].objectValue,
               let password = data["DATABASE_PASSWORD"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
               let token = data["REDIS_AUTH_TOKEN"]?.stringValue.flatMap({ Data(base64Encoded: $0) })
            {
                try plane.adopt(databasePassword: String(decoding: password, as: UTF8.self), redisAuthToken: String(decoding: token, as: UTF8.self), databaseName: databaseName)
                say("data plane: the local PostgreSQL and Redis now use the operator-generated credentials from Secret \(platform.name)-credentials (demo stand-in for RDS/ElastiCache)")
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw DemoDataPlane.Unavailable(description: "the credentials Secret never got its data")
    }

    /// Waits until the probes pass (Degraded=False after they ran) and prints the outcome.
    static func waitForHealthyProbes(client: any ResourceClient, platform: ObjectKey) async throws {
        let end = ContinuousClock.now + .seconds(60)
        var last = ""
        while ContinuousClock.now < end {
            let object = try await client.get(PlatformResources.platforms, namespace: platform.namespace, name: platform.name)
            if let degraded = Conditions.find(.degraded, in: PlatformStatus(json: object["status"]).conditions) {
                let line = "Degraded=\(degraded.status.rawValue) \(degraded.reason): \(degraded.message)"
                if line != last { say("data-plane probes: " + line); last = line }
                if degraded.status == .false && degraded.reason != "AsExpected" { return }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw DemoDataPlane.Unavailable(description: "probes did not pass within 60 s; last: \(last)")
    }

    /// Prints and flushes at once: piped into a CI log, progress would otherwise arrive
    /// only when the demo ends.
    static func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func randomToken() -> String {
        (0..<32).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
    }

    static func documents(inFile path: String) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError("\(path): cannot read file") }
        do {
            return try YAMLParser.parseValues(String(decoding: data, as: UTF8.self), file: path).filter { !$0.isNull }
        } catch {
            throw InputError("\(error)")
        }
    }

    static func documents(inDirectory directory: String) throws -> [JSONValue] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw InputError("\(directory): cannot list directory")
        }
        return try names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().flatMap { try documents(inFile: "\(directory)/\($0)") }
    }
}

/// Suspends until SIGINT or SIGTERM arrives.
enum SignalWaiter {
    static func waitForInterrupt() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let queue = DispatchQueue(label: "medsearch-operator.demo.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
