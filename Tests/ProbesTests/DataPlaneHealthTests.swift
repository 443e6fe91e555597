import Foundation
import JSON
import Probes
import Testing

@Suite struct DataPlaneHealthTests {
    let database = ProbeTarget(kind: .postgreSQL, host: "db.example", port: 5432)
    let cache = ProbeTarget(kind: .redis, host: "cache.example", port: 6379)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func failure(_ reason: String = "AuthenticationFailed") -> ProbeFailure {
        ProbeFailure(stage: .auth, reason: reason, message: "FATAL 28P01: password authentication failed", serverCode: "28P01")
    }

    @Test func record_afterFailure_keepsLastSuccessAndCountsFailures() {
        let healthy = ProbeHealthRecord.updating(nil, with: ProbeResult(target: database, outcome: .healthy(latency: .milliseconds(12)), checkedAt: t0))
        let failed = ProbeHealthRecord.updating(healthy, with: ProbeResult(target: database, outcome: .unhealthy(failure()), checkedAt: t0 + 30))
        let failedAgain = ProbeHealthRecord.updating(failed, with: ProbeResult(target: database, outcome: .unhealthy(failure()), checkedAt: t0 + 60))
        #expect(failedAgain.lastSuccess == t0)
        #expect(failedAgain.lastChecked == t0 + 60)
        #expect(failedAgain.consecutiveFailures == 2)
        #expect(failedAgain.latency == nil)
        let recovered = ProbeHealthRecord.updating(failedAgain, with: ProbeResult(target: database, outcome: .healthy(latency: .milliseconds(9)), checkedAt: t0 + 90))
        #expect(recovered.healthy && recovered.consecutiveFailures == 0 && recovered.failure == nil)
        #expect(recovered.lastSuccess == t0 + 90)
    }

    @Test func record_statusJSON_roundTripsThroughStatus() throws {
        let healthy = ProbeHealthRecord.updating(nil, with: ProbeResult(target: database, outcome: .healthy(latency: .milliseconds(12)), checkedAt: t0))
        let failed = ProbeHealthRecord.updating(healthy, with: ProbeResult(target: database, outcome: .unhealthy(failure()), checkedAt: t0 + 30))
        let json = failed.statusJSON
        #expect(json["reason"].stringValue == "AuthenticationFailed")
        #expect(json["serverCode"].stringValue == "28P01")
        #expect(json["lastSuccess"].stringValue == "2027-01-15T08:00:00Z")
        #expect(json["latencyMilliseconds"].isNull)
        #expect(healthy.statusJSON["latencyMilliseconds"].intValue == 12)
        let reparsed = try JSONValue.parse(json.serialized())
        #expect(ProbeHealthRecord(statusJSON: reparsed) == failed)
        #expect(ProbeHealthRecord(statusJSON: healthy.statusJSON) == healthy)
        #expect(ProbeHealthRecord(statusJSON: .object(["kind": "redis"])) == nil)
    }

    @Test func summary_whenAnyStoreFails_isDegradedWithTheFirstFailuresReason() {
        let ok = ProbeHealthRecord.updating(nil, with: ProbeResult(target: database, outcome: .healthy(latency: .milliseconds(3)), checkedAt: t0))
        let bad = ProbeHealthRecord.updating(nil, with: ProbeResult(target: cache, outcome: .unhealthy(failure("Timeout")), checkedAt: t0))
        let summary = DataPlaneHealthSummary.summarize([ok, bad])
        #expect(summary.isDegraded)
        #expect(summary.reason == "Timeout")
        #expect(summary.message.contains("redis cache.example:6379"))
        #expect(!summary.message.contains("postgresql"))
    }

    @Test func summary_whenEveryStoreRecovers_clearsDegraded() {
        let ok = ProbeHealthRecord.updating(nil, with: ProbeResult(target: database, outcome: .healthy(latency: .milliseconds(3)), checkedAt: t0))
        let summary = DataPlaneHealthSummary.summarize([ok])
        #expect(!summary.isDegraded)
        #expect(summary.reason == "DataPlaneHealthy")
    }

    @Test func probeAll_returnsResultsInTheProbesOrder() async {
        struct Fixed: DataPlaneProbe {
            let target: ProbeTarget
            let delay: Duration
            func probe() async -> ProbeResult {
                try? await Task.sleep(for: delay)
                return ProbeResult(target: target, outcome: .healthy(latency: delay))
            }
        }
        let results = await DataPlaneProbing.probeAll([
            Fixed(target: database, delay: .milliseconds(50)), Fixed(target: cache, delay: .zero),
        ])
        #expect(results.map(\.target) == [database, cache])
    }
}
