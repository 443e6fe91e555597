import DevAPIServer
import Foundation
import HTTPTransport
import JSON
import KubeConfig
@testable import KubeAPI
import Logging
import Synchronization
import Testing

/// A running dev API server (HTTPS) and a client built from the kubeconfig it hands out,
/// exactly as a user's kubeconfig would be read.
struct DevServerFixture {
    let server: DevAPIServer
    let client: KubernetesAPIClient
    let endpoint: DevAPIServerEndpoint

    static func start(
        token: String?, retry: RetryPolicy = RetryPolicy(),
        sleep: @escaping @Sendable (DevAPIServer, Duration) async throws -> Void = { _, _ in }
    ) async throws -> DevServerFixture {
        var configuration = DevAPIServerConfiguration()
        configuration.tls = true
        configuration.token = token
        configuration.threads = 1
        configuration.simulateWorkloads = false
        configuration.watchHistory = 20
        configuration.logger = Logger(label: "dev-apiserver-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = DevAPIServer(configuration: configuration)
        let endpoint = try await server.start()
        let connection = try KubeConfig.parse(endpoint.kubeconfig, file: "dev-apiserver.kubeconfig")
            .connection(context: nil, namespace: nil, environment: [:])
        let client = KubernetesAPIClient(
            connection: connection, configuration: .init(retry: retry),
            logger: Logger(label: "kubeapi-test", factory: { _ in SwiftLogNoOpLogHandler() }),
            sleep: { duration in try await sleep(server, duration) })
        return DevServerFixture(server: server, client: client, endpoint: endpoint)
    }

    /// Runs `body` against a fresh server and always shuts the server down afterwards.
    static func run(
        token: String?, retry: RetryPolicy = RetryPolicy(),
        sleep: @escaping @Sendable (DevAPIServer, Duration) async throws -> Void = { _, _ in },
        _ body: (DevServerFixture) async throws -> Void
    ) async throws {
        let dev = try await start(token: token, retry: retry, sleep: sleep)
        do {
            try await body(dev)
        } catch {
            await dev.server.shutdown()
            throw error
        }
        await dev.server.shutdown()
    }

    func createNamespace(_ name: String) async throws {
        _ = try await client.create(Namespace(name: name))
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct DevAPIServerIntegrationTests {
    @Test func overTLSWithToken_crudOfAConfigMapBehavesLikeKubernetes() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            #expect(dev.endpoint.scheme == "https")
            try await dev.createNamespace("crud")
            let client = dev.client

            var config = ConfigMap(name: "settings", namespace: "crud")
            config.data = ["mode": "a"]
            config.metadata.labels = ["app": "search"]
            let created = try await client.create(config)
            #expect(created.metadata.uid != nil)
            #expect(created.metadata.resourceVersion != nil)

            let duplicate = await #expect(throws: KubeAPIError.self) { _ = try await client.create(config) }
            #expect(duplicate?.kind == .alreadyExists)

            var edited = created
            edited.data["mode"] = "b"
            let updated = try await client.update(edited)
            #expect(updated.data["mode"] == "b")

            // Writing from the stale copy must conflict.
            var stale = created
            stale.data["mode"] = "c"
            let conflict = await #expect(throws: KubeAPIError.self) { _ = try await client.update(stale) }
            #expect(conflict?.kind == .conflict)

            let merged = try await client.patch(ConfigMap.self, namespace: "crud", name: "settings", patch: .merge(["data": ["extra": "1"]]))
            #expect(merged.data == ["mode": "b", "extra": "1"])
            let jsonPatched = try await client.patch(
                ConfigMap.self, namespace: "crud", name: "settings", patch: .json([["op": "remove", "path": "/data/extra"]]))
            #expect(jsonPatched.data == ["mode": "b"])

            let dryRun = try await client.create(ConfigMap(name: "phantom", namespace: "crud"), options: WriteOptions(dryRun: true))
            #expect(dryRun.metadata.name == "phantom")
            let missing = await #expect(throws: KubeAPIError.self) { _ = try await client.get(ConfigMap.self, namespace: "crud", name: "phantom") }
            #expect(missing?.kind == .notFound)
            #expect(missing?.target.name == "phantom")

            let wrongUID = await #expect(throws: KubeAPIError.self) {
                try await client.delete(ConfigMap.self, namespace: "crud", name: "settings", options: DeleteOptions(preconditionUID: "not-the-uid"))
            }
            #expect(wrongUID?.kind == .conflict)
            try await client.delete(ConfigMap.self, namespace: "crud", name: "settings", options: DeleteOptions(preconditionUID: created.metadata.uid))
            let gone = await #expect(throws: KubeAPIError.self) { _ = try await client.get(ConfigMap.self, namespace: "crud", name: "settings") }
            #expect(gone?.kind == .notFound)
        }
    }

    @Test func overTLSWithToken_invalidObjectReportsFieldCauses() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("bad")
            let error = await #expect(throws: KubeAPIError.self) {
                _ = try await dev.client.create(ConfigMap(name: "Not_A_Valid_Name", namespace: "bad"))
            }
            #expect(error?.kind == .invalid)
            #expect(error?.causes.isEmpty == false)
        }
    }

    @Test func overTLSWithToken_listPaginatesWithLabelSelector() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("pages")
            for index in 0..<5 {
                var config = ConfigMap(name: "c\(index)", namespace: "pages")
                config.metadata.labels = ["tier": index.isMultiple(of: 2) ? "even" : "odd"]
                _ = try await dev.client.create(config)
            }
            let firstPage = try await dev.client.list(.configMaps, namespace: "pages", options: ListOptions(labelSelector: "tier=even", limit: 2))
            #expect(firstPage.items.count == 2)
            #expect(firstPage.continueToken != nil)
            let all = try await dev.client.list(ConfigMap.self, namespace: "pages", options: ListOptions(labelSelector: "tier=even", limit: 1))
            #expect(all.compactMap(\.metadata.name).sorted() == ["c0", "c2", "c4"])
        }
    }

    @Test func overTLSWithToken_serverSideApplyAndStatusSubresource() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("apply")
            var deployment = Deployment(name: "search", namespace: "apply")
            deployment.replicas = 2
            deployment.selectorMatchLabels = ["app": "search"]
            deployment.template = [
                "metadata": ["labels": ["app": "search"]],
                "spec": ["containers": [["name": "search", "image": "registry.example/search:1"]]],
            ]
            let applied = try await dev.client.apply(deployment, force: true)
            #expect(applied.replicas == 2)
            #expect(applied.metadata.managedFields.arrayValue?.contains { $0["manager"] == "medsearch-operator" } == true)

            var withStatus = applied
            withStatus[path: "status", "readyReplicas"] = 2
            withStatus.replicas = 9
            let statusWritten = try await dev.client.updateStatus(withStatus)
            #expect(statusWritten.readyReplicas == 2)
            #expect(statusWritten.replicas == 2)
            let status = try await dev.client.get(.deployments, namespace: "apply", name: "search", subresource: "status")
            #expect(status[path: ["status", "readyReplicas"]] == 2)
        }
    }

    @Test func overTLSWithToken_watchSeesChangesAndBookmarksAdvanceTheResumePoint() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("watch")
            let list = try await dev.client.list(.configMaps, namespace: "watch")
            let stream = try await dev.client.watch(
                .configMaps, namespace: "watch", options: WatchOptions(resourceVersion: list.resourceVersion, timeoutSeconds: 30))
            _ = try await dev.client.create(ConfigMap(name: "w1", namespace: "watch"))
            _ = try await dev.client.patch(ConfigMap.self, namespace: "watch", name: "w1", patch: .merge(["data": ["k": "v"]]))
            try await dev.client.delete(ConfigMap.self, namespace: "watch", name: "w1")
            var seen: [KubeAPI.WatchEvent.EventType] = []
            for try await event in stream where event.type != .bookmark {
                seen.append(event.type)
                #expect(event.object[path: ["metadata", "name"]] == "w1")
                if seen.count == 3 { break }
            }
            #expect(seen == [.added, .modified, .deleted])
            #expect(stream.lastResourceVersion != list.resourceVersion)
            stream.cancel()
        }
    }

    @Test func overTLSWithToken_watchFromExpiredVersionAsksForRelist() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("expired")
            dev.server.faults.configuration.forcedGoneWatches = 1
            let error = await #expect(throws: KubeAPIError.self) {
                let stream = try await dev.client.watch(.configMaps, namespace: "expired", options: WatchOptions(resourceVersion: "1"))
                for try await _ in stream {}
            }
            #expect(error?.kind == .resourceVersionTooOld)
        }
    }

    @Test func overTLSWithToken_throttlingIsRetriedAfterRetryAfter() async throws {
        let waits = Mutex<[Duration]>([])
        let sleep: @Sendable (DevAPIServer, Duration) async throws -> Void = { server, duration in
            waits.withLock { $0.append(duration) }
            server.faults.configuration.throttleRate = 0
        }
        try await DevServerFixture.run(token: "integration-token", sleep: sleep) { dev in
            dev.server.faults.configuration.retryAfterSeconds = 3
            dev.server.faults.configuration.throttleRate = 1
            _ = try await dev.client.list(.namespaces, namespace: nil)
            #expect(waits.withLock { $0 } == [.seconds(3)])
        }
    }

    @Test func overTLSWithToken_internalErrorsAreNotRetried() async throws {
        let waits = Mutex<[Duration]>([])
        let sleep: @Sendable (DevAPIServer, Duration) async throws -> Void = { _, duration in waits.withLock { $0.append(duration) } }
        try await DevServerFixture.run(token: "integration-token", sleep: sleep) { dev in
            dev.server.faults.configuration.errorRate = 1
            let error = await #expect(throws: KubeAPIError.self) { _ = try await dev.client.list(.namespaces, namespace: nil) }
            #expect(error?.kind == .serverError)
            #expect(waits.withLock { $0 }.isEmpty)
        }
    }

    @Test func overTLSWithToken_watchCutByTheServer_endsWithTransportFailureKeepingTheResumePoint() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            try await dev.createNamespace("cut")
            _ = try await dev.client.create(ConfigMap(name: "before", namespace: "cut"))
            dev.server.faults.configuration.cutWatchesAfter = .milliseconds(300)
            let stream = try await dev.client.watch(.configMaps, namespace: "cut", options: WatchOptions(resourceVersion: "0"))
            var names: [String] = []
            let outcome: String
            do {
                for try await event in stream where event.type == .added {
                    names.append(event.object[path: ["metadata", "name"]].stringValue ?? "")
                }
                outcome = "ended"
            } catch let error as KubeAPIError {
                outcome = error.kind.rawValue
            }
            #expect(names == ["before"])
            // A cut mid-stream is a broken chunked body, which curl reports (unlike a normal
            // end at timeoutSeconds); the caller resumes from the last version it saw.
            #expect(outcome == "transportFailure")
            #expect(stream.lastResourceVersion != nil)
            #expect(stream.lastResourceVersion != "0")
        }
    }

    @Test func overTLSWithWrongToken_isUnauthorizedAfterOneRefresh() async throws {
        try await DevServerFixture.run(token: "integration-token") { dev in
            let connection = ClusterConnection(
                server: dev.endpoint.baseURL, certificateAuthorityPEM: dev.endpoint.certificateAuthorityPEM.map { Array($0.utf8) },
                credentials: CredentialProvider(source: .fixed(RequestCredentials(authorizationHeader: "Bearer wrong"))), origin: "test")
            let error = await #expect(throws: KubeAPIError.self) {
                _ = try await KubernetesAPIClient(connection: connection).list(.namespaces, namespace: nil)
            }
            #expect(error?.kind == .unauthorized)
            #expect(error.map { "\($0)" }?.contains("wrong") == false)
        }
    }

    @Test func overTLSWithClientCertificate_kubeconfigCredentialsAuthenticate() async throws {
        try await DevServerFixture.run(token: nil) { dev in
            let credentials = try await dev.client.connection.credentials.credentials()
            #expect(credentials.clientCertificatePEM != nil)
            #expect(credentials.authorizationHeader == nil)
            try await dev.createNamespace("certs")
            let namespace = try await dev.client.get(Namespace.self, name: "certs")
            #expect(namespace.metadata.name == "certs")
        }
    }
}
