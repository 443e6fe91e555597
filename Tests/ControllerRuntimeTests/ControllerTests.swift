import JSON
import Logging
import ServiceLifecycle
import Testing
@testable import ControllerRuntime

@Suite struct ControllerTests {
    let a = ObjectKey(namespace: "ns", name: "a")

    @Test func controller_whenAChildChanges_reconcilesItsControllerOwner() async throws {
        let client = FakeResourceClient()
        let children = Informer(resource: Fixture.configMaps, client: client, transform: .strippedCompactJSON, clock: ManualClock(), logger: .quiet)
        let calls = CallLog<ObjectKey>()
        let controller = Controller(name: "platform", reconciler: ReconcilerFunction { key, _ in await calls.append(key); return .done }, clock: ManualClock(), logger: .quiet)
        controller.watchOwned(children, ownerKind: "MedicalSearchPlatform")
        let informerRun = Task { try await children.run() }
        let controllerRun = Task { try await controller.run() }
        await client.waitForWatches(count: 1)
        #expect(controller.cachesSynced)

        let owner = OwnerRef(apiVersion: "platform.medsearch.io/v1alpha1", kind: "MedicalSearchPlatform", name: "prod", uid: "p-uid", controller: true)
        _ = try await client.create(Fixture.configMaps, namespace: "ns", object: Fixture.configMap("ns", "search-config", owner: owner))
        _ = try await client.create(Fixture.configMaps, namespace: "ns", object: Fixture.configMap("ns", "unowned"))
        await calls.waitFor(count: 1)
        #expect(await calls.values == [ObjectKey(namespace: "ns", name: "prod")])
        controllerRun.cancel()
        informerRun.cancel()
    }

    @Test func controller_whenAKeyIsAddedWhileItIsReconciled_neverRunsItTwiceAtOnce() async throws {
        let latch = Latch()
        let calls = CallLog<Int>()
        let concurrency = CallLog<Int>()
        actor InFlight { var count = 0; func enter() -> Int { count += 1; return count }; func leave() { count -= 1 } }
        let inFlight = InFlight()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { _, _ in
            await concurrency.append(await inFlight.enter())
            let call = await calls.count + 1
            await calls.append(call)
            if call == 1 { await latch.wait() }
            await inFlight.leave()
            return .done
        }, workers: 4, clock: ManualClock(), logger: .quiet)
        let run = Task { try await controller.run() }
        await controller.queue.add(a)
        await calls.waitFor(count: 1)
        await controller.queue.add(a)
        await controller.queue.add(a)
        #expect(await controller.queue.depth == 0)
        await latch.open()
        await calls.waitFor(count: 2)
        #expect(await concurrency.values.allSatisfy { $0 == 1 })
        #expect(await calls.count == 2, "two adds while in flight collapse into one re-run")
        run.cancel()
    }

    @Test func controller_whenReconcileFails_retriesWithBackoffThenForgetsOnSuccess() async throws {
        let clock = ManualClock()
        let attempts = CallLog<Int>()
        struct Flaky: Error {}
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { _, context in
            await attempts.append(context.retries)
            if context.retries < 2 { throw Flaky() }
            return .done
        }, clock: clock, logger: .quiet)
        let run = Task { try await controller.run() }
        await controller.queue.add(a)
        await attempts.waitFor(count: 1)
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(5))
        await attempts.waitFor(count: 2)
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(9))
        #expect(await attempts.count == 2, "the second retry waits 10 ms")
        clock.advance(by: .milliseconds(1))
        await attempts.waitFor(count: 3)
        #expect(await attempts.values == [0, 1, 2])
        while await controller.queue.inFlight.contains(a) { await Task.yield() }
        #expect(await controller.queue.retries(of: a) == 0)
        run.cancel()
    }

    @Test func controller_whenReconcileFailsTerminally_countsTheErrorAndDoesNotRetry() async throws {
        let clock = ManualClock()
        let metrics = RuntimeMetrics()
        let attempts = CallLog<Int>()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { _, context in
            await attempts.append(context.retries)
            throw TerminalError("spec.tier names no ServiceTier")
        }, clock: clock, metrics: metrics, logger: .quiet)
        let run = Task { try await controller.run() }
        await controller.queue.add(a)
        await attempts.waitFor(count: 1)
        while await !controller.queue.inFlight.isEmpty { await Task.yield() }
        clock.advance(by: .seconds(3600))
        #expect(await controller.queue.delayedCount == 0)
        #expect(await attempts.count == 1)
        let text = await metrics.render()
        #expect(text.contains(#"controller_runtime_reconcile_errors_total{controller="c"} 1"#))
        #expect(text.contains(#"controller_runtime_reconcile_total{controller="c",result="error"} 1"#))
        run.cancel()
    }

    @Test func controller_whenReconcileAsksToRequeueAfter_runsAgainOnlyWhenThatTimeHasPassed() async throws {
        let clock = ManualClock()
        let attempts = CallLog<Int>()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { _, _ in
            await attempts.append(0)
            return .after(.seconds(60))
        }, clock: clock, logger: .quiet)
        let run = Task { try await controller.run() }
        await controller.queue.add(a)
        await attempts.waitFor(count: 1)
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(59))
        #expect(await attempts.count == 1)
        clock.advance(by: .seconds(1))
        await attempts.waitFor(count: 2)
        run.cancel()
    }

    @Test func controller_waitsForLeadershipBeforeReconciling() async throws {
        let gate = LeadershipGate()
        let attempts = CallLog<ObjectKey>()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { key, _ in await attempts.append(key); return .done }, gate: gate, clock: ManualClock(), logger: .quiet)
        let run = Task { try await controller.run() }
        await controller.queue.add(a)
        for _ in 0..<50 { await Task.yield() }
        #expect(await attempts.count == 0)
        gate.open()
        await attempts.waitFor(count: 1)
        run.cancel()
    }

    @Test func controller_onGracefulShutdown_finishesTheInFlightReconcileAndStops() async throws {
        let latch = Latch()
        let started = CallLog<ObjectKey>()
        let finished = CallLog<Bool>()
        let controller = Controller(name: "c", reconciler: ReconcilerFunction { key, _ in
            await started.append(key)
            await latch.wait()
            await finished.append(Task.isCancelled)
            return .done
        }, clock: ManualClock(), logger: .quiet)
        let group = ServiceGroup(services: [controller], logger: .quiet)
        let run = Task { try await group.run() }
        await controller.queue.add(a)
        await started.waitFor(count: 1)
        await controller.queue.add(ObjectKey(namespace: "ns", name: "queued"))
        await group.triggerGracefulShutdown()
        while !controller.queue.isShuttingDown { await Task.yield() }
        await latch.open()
        try await run.value
        let finishedValues = await finished.values
        #expect(finishedValues == [false], "the in-flight reconcile ran to completion, uncancelled")
        #expect(await started.values == [a], "no new reconcile started after shutdown")
    }

    @Test func generationChangedFilter_skipsStatusOnlyUpdatesButPassesSpecAndDeletion() {
        func object(generation: Int64, deleting: Bool = false) -> CachedObject<Int> {
            CachedObject(metadata: CachedMetadata(key: a, uid: "u", resourceVersion: "1", generation: generation, isBeingDeleted: deleting), payload: 0)
        }
        let filter = ChangeFilter<Int>.generationChanged
        #expect(!filter.accepts(.applied(object(generation: 2), old: object(generation: 2))))
        #expect(filter.accepts(.applied(object(generation: 3), old: object(generation: 2))))
        #expect(filter.accepts(.applied(object(generation: 2, deleting: true), old: object(generation: 2))))
        #expect(filter.accepts(.applied(object(generation: 2), old: nil)))
        #expect(filter.accepts(.deleted(object(generation: 2))))
    }
}
