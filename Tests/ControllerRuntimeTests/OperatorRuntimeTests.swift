import Foundation
import JSON
import KubeAPI
import Logging
import ServiceLifecycle
import Testing
@testable import ControllerRuntime

@Suite struct OperatorRuntimeTests {
    @Test func operatorRuntime_onGracefulShutdown_drainsReconcilesReleasesTheLeaseAndReturnsNormally() async throws {
        let client = FakeResourceClient()
        var options = ManagerOptions()
        options.metricsAddress = BindAddress(host: "127.0.0.1", port: 0)
        options.healthProbeAddress = BindAddress(host: "127.0.0.1", port: 0)
        options.leaderElection = true
        options.leaderElectionNamespace = "ops"
        let clock = ManualClock()
        let runtime = OperatorRuntime(options: options, client: client, identity: "pod-1", clock: clock, logger: .quiet)
        let informer = Informer(resource: Fixture.configMaps, client: client, transform: .strippedCompactJSON, clock: clock, logger: .quiet)
        let latch = Latch()
        let started = CallLog<ObjectKey>()
        let finished = CallLog<ObjectKey>()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { key, _ in
            await started.append(key)
            await latch.wait()
            await finished.append(key)
            return .done
        }, gate: runtime.gate, clock: clock, metrics: runtime.metrics, logger: .quiet)
        controller.watchPrimary(informer)
        let group = runtime.serviceGroup(informers: [informer], controllers: [controller])
        let run = Task { try await group.run() }

        try await runtime.gate.waitUntilLeading()
        _ = try await client.create(Fixture.configMaps, namespace: "ns", object: Fixture.configMap("ns", "a"))
        await started.waitFor(count: 1)
        #expect(runtime.health.failingChecks().isEmpty, "ready once the informer synced")

        await group.triggerGracefulShutdown()
        while !controller.queue.isShuttingDown { await Task.yield() }
        await latch.open()
        try await run.value
        #expect(await finished.values == [ObjectKey(namespace: "ns", name: "a")])
        let lease = try #require(await client.stored(.leases, ObjectKey(namespace: "ops", name: options.leaderElectionID)))
        #expect(lease[path: ["spec", "holderIdentity"]].isNull, "the lease is released after the drain")
    }
}
