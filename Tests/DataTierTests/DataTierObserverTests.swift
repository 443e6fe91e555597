import Foundation
import Synchronization
import Testing

@testable import AWS
@testable import DataTier

/// A settable wall clock for the observer's interval.
final class TestClock: Sendable {
    let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: @Sendable () -> Date { { [self] in time.withLock { $0 } } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

@Suite struct DataTierObserverTests {
    @Test(arguments: [1, 10, 50])
    func observer_withManyPlatforms_describesOncePerIntervalForAll(platforms: Int) async {
        let cloud = FakeCloud()
        let clock = TestClock()
        let observer = DataTierObserver(rds: cloud.rds, elastiCache: cloud.elastiCache, interval: .seconds(30), now: clock.now)
        for i in 0..<platforms {
            await observer.register(platform: "ns/p\(i)", dbInstances: ["db-\(i)", "db-\(i)-r1"], replicationGroup: "rg-\(i)")
        }
        // Every platform's reconcile reads during one interval, some concurrently.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<platforms { group.addTask { _ = await observer.snapshot() } }
        }
        for _ in 0..<platforms { _ = await observer.snapshot() }
        #expect(cloud.count("DescribeDBInstances") == 1)
        #expect(cloud.count("DescribeReplicationGroups") == 1)

        clock.advance(31)
        for _ in 0..<platforms { _ = await observer.snapshot() }
        #expect(cloud.count("DescribeDBInstances") == 2)
        #expect(cloud.count("DescribeReplicationGroups") == 2)
    }

    @Test func observer_keepsOnlyRegisteredGroupsAndReportsDescribeErrors() async throws {
        let cloud = FakeCloud()
        cloud.state.withLock { s in
            s.groups["mine"] = Fixtures.group("mine")
            s.groups["someone-else"] = Fixtures.group("someone-else")
            s.instances["db-1"] = Fixtures.instance("db-1")
        }
        let clock = TestClock()
        let observer = DataTierObserver(rds: cloud.rds, elastiCache: cloud.elastiCache, interval: .seconds(30), now: clock.now)
        await observer.register(platform: "ns/a", dbInstances: ["db-1"], replicationGroup: "mine")
        let first = await observer.snapshot()
        #expect(Set(first.replicationGroups.keys) == ["mine"])
        #expect(first.instances["db-1"]?.status == "available")

        cloud.inject("Throttling", on: "DescribeDBInstances", status: 400)
        await observer.invalidate()
        let second = await observer.snapshot()
        #expect(second.rdsError?.code == "Throttling")
        // The last good view is kept so a throttled describe does not look like a deletion.
        #expect(second.instances["db-1"] != nil)
    }

    @Test func observer_whenAPlatformRegistersNewIdentifiers_refreshesAtOnce() async {
        let cloud = FakeCloud()
        let clock = TestClock()
        let observer = DataTierObserver(rds: cloud.rds, elastiCache: cloud.elastiCache, interval: .seconds(30), now: clock.now)
        await observer.register(platform: "ns/a", dbInstances: ["db-a"], replicationGroup: "rg-a")
        _ = await observer.snapshot()
        await observer.register(platform: "ns/a", dbInstances: ["db-a"], replicationGroup: "rg-a")
        _ = await observer.snapshot()
        #expect(cloud.count("DescribeDBInstances") == 1)
        await observer.register(platform: "ns/b", dbInstances: ["db-b"], replicationGroup: "rg-b")
        _ = await observer.snapshot()
        #expect(cloud.count("DescribeDBInstances") == 2)
    }
}
