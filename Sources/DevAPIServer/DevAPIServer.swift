import Foundation
import JSON
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TLS

/// How the development API server listens, authenticates and behaves.
public struct DevAPIServerConfiguration: Sendable {
    /// Default 127.0.0.1: the dev server is for this machine only.
    public var host = "127.0.0.1"
    /// 0 picks a free port; `DevAPIServer.start()` reports the one bound.
    public var port = 0
    /// Serve HTTPS with a freshly generated CA. Default false (plain HTTP).
    public var tls = false
    /// When set, requests must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// Accept client certificates signed by the server's CA (user = certificate CN). Default: on when `tls` is on.
    public var clientCertificateAuthentication: Bool?
    /// Written once the server listens, with credentials kubectl can use as is.
    public var kubeconfigPath: String?
    /// Watch events the store keeps for resuming watches; older resourceVersions get 410. Default 10,000.
    public var watchHistory = 10_000
    /// Undelivered events a watcher may accumulate before the store drops it (a stalled client). Default 10,000.
    public var watcherBufferLimit = 10_000
    /// Simulate Deployment and HPA status. Default on.
    public var simulateWorkloads = true
    /// How long a simulated rollout takes. Default 1 second.
    public var simulationDelay: Duration = .seconds(1)
    public var faults = FaultConfiguration()
    /// Minimum server-side watch timeout when the client sends no `timeoutSeconds` (real default 1800 s).
    public var minimumWatchTimeout: Duration = .seconds(1800)
    /// Event-loop threads. Default: one per core.
    public var threads = System.coreCount
    public var logger = Logger(label: "dev-apiserver")

    public init() {}
}

/// Where a started server can be reached and with what.
public struct DevAPIServerEndpoint: Sendable {
    public let host: String
    public let port: Int
    public let scheme: String
    /// PEM of the CA that signed the serving (and client) certificates; nil without TLS.
    public let certificateAuthorityPEM: String?
    /// A kubeconfig (YAML) for this server, with the same credentials `--write-kubeconfig` writes.
    public let kubeconfig: String

    public var baseURL: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// The development Kubernetes API server: the store, the HTTP(S) front end, workload
/// simulation and fault injection, usable in-process (tests) or from the CLI.
///
/// Guarantees: `start()` returns once the port is bound and the kubeconfig (if asked) is
/// written; `shutdown()` closes the listener and every connection and stops simulation.
public final class DevAPIServer: Sendable {
    public let configuration: DevAPIServerConfiguration
    public let store: ObjectStore
    public let faults: FaultInjector

    private struct Running {
        var group: MultiThreadedEventLoopGroup
        var tasks: [Task<Void, Never>]
        var endpoint: DevAPIServerEndpoint
    }
    private let running = Mutex<Running?>(nil)

    public init(configuration: DevAPIServerConfiguration) {
        self.configuration = configuration
        var storeConfiguration = StoreConfiguration()
        storeConfiguration.watchHistory = configuration.watchHistory
        storeConfiguration.watcherBufferLimit = configuration.watcherBufferLimit
        self.store = ObjectStore(configuration: storeConfiguration)
        self.faults = FaultInjector(configuration: configuration.faults)
    }

    /// The endpoint once started.
    public var endpoint: DevAPIServerEndpoint? { running.withLock { $0?.endpoint } }

    /// Binds, starts serving in the background and writes the kubeconfig; idempotent.
    @discardableResult
    public func start() async throws -> DevAPIServerEndpoint {
        if let endpoint { return endpoint }
        let configuration = self.configuration
        var tlsContext: ServerTLSContext?
        var authority: CertificateAuthority?
        let clientCertificates = configuration.tls && (configuration.clientCertificateAuthentication ?? true)
        if configuration.tls {
            let ca = try CertificateAuthority.generate(commonName: "medsearch-dev-apiserver-ca")
            let serving = try ca.issueServerCertificate(commonName: "medsearch-dev-apiserver", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"])
            tlsContext = try ServerTLSContext(serving: serving, clientCertificateAuthority: clientCertificates ? ca : nil, clientCertificateMode: clientCertificates ? .optional : .none)
            authority = ca
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        let listener: NIOAsyncChannel<HTTPServer.Connection, Never>
        do {
            listener = try await HTTPServer.bind(host: configuration.host, port: configuration.port, group: group, tls: tlsContext)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let port = listener.channel.localAddress?.port ?? configuration.port
        let scheme = configuration.tls ? "https" : "http"
        let kubeconfig = try Self.kubeconfig(
            server: "\(scheme)://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(port)",
            authority: authority, token: configuration.token, clientCertificate: clientCertificates && configuration.token == nil ? authority : nil)
        let endpoint = DevAPIServerEndpoint(host: configuration.host, port: port, scheme: scheme, certificateAuthorityPEM: authority?.certificatePEM, kubeconfig: kubeconfig)

        let resources = ResourceRequestHandler(store: store, watchDefaults: WatchDefaults(minimumTimeout: configuration.minimumWatchTimeout))
        let router = APIRouter(
            store: store, faults: faults,
            authenticator: RequestAuthenticator(token: configuration.token, acceptsClientCertificates: clientCertificates),
            resources: resources, serverVersion: ServerVersion(), serverAddress: "\(configuration.host):\(port)")
        let server = HTTPServer(router: router, resources: resources, faults: faults, logger: configuration.logger)
        var tasks = [Task {
            do { try await server.serve(listener) } catch {
                configuration.logger.debug("listener stopped", metadata: ["error": "\(error)"])
            }
        }]
        if configuration.simulateWorkloads {
            let simulator = WorkloadSimulator(store: store, delay: configuration.simulationDelay, logger: configuration.logger)
            tasks.append(Task { await simulator.run() })
        }
        running.withLock { $0 = Running(group: group, tasks: tasks, endpoint: endpoint) }

        if let path = configuration.kubeconfigPath {
            // 0600: the file holds a bearer token or a client key.
            let created = FileManager.default.createFile(atPath: path, contents: Data(kubeconfig.utf8), attributes: [.posixPermissions: 0o600])
            if !created { throw DevAPIServerError(message: "could not write the kubeconfig to \(path)") }
        }
        configuration.logger.info("dev API server listening", metadata: ["url": "\(endpoint.baseURL)", "tls": "\(configuration.tls)"])
        let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]
        if !loopbackHosts.contains(configuration.host), configuration.token == nil, !clientCertificates {
            // Without credentials every caller is an administrator; off loopback that is anyone on the network.
            configuration.logger.warning("dev API server listens beyond loopback without authentication", metadata: ["host": "\(configuration.host)"])
        }
        return endpoint
    }

    /// Starts (if needed) and serves until the surrounding task is cancelled, then shuts down.
    public func run() async throws {
        try await start()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        await shutdown()
    }

    /// Stops accepting, closes every connection and stops the simulation.
    public func shutdown() async {
        guard let state = running.withLock({ state -> Running? in defer { state = nil }; return state }) else { return }
        for task in state.tasks { task.cancel() }
        for task in state.tasks { await task.value }
        try? await state.group.shutdownGracefully()
    }

    static func kubeconfig(server: String, authority: CertificateAuthority?, token: String?, clientCertificate: CertificateAuthority?) throws -> String {
        var cluster = "    server: \(server)\n"
        if let authority { cluster += "    certificate-authority-data: \(Data(authority.certificatePEM.utf8).base64EncodedString())\n" }
        var user = ""
        if let token { user += "    token: \(token)\n" }
        if let clientCertificate {
            let issued = try clientCertificate.issueClientCertificate(commonName: "dev-admin", organizations: ["system:masters"])
            user += "    client-certificate-data: \(Data(issued.certificatePEM.utf8).base64EncodedString())\n"
            user += "    client-key-data: \(Data(issued.privateKeyPEM.utf8).base64EncodedString())\n"
        }
        if user.isEmpty { user = "    {}\n" }
        return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: medsearch-dev
          cluster:
        \(cluster)users:
        - name: medsearch-dev-admin
          user:
        \(user)contexts:
        - name: medsearch-dev
          context:
            cluster: medsearch-dev
            user: medsearch-dev-admin
            namespace: default
        current-context: medsearch-dev
        preferences: {}

        """
    }
}

/// A dev server failure outside the API (bad flags, unwritable kubeconfig).
public struct DevAPIServerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
