import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import ControllerRuntime

/// Fetches a path from a loopback server.
func loopbackGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
    let (data, response) = try await URLSession.shared.data(from: url)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    return (status, String(decoding: data, as: UTF8.self))
}

/// Parses Prometheus text exposition into `name{labels}` → value, skipping comments.
func parsePrometheusText(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}

@Suite struct EndpointServerTests {
    @Test func bindAddress_parsesKubebuilderFlagValues() {
        #expect(BindAddress(flag: ":8080") == BindAddress(host: "0.0.0.0", port: 8080))
        #expect(BindAddress(flag: "127.0.0.1:8081") == BindAddress(host: "127.0.0.1", port: 8081))
        #expect(BindAddress(flag: "[::1]:9000") == BindAddress(host: "::1", port: 9000))
        #expect(BindAddress(flag: "0") == nil, "0 disables the endpoint")
        #expect(BindAddress(flag: "nonsense") == nil)
    }

    @Test func endpointServer_servesPrometheusMetricsThatParse() async throws {
        let metrics = RuntimeMetrics()
        metrics.reconcileFinished(controller: "platform", result: .success, duration: .milliseconds(20))
        metrics.reconcileFinished(controller: "platform", result: .error, duration: .milliseconds(20))
        metrics.restRequest(method: "get", code: "200", duration: .milliseconds(3))
        let server = EndpointServer(address: BindAddress(host: "127.0.0.1", port: 0), metrics: metrics, logger: .quiet)
        let port = try await server.start()
        let (status, body) = try await loopbackGet(port: port, path: "/metrics")
        await server.stop()
        #expect(status == 200)
        let samples = parsePrometheusText(body)
        #expect(samples[#"controller_runtime_reconcile_total{controller="platform",result="success"}"#] == 1)
        #expect(samples[#"controller_runtime_reconcile_errors_total{controller="platform"}"#] == 1)
        #expect(samples[#"controller_runtime_reconcile_time_seconds_count{controller="platform"}"#] == 2)
        #expect(samples[#"rest_client_requests_total{code="200",method="GET"}"#] == 1)
        #expect(body.contains("# TYPE controller_runtime_reconcile_time_seconds histogram"))
    }

    @Test func endpointServer_readyzFailsUntilEveryCheckPasses_whileHealthzIsAlwaysOK() async throws {
        let health = HealthChecks()
        let synced = ManualFlag()
        health.addReadinessCheck("informers-synced") { synced.value }
        let server = EndpointServer(address: BindAddress(host: "127.0.0.1", port: 0), health: health, logger: .quiet)
        let port = try await server.start()
        let notReady = try await loopbackGet(port: port, path: "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.body.contains("informers-synced"))
        #expect(try await loopbackGet(port: port, path: "/healthz").status == 200)
        synced.set(true)
        #expect(try await loopbackGet(port: port, path: "/readyz").status == 200)
        #expect(try await loopbackGet(port: port, path: "/metrics").status == 404, "metrics are served only where configured")
        await server.stop()
    }
}

import Synchronization

final class ManualFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set(_ value: Bool) { state.withLock { $0 = value } }
}
