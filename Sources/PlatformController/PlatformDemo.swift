import ControllerRuntime
import DataTier
import Foundation
import JSON
import KubeAPI
import Logging
import PlatformAPI

/// The demo's story against any API server: install the CRDs, the tiers and a platform,
/// run the operator in-process and report progress until the platform is Ready.
///
/// Caveats: starting the dev API server and writing the kubeconfig belong to the `demo`
/// command; this part only needs a client, so it is tested against a server the test owns.
public struct PlatformDemo: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let client: any ResourceClient
    public let statusWriter: any PlatformStatusWriter
    public var crds: [JSONValue] = CustomResourceDefinitions.all
    public var tiers: [JSONValue]
    public var platform: JSONValue
    /// How long the platform may take to become Ready. Default 3 minutes.
    public var timeout: Duration = .seconds(180)
    /// The AWS data tier the in-process operator manages. Default nil (not configured).
    public var dataTier: DataTierReconciler?
    /// Where progress lines go (stdout in the command).
    public var output: @Sendable (String) -> Void
    public var logger: Logger

    static let fieldManager = "medsearch-demo"

    public init(client: any ResourceClient, statusWriter: any PlatformStatusWriter, tiers: [JSONValue], platform: JSONValue, output: @escaping @Sendable (String) -> Void, logger: Logger) {
        self.client = client
        self.statusWriter = statusWriter
        self.tiers = tiers
        self.platform = platform
        self.output = output
        self.logger = logger
    }

    public var platformKey: ObjectKey {
        ObjectKey(namespace: platform[path: ["metadata", "namespace"]].stringValue ?? "default", name: platform[path: ["metadata", "name"]].stringValue ?? "")
    }

    /// Installs everything, runs the operator until the platform is Ready and answers the
    /// running operator (the caller stops it) and the platform's status tree.
    /// - Throws: `Failure` when Ready does not come within `timeout`, naming the last condition.
    public func run() async throws -> (running: InProcessOperator, tree: StatusTree) {
        try await install()
        var options = PlatformOperatorOptions()
        options.resyncInterval = .seconds(2)
        options.instance = "demo"
        options.dataTier = dataTier
        let running = InProcessOperator(PlatformOperator(client: client, statusWriter: statusWriter, options: options, logger: logger), logger: logger)
        output("operator started; waiting for \(MedicalSearchPlatform.kind) \(platformKey) to become Ready")
        do {
            try await waitUntilReady()
            return (running, try await StatusTree.fetch(client: client, namespace: platformKey.namespace, name: platformKey.name))
        } catch {
            try? await running.stop()
            throw error
        }
    }

    /// CRDs, then the namespace, the tiers and the platform, all by server-side apply so a
    /// second run against the same server changes nothing.
    public func install() async throws {
        for crd in crds {
            _ = try await client.apply(.customResourceDefinitions, namespace: nil, name: crd[path: ["metadata", "name"]].stringValue ?? "", object: crd, fieldManager: Self.fieldManager, force: true)
        }
        for crd in crds {
            let name = crd[path: ["metadata", "name"]].stringValue ?? ""
            try await poll("CRD \(name) to be established", every: .milliseconds(100), within: .seconds(30)) {
                let live = try await client.get(.customResourceDefinitions, namespace: nil, name: name)
                return (live[path: ["status", "conditions"]].arrayValue ?? []).contains { $0["type"] == "Established" && $0["status"] == "True" }
            }
        }
        output("installed CustomResourceDefinitions: " + crds.compactMap { $0[path: ["metadata", "name"]].stringValue }.joined(separator: ", "))
        let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(platformKey.namespace)]]
        _ = try await client.apply(.namespaces, namespace: nil, name: platformKey.namespace, object: namespace, fieldManager: Self.fieldManager, force: true)
        for tier in tiers {
            _ = try await client.apply(PlatformResources.tiers, namespace: nil, name: tier[path: ["metadata", "name"]].stringValue ?? "", object: tier, fieldManager: Self.fieldManager, force: true)
        }
        output("applied ServiceTiers: " + tiers.compactMap { $0[path: ["metadata", "name"]].stringValue }.joined(separator: ", "))
        _ = try await client.apply(PlatformResources.platforms, namespace: platformKey.namespace, name: platformKey.name, object: platform, fieldManager: Self.fieldManager, force: true)
        output("applied \(MedicalSearchPlatform.kind) \(platformKey) (tier \(platform[path: ["spec", "tierRef", "name"]].stringValue ?? "?"))")
    }

    /// Prints a line whenever Ready's status or message changes; returns once it is True
    /// at the current generation.
    public func waitUntilReady() async throws {
        let started = ContinuousClock.now
        var last = ""
        var lastReady: PlatformAPI.Condition?
        do {
            try await poll("Ready", every: .milliseconds(250), within: timeout) {
                let object = try await client.get(PlatformResources.platforms, namespace: platformKey.namespace, name: platformKey.name)
                let status = PlatformStatus(json: object["status"])
                guard let ready = Conditions.find(.ready, in: status.conditions) else { return false }
                lastReady = ready
                let line = "Ready=\(ready.status.rawValue) \(ready.reason): \(ready.message)"
                if line != last {
                    let elapsed = (ContinuousClock.now - started).components.seconds
                    output(String(format: "[%3llds] ", elapsed) + line)
                    last = line
                }
                return PlatformStatusComputation.isReady(status, generation: object[path: ["metadata", "generation"]].intValue)
            }
        } catch is PollTimeout {
            let condition = lastReady.map { "Ready=\($0.status.rawValue), reason \($0.reason): \($0.message)" } ?? "no Ready condition was ever reported (is the operator running?)"
            throw Failure(description: "\(MedicalSearchPlatform.kind) \(platformKey) did not become Ready within \(timeout); last seen: \(condition). Inspect it with: medsearch-operator status \(platformKey.name) -n \(platformKey.namespace)")
        }
    }

    private struct PollTimeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    private func poll(_ what: String, every interval: Duration, within limit: Duration, _ check: () async throws -> Bool) async throws {
        let end = ContinuousClock.now + limit
        while true {
            if try await check() { return }
            if ContinuousClock.now >= end { throw PollTimeout(what: what) }
            try await Task.sleep(for: interval)
        }
    }
}
