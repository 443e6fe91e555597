import PlatformAPI
import Probes
import Testing

@testable import AWS
@testable import DataTier

@Suite struct DataTierProbesTests {
    @Test func standardProbes_forAReadyTier_checkPostgreSQLRedisAndTheDocumentsBucket() {
        var endpoints = DataTierEndpoints()
        endpoints.databaseWriter = Endpoint(host: "db.example", port: 5432)
        endpoints.cache = Endpoint(host: "redis.example", port: 6379)
        endpoints.buckets = [.documents: "clinic-demo-documents", .logs: "clinic-demo-logs"]
        let factory = DataTierProbes.standard(s3: FakeCloud().s3, databaseTLS: .disabled, cacheTLS: .disabled)
        let probes = factory(endpoints, ["DATABASE_USERNAME": "medsearch", "DATABASE_PASSWORD": "pw", "REDIS_AUTH_TOKEN": "token"])
        #expect(probes.map(\.target.kind) == [.postgreSQL, .redis, .s3])
        #expect(probes.map(\.target.host) == ["db.example", "redis.example", "clinic-demo-documents.s3.amazonaws.com"])
    }

    @Test func standardProbes_withoutDatabaseCredentials_skipPostgreSQL() {
        var endpoints = DataTierEndpoints()
        endpoints.databaseWriter = Endpoint(host: "db.example", port: 5432)
        let probes = DataTierProbes.standard(s3: FakeCloud().s3, databaseTLS: .disabled, cacheTLS: .disabled)(endpoints, [:])
        #expect(probes.isEmpty)
    }

    @Test func s3BucketProbe_reportsHealthyForAnExistingBucketAndTheAWSCodeOtherwise() async {
        let cloud = FakeCloud()
        cloud.state.withLock { $0.buckets["there"] = .init(tags: nil) }
        let healthy = await S3BucketProbe(s3: cloud.s3, bucket: "there").probe()
        #expect(healthy.isHealthy)
        let missing = await S3BucketProbe(s3: cloud.s3, bucket: "gone").probe()
        #expect(!missing.isHealthy)
        #expect(missing.failure?.reason == "NoSuchBucket")
    }
}
