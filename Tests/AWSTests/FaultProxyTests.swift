import AWSSigning
import AWSTestSupport
import Foundation
import HTTPTransport
import Synchronization
import Testing

@testable import AWS

private let transport = HTTPTransport()
private let moto = MotoLease(transport: transport)

/// Records the back-off delays the client asks for instead of sleeping.
final class SleepRecorder: Sendable {
    private let delays = Mutex<[Duration]>([])
    var recorded: [Duration] { delays.withLock { $0 } }
    func sleep(_ delay: Duration) { delays.withLock { $0.append(delay) } }
}

/// Retries and asynchronous provisioning through the fault proxy in front of moto.
@Suite(.enabled(if: MotoServer.isInstalled, "moto_server is not installed (pip install 'moto[server]'); fault-proxy tests skipped"))
struct FaultProxyTests {
    struct Harness {
        let proxy: FaultProxy
        let client: AWSClient
        let sleeps: SleepRecorder
    }

    func harness(retryStrategy: RetryStrategy = .standard, attemptTimeout: Duration = .seconds(30)) async throws -> Harness {
        let server = try await moto.get()
        let proxy = try await FaultProxy.start(upstream: server.baseURL, transport: transport)
        let sleeps = SleepRecorder()
        let client = AWSClient(
            region: "us-east-1", endpoints: EndpointResolver(region: "us-east-1", environment: ["AWS_ENDPOINT_URL": proxy.baseURL]),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDPROXY", secretAccessKey: "proxy-secret")),
            transport: transport, retryStrategy: retryStrategy, attemptTimeout: attemptTimeout,
            random: { 0.5 }, sleep: { sleeps.sleep($0) })
        return Harness(proxy: proxy, client: client, sleeps: sleeps)
    }

    @Test func client_whenThrottledTwice_retriesWithBackoffAndSucceeds() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.queryError(code: "Throttling", status: 400), on: "DescribeDBInstances", count: 2)
        let instances = try await RDSClient(client: h.client).describeDBInstances(identifiers: ["absent"])
        #expect(instances.isEmpty)
        #expect(h.proxy.count(of: "DescribeDBInstances") == 3)
        #expect(h.sleeps.recorded == [.milliseconds(500), .seconds(1)])
        // Two retries took 5 tokens each; the success returned the last retry's 5.
        #expect(h.client.availableRetryTokens == 495)
    }

    @Test func client_whenThrottledOnEveryAttempt_surfacesThrottlingAfterThreeAttempts() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.queryError(code: "Throttling", status: 400), on: "DescribeReplicationGroups", count: 10)
        let error = await #expect(throws: AWSError.self) {
            _ = try await ElastiCacheClient(client: h.client).describeReplicationGroups(id: nil)
        }
        #expect(error?.code == "Throttling")
        #expect(error?.isThrottling == true)
        #expect(error?.requestId == "fault-proxy")
        #expect(h.proxy.count(of: "DescribeReplicationGroups") == 3)
        #expect(h.sleeps.recorded.count == 2)
    }

    @Test func client_whenLoadBalancerAnswers503HTML_retriesAndSucceeds() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.htmlError(status: 503), on: "GetCallerIdentity", count: 1)
        let identity = try await STSClient(client: h.client).getCallerIdentity()
        #expect(!identity.account.isEmpty)
        #expect(h.proxy.count(of: "GetCallerIdentity") == 2)
    }

    @Test func client_jsonThrottlingException_isRetried() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.jsonError(type: "com.amazonaws.secretsmanager#ThrottlingException", status: 400), on: "GetRandomPassword", count: 1)
        let password = try await SecretsManagerClient(client: h.client).getRandomPassword(.init(length: 20))
        #expect(password.value.count == 20)
        #expect(h.proxy.count(of: "GetRandomPassword") == 2)
    }

    @Test func client_s3SlowDown_isRetried() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        let s3 = S3Client(client: h.client)
        let bucket = "proxy-bucket-\(UInt32.random(in: 0..<UInt32.max))"
        try await s3.createBucket(bucket, tags: [])
        h.proxy.inject(.htmlError(status: 500), on: "S3:GET", count: 1)
        #expect(try await s3.listObjectsV2(bucket, prefix: nil, maxKeys: 1, continuationToken: nil).isEmpty)
        #expect(h.proxy.count(of: "S3:GET") == 2)
        try await s3.deleteBucket(bucket)
    }

    @Test func client_nonRetryableError_isSurfacedAfterOneAttempt() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.queryError(code: "InvalidParameterValue", status: 400), on: "DescribeAlarms", count: 5)
        let error = await #expect(throws: AWSError.self) {
            _ = try await CloudWatchClient(client: h.client).describeAlarms(names: ["x"], namePrefix: nil)
        }
        #expect(error?.code == "InvalidParameterValue")
        #expect(h.proxy.count(of: "DescribeAlarms") == 1)
        #expect(h.sleeps.recorded.isEmpty)
        #expect(h.client.availableRetryTokens == 500)
    }

    @Test func client_whenRetryQuotaIsExhausted_failsWithoutRetrying() async throws {
        let h = try await harness(retryStrategy: RetryStrategy(initialQuota: 7))
        defer { Task { await h.proxy.stop() } }
        h.proxy.inject(.htmlError(status: 502), on: "DescribeDBSubnetGroups", count: 10)
        await #expect(throws: AWSError.self) { _ = try await RDSClient(client: h.client).describeDBSubnetGroups(name: nil) }
        // One retry fits in 7 tokens, the second does not.
        #expect(h.proxy.count(of: "DescribeDBSubnetGroups") == 2)
        #expect(h.client.availableRetryTokens == 2)
    }

    @Test func client_whenAnAttemptTimesOut_retriesAtTheTimeoutCost() async throws {
        // The limit is generous next to moto's own answer time on a busy machine (under the
        // full parallel suite moto has taken over 6 s); the injected delay is far beyond it.
        let h = try await harness(attemptTimeout: .seconds(15))
        defer { Task { await h.proxy.stop() } }
        let rds = RDSClient(client: h.client)
        let arn = "arn:aws:rds:us-east-1:123456789012:db:absent"
        _ = try await rds.listTagsForResource(arn: arn)  // warm moto up
        h.proxy.inject(.latency(.seconds(60)), on: "ListTagsForResource", count: 1)
        let tags = try await rds.listTagsForResource(arn: arn)
        #expect(tags.isEmpty)
        #expect(h.proxy.count(of: "ListTagsForResource") == 3)
        // The retry after a timeout took 10 tokens, returned on success.
        #expect(h.client.availableRetryTokens == 500)
        #expect(h.sleeps.recorded.count == 1)
    }

    @Test func rds_instanceReportedCreatingForTheFirstDescribes_becomesAvailableLater() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        let rds = RDSClient(client: h.client)
        let id = "proxy-db-\(UInt32.random(in: 0..<UInt32.max))"
        _ = try await rds.createDBInstance(
            .init(identifier: id, instanceClass: "db.t3.micro", engine: "postgres", allocatedStorageGiB: 20,
                masterUsername: "u", masterUserPassword: "password-123456"))
        h.proxy.inject(.reportStatus("creating"), on: "DescribeDBInstances", count: 2)
        var statuses: [String] = []
        for _ in 0..<3 { statuses.append(try await rds.describeDBInstances(identifiers: [id]).first?.status ?? "missing") }
        #expect(statuses == ["creating", "creating", "available"])
        _ = try await rds.deleteDBInstance(.init(identifier: id, skipFinalSnapshot: true))
    }

    @Test func elastiCache_groupReportedCreating_isNotAvailableUntilTheProxyStops() async throws {
        let h = try await harness()
        defer { Task { await h.proxy.stop() } }
        let cache = ElastiCacheClient(client: h.client)
        let id = "proxy-rg-\(UInt16.random(in: 0..<UInt16.max))"
        _ = try await cache.createReplicationGroup(
            .init(id: id, groupDescription: "d", nodeType: "cache.t3.micro", topology: .cacheClusters(1)))
        h.proxy.inject(.reportStatus("creating"), on: "DescribeReplicationGroups", count: 1)
        #expect(try await cache.describeReplicationGroups(id: id).first?.isAvailable == false)
        #expect(try await cache.describeReplicationGroups(id: id).first?.isAvailable == true)
        _ = try await cache.deleteReplicationGroup(id: id, finalSnapshotIdentifier: nil)
    }
}
