import Probes
import Testing

@Suite struct OperationProbeTests {
    let bucket = ProbeTarget(kind: .s3, host: "medsearch-docs.s3.us-east-1.amazonaws.com", port: 443)

    struct NoSuchBucket: Error {}

    @Test func operationProbe_whenTheCallSucceeds_isHealthyWithAQueryStage() async {
        let result = await OperationProbe(target: bucket) {}.probe()
        #expect(result.isHealthy)
        #expect(result.stages.map(\.stage) == [.query])
        #expect(result.target == bucket)
    }

    @Test func operationProbe_whenTheCallThrows_reportsTheClassifiedFailure() async throws {
        let probe = OperationProbe(target: bucket, operation: { throw NoSuchBucket() }, classify: { error in
            ProbeFailure(stage: .query, reason: error is NoSuchBucket ? "BucketNotFound" : "RequestFailed", message: "HeadBucket failed", serverCode: "404")
        })
        let failure = try #require(await probe.probe().failure)
        #expect(failure.reason == "BucketNotFound")
        #expect(failure.serverCode == "404")
    }

    @Test func operationProbe_whenTheCallOutlivesTheDeadline_timesOutInTheQueryStage() async throws {
        let probe = OperationProbe(target: bucket, timeout: .milliseconds(100)) {
            try await Task.sleep(for: .seconds(600))
        }
        let failure = try #require(await probe.probe().failure)
        #expect(failure.reason == "Timeout")
        #expect(failure.stage == .query)
    }
}
