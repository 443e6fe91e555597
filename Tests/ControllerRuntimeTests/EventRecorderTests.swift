import JSON
import KubeAPI
import Testing
@testable import ControllerRuntime

@Suite struct EventAggregatorTests {
    let subject = EventSubject(apiVersion: "platform.medsearch.io/v1alpha1", kind: "MedicalSearchPlatform", namespace: "ns", name: "prod", uid: "p-uid")
    func occurrence(_ note: String = "database is being created") -> EventOccurrence {
        EventOccurrence(subject: subject, severity: .normal, reason: "ProvisioningDatabase", action: "Provision", note: note)
    }
    func at(_ seconds: Int) -> RuntimeInstant { RuntimeInstant(sinceStart: .seconds(seconds)) }

    @Test func aggregator_whenTheSameEventRepeats_incrementsOneEventInsteadOfCreatingMore() {
        var aggregator = EventAggregator()
        #expect(aggregator.record(occurrence(), at: at(0), uniqueSuffix: "a") == .create(name: "prod.a"))
        #expect(aggregator.record(occurrence(), at: at(1), uniqueSuffix: "b") == .increment(name: "prod.a", count: 2))
        #expect(aggregator.record(occurrence(), at: at(2), uniqueSuffix: "c") == .increment(name: "prod.a", count: 3))
        #expect(aggregator.record(occurrence("a different note"), at: at(3), uniqueSuffix: "d") == .create(name: "prod.d"))
    }

    @Test func aggregator_afterTheWindowPasses_startsANewEvent() {
        var aggregator = EventAggregator(window: .seconds(600))
        _ = aggregator.record(occurrence(), at: at(0), uniqueSuffix: "a")
        #expect(aggregator.record(occurrence(), at: at(601), uniqueSuffix: "b") == .create(name: "prod.b"))
    }

    @Test func aggregator_whenOneObjectFloods_dropsBeyondTheBurstUntilTheBudgetRefills() {
        var aggregator = EventAggregator(burst: 3, refill: .seconds(300))
        let actions = (0..<5).map { aggregator.record(occurrence("note \($0)"), at: at(0), uniqueSuffix: "\($0)") }
        #expect(actions.filter { $0 == .drop }.count == 2)
        #expect(aggregator.record(occurrence("later"), at: at(300), uniqueSuffix: "x") == .create(name: "prod.x"))
    }
}

@Suite struct EventRecorderTests {
    @Test func eventRecorder_writesOneEventThenPatchesItsSeriesForRepeats() async throws {
        let client = FakeResourceClient()
        let clock = ManualClock()
        let recorder = EventRecorder(client: client, controllerName: "platform.medsearch.io/medsearch-operator", instance: "pod-1", clock: clock, logger: .quiet)
        let subject = EventSubject(apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "cm", uid: "u")
        let occurrence = EventOccurrence(subject: subject, severity: .warning, reason: "ApplyFailed", action: "Apply", note: "conflict")
        await recorder.write(occurrence)
        clock.advance(by: .seconds(5))
        await recorder.write(occurrence)
        let requests = await client.requests.map(\.verb)
        #expect(requests == ["create", "patch"])
        let name = try #require(await client.requests.first?.name)
        let stored = try #require(await client.stored(.events, ObjectKey(namespace: "ns", name: name)))
        #expect(stored["reason"] == "ApplyFailed")
        #expect(stored["type"] == "Warning")
        #expect(stored[path: ["regarding", "uid"]] == "u")
        #expect(stored[path: ["series", "count"]] == 2)
    }

    @Test func eventRecorder_whenNothingDrainsIt_recordReturnsAndOnlyTheNewestOccurrencesAreKept() async throws {
        let client = FakeResourceClient()
        let recorder = EventRecorder(client: client, controllerName: "c", instance: "i", bufferSize: 4, clock: ManualClock(), logger: .quiet)
        let subject = EventSubject(apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "cm", uid: "u")
        for i in 0..<10_000 {
            recorder.record(EventOccurrence(subject: subject, severity: .normal, reason: "R", action: "A", note: "\(i)"))
        }
        recorder.finish()
        try await recorder.run()
        let notes = await client.requests.count
        #expect(notes == 4)
        let names = await client.requests.compactMap(\.name)
        var kept: [String] = []
        for name in names { kept.append(await client.stored(.events, ObjectKey(namespace: "ns", name: name))?["note"].stringValue ?? "") }
        #expect(kept.sorted() == ["9996", "9997", "9998", "9999"])
    }
}
