import ArgumentParser
import DevAPIServer
import Foundation
import Logging

/// `medsearch-operator dev-apiserver`: a local Kubernetes API server for development and tests.
struct DevAPIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-apiserver",
        abstract: "Runs a development Kubernetes API server on loopback (no cluster needed).",
        discussion: "Fault injection can also be changed at runtime: POST JSON to /_dev/faults from loopback; GET /_dev/faults reports counts."
    )

    @Option(help: "Address to listen on.")
    var bindAddress = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 6443

    @Flag(help: "Serve HTTPS with a freshly generated CA (written into the kubeconfig).")
    var tls = false

    @Option(help: "Require this bearer token. Prefer --token-file: arguments are visible to other users.")
    var token: String?

    @Option(help: "Read the bearer token from this file.")
    var tokenFile: String?

    @Flag(inversion: .prefixedNo, help: "With --tls, accept client certificates signed by the server's CA.")
    var clientCertAuth = true

    @Option(help: "Write a kubeconfig for this server here once it is listening.")
    var writeKubeconfig: String?

    @Option(help: "Watch events kept for resuming watches; older resourceVersions get 410 Gone.")
    var watchHistory = 10_000

    @Flag(help: "Do not simulate Deployment/HPA status.")
    var noSimulateWorkloads = false

    @Option(help: "Seconds a simulated Deployment rollout takes.")
    var simulationDelay = 1.0

    @Option(help: "Share of API requests (0-1) answered 500.")
    var faultErrorRate = 0.0

    @Option(help: "Share of API requests (0-1) answered 429 with Retry-After.")
    var faultThrottleRate = 0.0

    @Option(help: "Retry-After seconds on injected 429s.")
    var faultRetryAfter = 1

    @Option(help: "Milliseconds added to every API request.")
    var faultLatencyMs = 0

    @Option(help: "Cut every watch stream after this many seconds (0 = never).")
    var faultCutWatchesAfter = 0.0

    @Option(help: "Answer this many upcoming watches with 410 Gone.")
    var faultGoneWatches = 0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "dev-apiserver")
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level \(logLevel)") }
        logger.logLevel = level
        var configuration = DevAPIServerConfiguration()
        configuration.host = bindAddress
        configuration.port = port
        configuration.tls = tls
        configuration.token = token
        if let tokenFile {
            let text = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ValidationError("the token file \(tokenFile) is empty") }
            configuration.token = text
        }
        configuration.clientCertificateAuthentication = clientCertAuth
        configuration.kubeconfigPath = writeKubeconfig
        configuration.watchHistory = watchHistory
        configuration.simulateWorkloads = !noSimulateWorkloads
        configuration.simulationDelay = .milliseconds(Int64(simulationDelay * 1000))
        configuration.faults.errorRate = faultErrorRate
        configuration.faults.throttleRate = faultThrottleRate
        configuration.faults.retryAfterSeconds = faultRetryAfter
        configuration.faults.latency = .milliseconds(Int64(faultLatencyMs))
        configuration.faults.cutWatchesAfter = faultCutWatchesAfter > 0 ? .milliseconds(Int64(faultCutWatchesAfter * 1000)) : nil
        configuration.faults.forcedGoneWatches = faultGoneWatches
        configuration.logger = logger

        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        // The URL on stdout lets scripts wait for readiness without parsing logs.
        print("serving \(endpoint.baseURL)")
        await waitForTerminationSignal()
        let counts = server.faults.counts
        if counts != FaultCounts() {
            logger.notice("injected faults", metadata: [
                "internalErrors": "\(counts.internalErrors)", "throttled": "\(counts.throttled)", "delayed": "\(counts.delayed)",
                "watchesCut": "\(counts.watchesCut)", "forcedGone": "\(counts.forcedGone)",
            ])
        }
        await server.shutdown()
    }
}

/// Suspends until SIGINT or SIGTERM, so the server shuts down cleanly (closing watches).
private func waitForTerminationSignal() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let queue = DispatchQueue(label: "dev-apiserver.signals")
        let resumed = SignalLatch(continuation)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { resumed.fire() }
            source.resume()
            sources.append(source)
        }
        resumed.keepAlive(sources)
    }
}

/// Resumes the waiting continuation once, whichever signal arrives first.
private final class SignalLatch: @unchecked Sendable {
    // @unchecked: only touched on the serial signal queue (and once at setup before any signal).
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [DispatchSourceSignal] = []
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func keepAlive(_ sources: [DispatchSourceSignal]) { self.sources = sources }
    func fire() {
        continuation?.resume()
        continuation = nil
        for source in sources { source.cancel() }
        sources = []
    }
}

/// `medsearch-operator dev-apiserver-bench`: measures write throughput and what holding many
/// objects costs, against an in-process dev server (plain HTTP on loopback).
struct DevAPIServerBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-apiserver-bench",
        abstract: "Measures the dev API server: simple writes per second and memory for N objects."
    )

    @Option(help: "ConfigMaps to create (all are kept, so this is also the object count held).")
    var objects = 50_000

    @Option(help: "Concurrent keep-alive client connections.")
    var connections = 16

    @Option(help: "Server event-loop threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() async throws {
        var configuration = DevAPIServerConfiguration()
        configuration.port = 0
        configuration.threads = threads
        configuration.simulateWorkloads = false
        var logger = Logger(label: "dev-apiserver")
        logger.logLevel = .warning
        configuration.logger = logger
        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        var generator = DevAPIServerLoadGenerator(port: endpoint.port)
        generator.connections = connections

        // Warm-up so first-use costs (allocator growth, lazy init) do not count.
        _ = try await generator.createConfigMaps(count: min(1_000, objects), offset: 0)
        let report = try await generator.createConfigMaps(count: max(0, objects - 1_000), offset: 1_000)
        let statistics = server.store.statistics
        print("writes: \(report)")
        print("objects held: \(statistics.objectCount), store bytes: \(statistics.bytesHeld), process RSS: \(residentMegabytes()) MiB")
        let list = try await generator.fetch("/api/v1/namespaces/default/configmaps")
        print(String(format: "list of all: HTTP %d, %d bytes in %.3f s", list.status, list.bytes, list.seconds))
        let table = try await generator.fetch("/api/v1/namespaces/default/configmaps", accept: "application/json;as=Table;v=v1;g=meta.k8s.io")
        print(String(format: "table of all: HTTP %d, %d bytes in %.3f s", table.status, table.bytes, table.seconds))
        let page = try await generator.fetch("/api/v1/namespaces/default/configmaps?limit=500&labelSelector=bench%3Dtrue")
        print(String(format: "first page of 500 with a label selector: HTTP %d, %d bytes in %.3f s", page.status, page.bytes, page.seconds))
        await server.shutdown()
    }

    private func residentMegabytes() -> String {
        // /proc/self/statm: size resident ... in pages.
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return "?" }
        return String(pages * Int(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024))
    }
}
