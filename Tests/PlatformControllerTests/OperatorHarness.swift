import ControllerRuntime
import DataTier
import DevAPIServer
import Foundation
import JSON
import KubeAPI
import KubeConfig
import Logging
import PlatformAPI
import Synchronization
import Testing
@testable import PlatformController

extension Logger {
    static var quiet: Logger {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }
}

/// One write request the operator sent.
struct RecordedWrite: Sendable, Hashable, CustomStringConvertible {
    var verb: String
    var resource: String
    var namespace: String
    var name: String
    var description: String { "\(verb) \(resource) \(namespace)/\(name)" }
}

/// Records every write (status writes included) on the way to the real server.
final class RecordingWrites: Sendable {
    private let log = Mutex<[RecordedWrite]>([])
    func record(_ write: RecordedWrite) { log.withLock { $0.append(write) } }
    var all: [RecordedWrite] { log.withLock { $0 } }
    /// Writes other than Events, which are best-effort and aggregated.
    var excludingEvents: [RecordedWrite] { all.filter { $0.resource != "events" } }
}

struct RecordingResourceClient: ResourceClient {
    let inner: any ResourceClient
    let writes: RecordingWrites

    private func note(_ verb: String, _ type: APIResource, _ namespace: String?, _ name: String) {
        writes.record(RecordedWrite(verb: verb, resource: type.plural, namespace: namespace ?? "", name: name))
    }
    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        try await inner.list(type, namespace: namespace, limit: limit, continueToken: continueToken)
    }
    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        try await inner.watch(type, namespace: namespace, resourceVersion: resourceVersion)
    }
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        try await inner.get(type, namespace: namespace, name: name)
    }
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        note("create", type, namespace, object[path: ["metadata", "name"]].stringValue ?? "")
        return try await inner.create(type, namespace: namespace, object: object)
    }
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue {
        note("replace", type, namespace, name)
        return try await inner.replace(type, namespace: namespace, name: name, object: object)
    }
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue {
        note("apply", type, namespace, name)
        return try await inner.apply(type, namespace: namespace, name: name, object: object, fieldManager: fieldManager, force: force)
    }
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue {
        note("patch", type, namespace, name)
        return try await inner.jsonPatch(type, namespace: namespace, name: name, operations: operations)
    }
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue {
        note("patch", type, namespace, name)
        return try await inner.mergePatch(type, namespace: namespace, name: name, patch: patch)
    }
    func delete(_ type: APIResource, namespace: String?, name: String) async throws {
        note("delete", type, namespace, name)
        try await inner.delete(type, namespace: namespace, name: name)
    }
}

struct RecordingStatusWriter: PlatformStatusWriter {
    let inner: any PlatformStatusWriter
    let writes: RecordingWrites
    func replaceStatus(_ status: JSONValue, namespace: String, name: String) async throws {
        writes.record(RecordedWrite(verb: "status", resource: PlatformResources.platforms.plural, namespace: namespace, name: name))
        try await inner.replaceStatus(status, namespace: namespace, name: name)
    }
}

/// A dev API server on loopback with the CRDs and example tiers installed, and the
/// platform operator running against it in-process.
final class OperatorHarness: Sendable {
    let server: DevAPIServer
    let endpoint: DevAPIServerEndpoint
    let kube: KubernetesAPIClient
    /// Un-recorded client for the test's own requests.
    let client: any ResourceClient
    let writes = RecordingWrites()
    /// The kubeconfig written for a TLS harness (kubectl uses it); nil for plain HTTP.
    let kubeconfigPath: String?
    let running: InProcessOperator
    var platformOperator: PlatformOperator { running.platformOperator }

    /// Generous: CI runs everything on two shared cores.
    static let deadline: Duration = .seconds(90)

    init(namespaces: [String], tiers: [JSONValue]? = nil, tls: Bool = false, cleanup: any PlatformCleanup = NoExternalResources(), dataTier: DataTierReconciler? = nil, logger: Logger = .quiet) async throws {
        var configuration = DevAPIServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.threads = 1
        configuration.tls = tls
        configuration.token = tls ? "harness-token-\(UInt64.random(in: 0...UInt64.max))" : nil
        configuration.simulationDelay = .milliseconds(200)
        configuration.logger = .quiet
        server = DevAPIServer(configuration: configuration)
        endpoint = try await server.start()
        let connection: ClusterConnection
        if tls {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("h11-\(UUID().uuidString).kubeconfig").path
            try endpoint.kubeconfig.write(toFile: path, atomically: true, encoding: .utf8)
            kubeconfigPath = path
            connection = try KubeConfigLoader.loadAutomatically(explicitPath: path, context: nil, namespace: nil)
        } else {
            kubeconfigPath = nil
            connection = ClusterConnection(server: endpoint.baseURL, origin: "platform controller test")
        }
        kube = KubernetesAPIClient(connection: connection, logger: .quiet)
        let plain = KubernetesResourceClient(client: kube)
        client = plain
        for crd in CustomResourceDefinitions.all {
            _ = try await plain.create(.customResourceDefinitions, namespace: nil, object: crd)
        }
        for namespace in namespaces {
            _ = try await plain.create(.namespaces, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        for tier in try tiers ?? Examples.allTiers {
            _ = try await plain.apply(PlatformResources.tiers, namespace: nil, name: tier[path: ["metadata", "name"]].stringValue ?? "", object: tier, fieldManager: "test", force: true)
        }
        var options = PlatformOperatorOptions()
        options.resyncInterval = .seconds(1)
        options.instance = "test"
        options.cleanup = cleanup
        options.dataTier = dataTier
        running = InProcessOperator(PlatformOperator(
            client: RecordingResourceClient(inner: plain, writes: writes),
            statusWriter: RecordingStatusWriter(inner: KubernetesStatusWriter(client: kube), writes: writes),
            options: options, logger: logger), logger: logger)
    }

    func stop() async {
        do { try await running.stop() } catch { Issue.record("the operator did not stop cleanly: \(error)") }
        await server.shutdown()
        if let kubeconfigPath { try? FileManager.default.removeItem(atPath: kubeconfigPath) }
    }

    /// Runs `body` with a fresh harness and always stops it.
    static func with<T>(namespaces: [String], tiers: [JSONValue]? = nil, tls: Bool = false, cleanup: any PlatformCleanup = NoExternalResources(), dataTier: DataTierReconciler? = nil, logger: Logger = .quiet, _ body: (OperatorHarness) async throws -> T) async throws -> T {
        let harness = try await OperatorHarness(namespaces: namespaces, tiers: tiers, tls: tls, cleanup: cleanup, dataTier: dataTier, logger: logger)
        do {
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    // MARK: test actions

    func applyPlatform(_ object: JSONValue) async throws {
        _ = try await client.apply(PlatformResources.platforms, namespace: object[path: ["metadata", "namespace"]].stringValue, name: object[path: ["metadata", "name"]].stringValue ?? "", object: object, fieldManager: "test", force: true)
    }

    func applyTier(_ object: JSONValue) async throws {
        _ = try await client.apply(PlatformResources.tiers, namespace: nil, name: object[path: ["metadata", "name"]].stringValue ?? "", object: object, fieldManager: "test", force: true)
    }

    func platform(_ namespace: String, _ name: String) async throws -> JSONValue? {
        do {
            return try await client.get(PlatformResources.platforms, namespace: namespace, name: name)
        } catch let error as ResourceClientError where error.isNotFound {
            return nil
        }
    }

    /// The named condition of a platform, read from the server.
    func condition(_ type: PlatformConditionType, _ namespace: String, _ name: String) async throws -> PlatformAPI.Condition? {
        guard let object = try await platform(namespace, name) else { return nil }
        return Conditions.find(type, in: PlatformStatus(json: object["status"]).conditions)
    }

    /// Polls until `predicate` holds; fails the test (by throwing) past the deadline.
    func eventually(_ what: String, _ predicate: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + Self.deadline
        while clock.now < end {
            if try await predicate() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessTimeout(what: what)
    }

    func waitForCondition(_ type: PlatformConditionType, _ status: ConditionStatus, reason: String? = nil, _ namespace: String, _ name: String) async throws {
        try await eventually("\(namespace)/\(name) \(type.rawValue)=\(status.rawValue) \(reason ?? "")") {
            guard let object = try await platform(namespace, name) else { return false }
            let generation = object[path: ["metadata", "generation"]].intValue
            guard let c = Conditions.find(type, in: PlatformStatus(json: object["status"]).conditions) else { return false }
            return c.status == status && (reason == nil || c.reason == reason) && c.observedGeneration == generation
        }
    }

    /// Children of every owned kind in `namespace`, as "Kind/name".
    func children(in namespace: String) async throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for resource in PlatformResources.ownedKinds {
            for item in try await client.list(resource, namespace: namespace, limit: nil, continueToken: nil).items {
                out["\(resource.kind)/\(item[path: ["metadata", "name"]].stringValue ?? "")"] = item
            }
        }
        return out
    }

    /// Waits until the operator has no queued or running work and has sent no write for a
    /// while, so a count of writes afterwards covers everything a change caused.
    func settle() async throws {
        var last = -1
        let queue = platformOperator.controller.queue
        try await eventually("the operator to go quiet") {
            let depth = await queue.depth
            let inFlight = await queue.inFlight
            let idle = depth == 0 && inFlight.isEmpty
            let count = writes.all.count
            defer { last = count }
            if idle && count == last { return true }
            try await Task.sleep(for: .milliseconds(400))
            return false
        }
    }
}

struct HarnessTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}
