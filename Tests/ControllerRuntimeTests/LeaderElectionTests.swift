import Foundation
import JSON
import KubeAPI
import Logging
import Testing
@testable import ControllerRuntime

@Suite struct LeaderElectionStateMachineTests {
    let wall = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: Int) -> RuntimeInstant { RuntimeInstant(sinceStart: .seconds(seconds)) }
    func held(by holder: String, renew: String = "t0") -> LeaseRecord {
        LeaseRecord(holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: "t0", renewTime: renew, leaseTransitions: 3)
    }

    @Test func election_whenNoLeaseExists_createsOneAndStartsLeadingOnceWritten() {
        var machine = LeaderElectionStateMachine(identity: "a")
        guard case .create(let record) = machine.decide(lease: nil, resourceVersion: "", now: at(0), wallNow: wall) else {
            Issue.record("expected a create"); return
        }
        #expect(record.holderIdentity == "a")
        #expect(record.leaseDurationSeconds == 15)
        #expect(record.renewTime == "2027-01-15T08:00:00.000000Z")
        #expect(!machine.isLeader)
        #expect(machine.writeSucceeded(now: at(0)) == .startedLeading)
        #expect(machine.isLeader)
        #expect(machine.writeSucceeded(now: at(2)) == nil)
    }

    @Test func election_whenAnotherHolderKeepsRenewing_standsByPastTheLeaseDuration() {
        var machine = LeaderElectionStateMachine(identity: "b")
        for second in stride(from: 0, through: 40, by: 2) {
            let decision = machine.decide(lease: held(by: "a", renew: "t\(second)"), resourceVersion: "\(second)", now: at(second), wallNow: wall)
            #expect(decision == .standBy)
        }
    }

    @Test func election_whenTheHolderStopsRenewing_takesOverAfterLeaseDurationCountedLocally() {
        var machine = LeaderElectionStateMachine(identity: "b")
        let stale = held(by: "a", renew: "long-ago")
        #expect(machine.decide(lease: stale, resourceVersion: "7", now: at(100), wallNow: wall) == .standBy)
        #expect(machine.decide(lease: stale, resourceVersion: "7", now: at(114), wallNow: wall) == .standBy)
        guard case .update(let record, let resourceVersion) = machine.decide(lease: stale, resourceVersion: "7", now: at(115), wallNow: wall) else {
            Issue.record("expected a takeover"); return
        }
        #expect(resourceVersion == "7")
        #expect(record.holderIdentity == "b")
        #expect(record.leaseTransitions == 4)
        #expect(machine.writeSucceeded(now: at(115)) == .startedLeading)
    }

    @Test func election_whenTheLeaseWasReleased_takesOverWithoutWaiting() {
        var machine = LeaderElectionStateMachine(identity: "b")
        let released = LeaseRecord(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: "t", renewTime: "t", leaseTransitions: 3)
        guard case .update(let record, _) = machine.decide(lease: released, resourceVersion: "9", now: at(0), wallNow: wall) else {
            Issue.record("expected a takeover"); return
        }
        #expect(record.holderIdentity == "b")
    }

    @Test func election_whenTheLeaderCannotRenew_stopsLeadingOnlyAfterTheRenewDeadline() {
        var machine = LeaderElectionStateMachine(identity: "a")
        _ = machine.decide(lease: nil, resourceVersion: "", now: at(0), wallNow: wall)
        _ = machine.writeSucceeded(now: at(0))
        #expect(machine.attemptFailed(now: at(2)) == nil)
        #expect(machine.attemptFailed(now: at(9)) == nil)
        #expect(machine.attemptFailed(now: at(10)) == .stoppedLeading)
        #expect(!machine.isLeader)
    }

    @Test func election_whenAnotherReplicaHoldsTheLease_stopsLeadingAtOnce() {
        var machine = LeaderElectionStateMachine(identity: "a")
        _ = machine.decide(lease: nil, resourceVersion: "", now: at(0), wallNow: wall)
        _ = machine.writeSucceeded(now: at(0))
        #expect(machine.decide(lease: held(by: "intruder"), resourceVersion: "3", now: at(2), wallNow: wall) == .standBy)
        #expect(machine.attemptFailed(now: at(2)) == .stoppedLeading)
    }

    @Test func election_release_clearsTheHolderAndShortensTheLeaseToOneSecond() throws {
        var machine = LeaderElectionStateMachine(identity: "a")
        let nothing = machine.release(wallNow: wall)
        #expect(nothing == nil, "a non-leader has nothing to release")
        _ = machine.decide(lease: nil, resourceVersion: "", now: at(0), wallNow: wall)
        _ = machine.writeSucceeded(now: at(0))
        let release = machine.release(wallNow: wall)
        let released = try #require(release)
        #expect(released.holderIdentity == "")
        #expect(released.leaseDurationSeconds == 1)
        #expect(released.spec["holderIdentity"].isNull)
        #expect(!machine.isLeader)
    }
}

@Suite struct LeaderElectorTests {
    @Test func leaderElector_twoReplicas_onlyOneLeadsAndTheOtherTakesOverAfterGracefulRelease() async throws {
        let client = FakeResourceClient()
        let clock = ManualClock()
        let leaseKey = ObjectKey(namespace: "medsearch-system", name: "medsearch-operator")
        let first = LeaderElector(lease: leaseKey, identity: "replica-1", client: client, clock: clock, logger: .quiet)
        let second = LeaderElector(lease: leaseKey, identity: "replica-2", client: client, clock: clock, logger: .quiet)

        let firstRun = Task { try await first.run() }
        try await first.gate.waitUntilLeading()
        let secondRun = Task { try await second.run() }
        await clock.waitForSleepers(count: 2)
        #expect(first.isLeader)
        #expect(!second.isLeader)
        #expect(!second.gate.isLeading)

        clock.advance(by: .seconds(2))
        await clock.waitForSleepers(count: 2)
        #expect(!second.isLeader, "a renewed lease is respected")

        firstRun.cancel()
        try await firstRun.value
        let released = try #require(await client.stored(.leases, leaseKey))
        #expect(released[path: ["spec", "holderIdentity"]].isNull)
        #expect(released[path: ["spec", "leaseDurationSeconds"]] == 1)

        clock.advance(by: .seconds(2))
        try await second.gate.waitUntilLeading()
        let taken = try #require(await client.stored(.leases, leaseKey))
        #expect(taken[path: ["spec", "holderIdentity"]] == "replica-2")
        #expect(taken[path: ["spec", "leaseTransitions"]] == 1)
        secondRun.cancel()
        try await secondRun.value
    }
}

/// Delegates to a fake API server, but Lease reads hang (until cancelled) once `hang` is set,
/// like a request to an unreachable API server.
final class HangingLeaseClient: ResourceClient {
    let inner: FakeResourceClient
    let hang = ManualFlag()

    init(_ inner: FakeResourceClient) { self.inner = inner }

    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage { try await inner.list(type, namespace: namespace, limit: limit, continueToken: continueToken) }
    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> { try await inner.watch(type, namespace: namespace, resourceVersion: resourceVersion) }
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        if hang.value {
            let never = AsyncStream<Void> { _ in }
            for await _ in never {}
            throw CancellationError()
        }
        return try await inner.get(type, namespace: namespace, name: name)
    }
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue { try await inner.create(type, namespace: namespace, object: object) }
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue { try await inner.replace(type, namespace: namespace, name: name, object: object) }
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue { try await inner.apply(type, namespace: namespace, name: name, object: object, fieldManager: fieldManager, force: force) }
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue { try await inner.jsonPatch(type, namespace: namespace, name: name, operations: operations) }
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue { try await inner.mergePatch(type, namespace: namespace, name: name, patch: patch) }
    func delete(_ type: APIResource, namespace: String?, name: String) async throws { try await inner.delete(type, namespace: namespace, name: name) }
}

@Suite(.timeLimit(.minutes(1))) struct LeaderElectorRenewDeadlineTests {
    @Test func leaderElector_whenRenewalsHang_givesUpLeadershipAtTheRenewDeadline() async throws {
        let client = HangingLeaseClient(FakeResourceClient())
        let clock = ManualClock()
        let elector = LeaderElector(lease: ObjectKey(namespace: "ns", name: "l"), identity: "a", client: client, clock: clock, logger: .quiet)
        let run = Task { try await elector.run() }
        try await elector.gate.waitUntilLeading()
        await clock.waitForSleepers(count: 1)
        client.hang.set(true)
        clock.advance(by: .seconds(2))
        // The hung attempt and its deadline timer (10 s after the last renewal) both wait.
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(7))
        #expect(elector.gate.isLeading, "still inside the renew deadline")
        clock.advance(by: .seconds(1))
        await #expect(throws: LeaderElectionError.self) { try await run.value }
        #expect(!elector.gate.isLeading)
    }
}
