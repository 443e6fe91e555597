import Foundation
import HTTPTestSupport
import HTTPTransport
import JSON
import KubeConfig
@testable import KubeAPI
import Synchronization
import Testing

private func json(_ status: Int, _ body: JSONValue, headers: [(String, String)] = []) -> ScriptedResponse {
    .full(status: status, headers: [("Content-Type", "application/json")] + headers, body: body.serializedBytes())
}

private func status(_ code: Int, _ reason: String, _ message: String) -> JSONValue {
    ["kind": "Status", "apiVersion": "v1", "status": "Failure", "code": .int(Int64(code)), "reason": .string(reason), "message": .string(message)]
}

private func client(
    _ server: LoopbackHTTPServer, credentials: CredentialProvider = CredentialProvider(source: .fixed(RequestCredentials(authorizationHeader: "Bearer t0ken"))),
    retry: RetryPolicy = RetryPolicy(), transport: HTTPTransport? = nil, sleeps: SleepRecorder = SleepRecorder()
) -> KubernetesAPIClient {
    KubernetesAPIClient(
        connection: ClusterConnection(server: server.baseURL, credentials: credentials, origin: "loopback test"),
        configuration: .init(retry: retry), transport: transport, sleep: { duration in sleeps.record(duration) })
}

/// Stands in for the clock: records each requested wait and returns at once.
final class SleepRecorder: Sendable {
    let waits = Mutex<[Duration]>([])
    func record(_ duration: Duration) { waits.withLock { $0.append(duration) } }
    var all: [Duration] { waits.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(2)))
struct KubernetesAPIClientTests {
    @Test func get_sendsTokenAndStandardHeaders_andDecodesTypedObject() async throws {
        let server = try await LoopbackHTTPServer { request in
            guard request.header("Authorization") == "Bearer t0ken" else { return json(401, status(401, "Unauthorized", "no")) }
            return json(200, ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "search", "namespace": "prod"], "spec": ["replicas": 3]])
        }
        let deployment = try await client(server).get(Deployment.self, namespace: "prod", name: "search")
        #expect(deployment.replicas == 3)
        let request = try #require(server.snapshot.requests.first)
        #expect(request.uri == "/apis/apps/v1/namespaces/prod/deployments/search")
        #expect(request.header("Accept") == "application/json")
        #expect(request.header("User-Agent") == "medsearch-operator/0.1")
        try await server.stop()
    }

    @Test func getIfExists_returnsNilOnlyForNotFound() async throws {
        let server = try await LoopbackHTTPServer { request in
            request.uri.hasSuffix("/missing") ? json(404, status(404, "NotFound", "configmaps \"missing\" not found"))
                : json(403, status(403, "Forbidden", "no access"))
        }
        let kube = client(server)
        #expect(try await kube.getIfExists(ConfigMap.self, namespace: "n", name: "missing") == nil)
        let error = await #expect(throws: KubeAPIError.self) { _ = try await kube.getIfExists(ConfigMap.self, namespace: "n", name: "secret") }
        #expect(error?.kind == .forbidden)
        try await server.stop()
    }

    @Test func create_whenObjectExists_throwsAlreadyExistsNamingVerbAndObject() async throws {
        let server = try await LoopbackHTTPServer { _ in
            json(409, status(409, "AlreadyExists", "configmaps \"settings\" already exists"))
        }
        let error = await #expect(throws: KubeAPIError.self) {
            _ = try await client(server).create(ConfigMap(name: "settings", namespace: "team"))
        }
        #expect(error?.kind == .alreadyExists)
        #expect(error?.verb == "create")
        #expect(error?.target.name == "settings")
        #expect(error?.target.namespace == "team")
        #expect(error.map { "\($0)" }?.contains("t0ken") == false)
        let request = try #require(server.snapshot.requests.first)
        #expect(request.method == "POST")
        #expect(request.uri == "/api/v1/namespaces/team/configmaps?fieldManager=medsearch-operator")
        #expect(request.header("Content-Type") == "application/json")
        try await server.stop()
    }

    @Test func updateStatus_withStaleVersion_throwsConflict() async throws {
        let server = try await LoopbackHTTPServer { _ in json(409, status(409, "Conflict", "the object has been modified")) }
        var deployment = Deployment(name: "d", namespace: "n")
        deployment.metadata.resourceVersion = "1"
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(server).updateStatus(deployment) }
        #expect(error?.kind == .conflict)
        #expect(server.snapshot.requests.first?.uri == "/apis/apps/v1/namespaces/n/deployments/d/status?fieldManager=medsearch-operator")
        #expect(server.snapshot.requests.first?.method == "PUT")
        try await server.stop()
    }

    @Test func apply_forced_sendsApplyPatchWithFieldManagerAndForce() async throws {
        let server = try await LoopbackHTTPServer { request in .full(status: 200, body: request.body) }
        var service = Service(name: "web", namespace: "prod")
        service.selector = ["app": "web"]
        let applied = try await client(server).apply(service, force: true)
        #expect(applied == service)
        let request = try #require(server.snapshot.requests.first)
        #expect(request.method == "PATCH")
        #expect(request.header("Content-Type") == "application/apply-patch+yaml")
        #expect(request.uri == "/api/v1/namespaces/prod/services/web?fieldManager=medsearch-operator&force=true")
        try await server.stop()
    }

    @Test func delete_withPreconditions_sendsDeleteOptions() async throws {
        let server = try await LoopbackHTTPServer { _ in json(200, ["kind": "Status", "status": "Success"]) }
        try await client(server).delete(
            Secret.self, namespace: "n", name: "s", options: DeleteOptions(propagationPolicy: .background, preconditionUID: "u"))
        let request = try #require(server.snapshot.requests.first)
        #expect(request.method == "DELETE")
        #expect(try JSONValue.parse(request.body) == [
            "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background", "preconditions": ["uid": "u"],
        ])
        try await server.stop()
    }

    @Test func listAll_followsContinueTokensAcrossPages() async throws {
        let server = try await LoopbackHTTPServer { request in
            let page = request.uri.contains("continue=p2") ? 2 : request.uri.contains("continue=p3") ? 3 : 1
            let next: JSONValue = page < 3 ? .string("p\(page + 1)") : .null
            var metadata: JSONValue = ["resourceVersion": .string("rv\(page)")]
            metadata["continue"] = next
            return json(200, ["kind": "ConfigMapList", "metadata": metadata, "items": [["metadata": ["name": .string("c\(page)")]]]])
        }
        let list = try await client(server).listAll(.configMaps, namespace: "n", options: ListOptions(labelSelector: "a=b", limit: 1))
        #expect(list.items.map { $0[path: ["metadata", "name"]] } == ["c1", "c2", "c3"])
        #expect(list.resourceVersion == "rv3")
        #expect(list.continueToken == nil)
        #expect(server.snapshot.requests.map(\.uri) == [
            "/api/v1/namespaces/n/configmaps?labelSelector=a%3Db&limit=1",
            "/api/v1/namespaces/n/configmaps?labelSelector=a%3Db&limit=1&continue=p2",
            "/api/v1/namespaces/n/configmaps?labelSelector=a%3Db&limit=1&continue=p3",
        ])
        try await server.stop()
    }

    @Test func listAll_whenContinueTokenExpired_asksForAFreshList() async throws {
        let server = try await LoopbackHTTPServer { request in
            if request.uri.contains("continue=") {
                return json(410, status(410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
            }
            return json(200, ["kind": "ConfigMapList", "metadata": ["resourceVersion": "5", "continue": "stale"], "items": [["metadata": ["name": "a"]]]])
        }
        let error = await #expect(throws: KubeAPIError.self) {
            _ = try await client(server).listAll(.configMaps, namespace: "n", options: ListOptions(limit: 1))
        }
        #expect(error?.kind == .resourceVersionTooOld)
        #expect(error?.verb == "list")
        try await server.stop()
    }

    @Test func request_when401_invalidatesCredentialsAndRetriesOnceWithFreshToken() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        try "expired-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try await LoopbackHTTPServer { request in
            if request.header("Authorization") == "Bearer fresh-token" { return json(200, ["kind": "Namespace", "metadata": ["name": "ok"]]) }
            // The token is rotated on disk while the client holds the old one.
            try? "fresh-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            return json(401, status(401, "Unauthorized", "Unauthorized"))
        }
        let namespace = try await client(server, credentials: CredentialProvider(source: .tokenFile(path: tokenFile)))
            .get(Namespace.self, name: "ok")
        #expect(namespace.metadata.name == "ok")
        #expect(server.snapshot.requests.map { $0.header("Authorization") } == ["Bearer expired-token", "Bearer fresh-token"])
        try await server.stop()
    }

    @Test func request_whenStill401AfterRefresh_throwsUnauthorizedWithoutLeakingToken() async throws {
        let server = try await LoopbackHTTPServer { _ in json(401, status(401, "Unauthorized", "Unauthorized")) }
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(server).get(.namespaces, namespace: nil, name: "x") }
        #expect(error?.kind == .unauthorized)
        #expect(server.snapshot.requests.count == 2)
        #expect(error.map { "\($0)" }?.contains("t0ken") == false)
        try await server.stop()
    }

    @Test func request_when429WithRetryAfter_waitsAsToldThenSucceeds() async throws {
        let calls = Atomic<Int>(0)
        let server = try await LoopbackHTTPServer { _ in
            if calls.add(1, ordering: .relaxed).newValue <= 2 {
                return json(429, status(429, "TooManyRequests", "slow down"), headers: [("Retry-After", "2")])
            }
            return json(200, ["kind": "ConfigMap", "metadata": ["name": "c"]])
        }
        let sleeps = SleepRecorder()
        let object = try await client(server, sleeps: sleeps).get(.configMaps, namespace: "n", name: "c")
        #expect(object[path: ["metadata", "name"]] == "c")
        #expect(sleeps.all == [.seconds(2), .seconds(2)])
        #expect(server.snapshot.requests.count == 3)
        try await server.stop()
    }

    @Test func request_when429Persists_givesUpAfterMaxRetries() async throws {
        let server = try await LoopbackHTTPServer { _ in json(429, status(429, "TooManyRequests", "slow down")) }
        let sleeps = SleepRecorder()
        let error = await #expect(throws: KubeAPIError.self) {
            _ = try await client(server, retry: RetryPolicy(maxRetries: 2), sleeps: sleeps).get(.configMaps, namespace: "n", name: "c")
        }
        #expect(error?.kind == .tooManyRequests)
        #expect(sleeps.all == [.seconds(1), .seconds(1)])
        #expect(server.snapshot.requests.count == 3)
        try await server.stop()
    }

    @Test func request_when503WithoutRetryAfterOr500_isNotRetried() async throws {
        let server = try await LoopbackHTTPServer { request in
            request.uri.hasSuffix("/a") ? json(503, status(503, "ServiceUnavailable", "etcd down")) : .full(status: 500, body: Array("oops".utf8))
        }
        let sleeps = SleepRecorder()
        let unavailable = await #expect(throws: KubeAPIError.self) { _ = try await client(server, sleeps: sleeps).get(.configMaps, namespace: "n", name: "a") }
        #expect(unavailable?.kind == .serviceUnavailable)
        let failed = await #expect(throws: KubeAPIError.self) { _ = try await client(server, sleeps: sleeps).get(.configMaps, namespace: "n", name: "b") }
        #expect(failed?.kind == .serverError)
        #expect(failed?.message == "oops")
        #expect(sleeps.all.isEmpty)
        #expect(server.snapshot.requests.count == 2)
        try await server.stop()
    }

    @Test func request_whenBodyIsNotJSON_throwsMalformedResponse() async throws {
        let server = try await LoopbackHTTPServer { _ in .full(status: 200, body: Array("<html>ok</html>".utf8)) }
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(server).get(.configMaps, namespace: "n", name: "a") }
        #expect(error?.kind == .malformedResponse)
        try await server.stop()
    }

    @Test func request_toClosedPort_throwsTransportFailure() async throws {
        let closed = try ClosedLoopbackPort()
        let kubeClient = KubernetesAPIClient(
            connection: ClusterConnection(server: "http://127.0.0.1:\(closed.port)", credentials: CredentialProvider(source: .fixed(RequestCredentials(authorizationHeader: "Bearer t0ken"))), origin: "loopback test"),
            configuration: .init(retry: RetryPolicy()), transport: nil, sleep: { _ in })
        let error = await #expect(throws: KubeAPIError.self) { _ = try await kubeClient.get(.configMaps, namespace: "n", name: "a") }
        #expect(error?.kind == .transportFailure)
        #expect(error?.transportError?.kind == .connectionRefused)
    }

    // MARK: Watch

    @Test func watch_decodesEventsSplitAcrossChunksAndTracksResourceVersion() async throws {
        let lines = [
            #"{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"é☕🩺","resourceVersion":"5"}}}"#,
            #"{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"b","resourceVersion":"6"}}}"#,
            #"{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}}"#,
        ]
        let bytes = Array(lines.joined(separator: "\n").utf8) + [0x0A]
        // Cut into 5-byte pieces so boundaries fall inside multi-byte characters.
        let pieces = stride(from: 0, to: bytes.count, by: 5).map { Array(bytes[$0..<min($0 + 5, bytes.count)]) }
        let server = try await LoopbackHTTPServer { _ in .chunks(status: 200, pieces) }
        let stream = try await client(server).watch(.configMaps, namespace: "n", options: WatchOptions(resourceVersion: "4"))
        #expect(stream.lastResourceVersion == "4")
        var seen: [String] = []
        for try await event in stream {
            seen.append("\(event.type.rawValue):\(event.object[path: ["metadata", "name"]].stringValue ?? "-")")
        }
        #expect(seen == ["ADDED:é☕🩺", "MODIFIED:b", "BOOKMARK:-"])
        #expect(stream.lastResourceVersion == "9")
        #expect(server.snapshot.requests.first?.uri == "/api/v1/namespaces/n/configmaps?watch=true&resourceVersion=4&allowWatchBookmarks=true")
        try await server.stop()
    }

    @Test func watch_whenErrorEventSays410_throwsResourceVersionTooOldAfterEarlierEvents() async throws {
        let body = #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}"# + "\n"
            + #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"# + "\n"
        let server = try await LoopbackHTTPServer { _ in .chunks(status: 200, [Array(body.utf8)]) }
        let stream = try await client(server).watch(.configMaps, namespace: "n", options: WatchOptions(resourceVersion: "1"))
        var names: [String] = []
        let error = await #expect(throws: KubeAPIError.self) {
            for try await event in stream { names.append(event.object[path: ["metadata", "name"]].stringValue ?? "") }
        }
        #expect(names == ["a"])
        #expect(error?.kind == .resourceVersionTooOld)
        #expect(stream.lastResourceVersion == "5")
        try await server.stop()
    }

    @Test func watch_whenServerAnswers410_throwsResourceVersionTooOldFromWatch() async throws {
        let server = try await LoopbackHTTPServer { _ in json(410, status(410, "Expired", "too old resource version")) }
        let error = await #expect(throws: KubeAPIError.self) {
            _ = try await client(server).watch(.configMaps, namespace: "n", options: WatchOptions(resourceVersion: "1"))
        }
        #expect(error?.kind == .resourceVersionTooOld)
        try await server.stop()
    }

    @Test func watch_withSlowConsumer_keepsBufferedBytesBoundedWhileServerWaits() async throws {
        let eventCount = 20_000
        let server = try await LoopbackHTTPServer { _ in
            .generated(status: 200) { index in
                guard index < eventCount else { return nil }
                let padding = String(repeating: "p", count: 900)
                return Array(#"{"type":"MODIFIED","object":{"metadata":{"name":"n\#(index)","resourceVersion":"\#(index + 1)"},"data":{"x":"\#(padding)"}}}"#.utf8) + [0x0A]
            }
        }
        let limit = 64 * 1024
        let transport = HTTPTransport(configuration: .init(streamBufferLimit: limit))
        let stream = try await client(server, transport: transport).watch(.configMaps, namespace: "n", options: WatchOptions())
        var count = 0
        for try await event in stream {
            count += 1
            #expect(event.resourceVersion == String(count))
            if count % 500 == 0 { try await Task.sleep(for: .milliseconds(2)) }
            #expect(transport.bufferedBodyBytes <= limit + 16 * 1024)
        }
        #expect(count == eventCount)
        #expect(transport.pauseCount > 0)
        #expect(transport.peakBufferedBodyBytes <= limit + 16 * 1024)
        #expect(stream.lastResourceVersion == String(eventCount))
        try await server.stop()
    }

    @Test func watch_cancelledStream_closesTheConnection() async throws {
        let server = try await LoopbackHTTPServer { _ in .hang }
        let kubeClient = client(server)
        let watcher = Task {
            let stream = try await kubeClient.watch(.pods, namespace: nil, options: WatchOptions())
            for try await _ in stream {}
        }
        await server.waitUntil { $0.requests.count == 1 }
        watcher.cancel()
        _ = await watcher.result
        await server.waitUntil { $0.closed == 1 }
        #expect(server.snapshot.closed == 1)
        try await server.stop()
    }

    @Test func fakeWatchStream_interpretsErrorEventsLikeTheRealOne() async throws {
        let (events, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        continuation.yield(WatchEvent(type: .bookmark, object: ["metadata": ["resourceVersion": "3"]]))
        continuation.yield(WatchEvent(type: .error, object: ["kind": "Status", "code": 410, "reason": "Gone", "message": "gone"]))
        continuation.finish()
        let stream = WatchEventStream(events: events, target: ObjectTarget(.pods, nil, nil, nil))
        let error = await #expect(throws: KubeAPIError.self) { for try await _ in stream {} }
        #expect(error?.kind == .resourceVersionTooOld)
        #expect(stream.lastResourceVersion == "3")
    }
}
