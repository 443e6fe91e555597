import Testing
@testable import ControllerRuntime

@Suite struct RetryRateLimiterTests {
    @Test func exponentialBackoff_whenAKeyKeepsFailing_doublesFromFiveMillisecondsToTheCap() {
        var backoff = ExponentialBackoff(base: .milliseconds(5), cap: .milliseconds(40))
        let delays = (0..<6).map { _ in backoff.nextDelay(for: "ns/a") }
        #expect(delays == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(40), .milliseconds(40)])
        #expect(backoff.nextDelay(for: "ns/b") == .milliseconds(5))
    }

    @Test func exponentialBackoff_afterForget_startsOverFromBase() {
        var backoff = ExponentialBackoff()
        _ = backoff.nextDelay(for: "k")
        _ = backoff.nextDelay(for: "k")
        backoff.forget("k")
        #expect(backoff.failureCount(for: "k") == 0)
        #expect(backoff.nextDelay(for: "k") == .milliseconds(5))
    }

    @Test func exponentialBackoff_afterManyFailures_neverOverflowsPastTheCap() {
        var backoff = ExponentialBackoff(cap: .seconds(1000))
        var last = Duration.zero
        for _ in 0..<200 { last = backoff.nextDelay(for: "k") }
        #expect(last == .seconds(1000))
    }

    @Test func tokenBucket_afterBurstIsSpent_spacesReservationsAtTheRate() {
        var bucket = TokenBucket(tokensPerSecond: 10, burst: 2)
        let start = RuntimeInstant(sinceStart: .zero)
        #expect(bucket.reserve(at: start) == .zero)
        #expect(bucket.reserve(at: start) == .zero)
        #expect(bucket.reserve(at: start) == .milliseconds(100))
        #expect(bucket.reserve(at: start) == .milliseconds(200))
    }

    @Test func tokenBucket_whenTimePasses_refillsUpToBurstOnly() {
        var bucket = TokenBucket(tokensPerSecond: 10, burst: 2)
        let start = RuntimeInstant(sinceStart: .zero)
        _ = bucket.reserve(at: start)
        _ = bucket.reserve(at: start)
        let later = start + .seconds(60)
        #expect(bucket.reserve(at: later) == .zero)
        #expect(bucket.reserve(at: later) == .zero)
        #expect(bucket.reserve(at: later) > .zero)
    }

    @Test func retryRateLimiter_whenGlobalBudgetIsExhausted_waitsForTheBucketNotJustTheKey() {
        var limiter = RetryRateLimiter(backoff: ExponentialBackoff(), bucket: TokenBucket(tokensPerSecond: 1, burst: 1))
        let now = RuntimeInstant(sinceStart: .zero)
        #expect(limiter.delay(for: "a", at: now) == .milliseconds(5))
        #expect(limiter.delay(for: "b", at: now) == .seconds(1))
    }
}

@Suite struct ManualClockTests {
    @Test func manualClock_whenAdvancedPastADeadline_resumesTheSleeper() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)); return clock.now }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(4))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        let wokeAt = try await sleeper.value
        #expect(wokeAt == RuntimeInstant(sinceStart: .seconds(5)))
        #expect(clock.sleeperCount == 0)
    }

    @Test func manualClock_whenSleeperIsCancelled_throwsCancellationAndForgetsIt() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        await clock.waitForSleepers(count: 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func manualClock_wallTimeMovesWithVirtualTime() {
        let clock = ManualClock()
        let before = clock.wallNow
        clock.advance(by: .seconds(90))
        #expect(clock.wallNow.timeIntervalSince(before) == 90)
    }
}

@Suite struct WorkQueueTests {
    let a = ObjectKey(namespace: "ns", name: "a")
    let b = ObjectKey(namespace: "ns", name: "b")

    @Test func workQueue_whenAKeyIsAddedTwice_handsItOutOnce() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        await queue.add(a)
        await queue.add(b)
        await queue.add(a)
        #expect(await queue.depth == 2)
        #expect(await queue.next() == a)
        #expect(await queue.next() == b)
    }

    @Test func workQueue_whenAKeyIsAddedWhileProcessing_requeuesItOnlyAfterDone() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        await queue.add(a)
        let first = await queue.next()
        #expect(first == a)
        await queue.add(a)
        #expect(await queue.depth == 0, "a key in flight must not be handed to a second worker")
        await queue.done(a)
        #expect(await queue.depth == 1)
        #expect(await queue.next() == a)
    }

    @Test func workQueue_whenAWorkerWaits_wakesItOnAdd() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        let worker = Task { await queue.next() }
        await Task.yield()
        await queue.add(b)
        #expect(await worker.value == b)
        #expect(await queue.inFlight == [b])
    }

    @Test func workQueue_addAfter_appearsOnlyWhenVirtualTimeReachesTheDelay() async {
        let clock = ManualClock()
        let queue = WorkQueue(name: "t", clock: clock)
        await queue.add(a, after: .seconds(30))
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(29))
        #expect(await queue.depth == 0)
        clock.advance(by: .seconds(1))
        #expect(await queue.next() == a)
    }

    @Test func workQueue_addAfter_keepsTheEarlierDeadlineForTheSameKey() async {
        let clock = ManualClock()
        let queue = WorkQueue(name: "t", clock: clock)
        await queue.add(a, after: .seconds(10))
        await queue.add(a, after: .seconds(60))
        await queue.add(a, after: .seconds(5))
        #expect(await queue.delayedCount == 1)
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(5))
        #expect(await queue.next() == a)
        #expect(await queue.delayedCount == 0)
    }

    @Test func workQueue_manyDelayedKeys_shareOneTimerAndFireInDeadlineOrder() async {
        let clock = ManualClock()
        let queue = WorkQueue(name: "t", clock: clock)
        for i in 1...100 { await queue.add(ObjectKey(namespace: "ns", name: "k\(i)"), after: .seconds(i)) }
        await clock.waitForSleepers(count: 1)
        #expect(clock.sleeperCount == 1, "one timer for every delayed key")
        clock.advance(by: .seconds(3))
        var fired: [String] = []
        for _ in 0..<3 { if let key = await queue.next() { fired.append(key.name) } }
        #expect(fired == ["k1", "k2", "k3"])
        await clock.waitForSleepers(count: 1)
        #expect(await queue.delayedCount == 97)
    }

    @Test func workQueue_addRateLimited_backsOffPerKeyAndForgetResets() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        #expect(await queue.addRateLimited(a) == .milliseconds(5))
        #expect(await queue.addRateLimited(a) == .milliseconds(10))
        #expect(await queue.addRateLimited(a) == .milliseconds(20))
        #expect(await queue.retries(of: a) == 3)
        await queue.forget(a)
        #expect(await queue.retries(of: a) == 0)
        #expect(await queue.addRateLimited(a) == .milliseconds(5))
    }

    @Test func workQueue_afterShutDown_answersNilToWaitingWorkers() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        let worker = Task { await queue.next() }
        await Task.yield()
        await queue.shutDown()
        #expect(await worker.value == nil)
        await queue.add(a)
        #expect(await queue.next() == nil)
    }

    @Test func workQueue_shutDownWithDrain_waitsForInFlightKeys() async {
        let queue = WorkQueue(name: "t", clock: ManualClock())
        await queue.add(a)
        _ = await queue.next()
        let drained = Task { await queue.shutDownWithDrain(); return await queue.inFlight }
        await Task.yield()
        await queue.done(a)
        #expect(await drained.value.isEmpty)
    }

    @Test func workQueue_recordsControllerRuntimeMetrics() async {
        let metrics = RuntimeMetrics()
        let clock = ManualClock()
        let queue = WorkQueue(name: "platforms", clock: clock, metrics: metrics)
        await queue.add(a)
        await queue.add(a)
        await queue.add(b)
        _ = await queue.addRateLimited(b)
        clock.advance(by: .seconds(2))
        _ = await queue.next()
        clock.advance(by: .seconds(3))
        await queue.updateProcessorGauges()
        let text = await metrics.render()
        #expect(text.contains(#"workqueue_adds_total{name="platforms"} 2"#))
        #expect(text.contains(#"workqueue_retries_total{name="platforms"} 1"#))
        #expect(text.contains(#"workqueue_depth{name="platforms"} 1"#))
        #expect(text.contains(#"workqueue_longest_running_processor_seconds{name="platforms"} 3"#))
    }
}
