import AWSSigning
import AWSTestSupport
import Foundation
import HTTPTransport
import Testing

@testable import AWS

private let transport = HTTPTransport()
private let moto = MotoLease(transport: transport)

/// With moto's request authentication on (`/moto-api/reset-auth`), only correctly signed
/// requests pass, so a signing bug fails here instead of being routed somewhere by luck
/// (moto sends an unsigned RDS request to S3, which answers 200).
@Suite(
    .serialized,
    .enabled(if: MotoServer.isInstalled, "moto_server is not installed (pip install 'moto[server]'); signature tests skipped"))
struct MotoAuthTests {
    /// An IAM user allowed everything, created while authentication is still off; then
    /// authentication is switched on for this suite's own moto_server.
    static let keys = Task<AWSCredentials, any Error> {
        let server = try await moto.get()
        let bootstrap = server.client(transport: transport)
        var user = QueryParameters(action: "CreateUser", version: AWSService.iamForTests.apiVersion)
        user.add("UserName", "medsearch-operator")
        _ = try await bootstrap.query(.iamForTests, user)
        var policy = QueryParameters(action: "PutUserPolicy", version: AWSService.iamForTests.apiVersion)
        policy.add("UserName", "medsearch-operator")
        policy.add("PolicyName", "all")
        policy.add("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        _ = try await bootstrap.query(.iamForTests, policy)
        var key = QueryParameters(action: "CreateAccessKey", version: AWSService.iamForTests.apiVersion)
        key.add("UserName", "medsearch-operator")
        let accessKey = try await bootstrap.query(.iamForTests, key).firstDescendant("AccessKey")
        let credentials = AWSCredentials(
            accessKeyId: accessKey?.string("AccessKeyId") ?? "", secretAccessKey: accessKey?.string("SecretAccessKey") ?? "")
        try await server.resetAuth(unauthenticatedRequests: 0, transport: transport)
        return credentials
    }

    @Test func signedRequests_withValidKeys_passMotosSignatureCheckForEveryProtocol() async throws {
        let keys = try await Self.keys.value
        let client = try await moto.get().client(transport: transport, credentials: keys)
        #expect(try await STSClient(client: client).getCallerIdentity().arn.hasSuffix("user/medsearch-operator"))
        #expect(try await RDSClient(client: client).describeDBInstances(identifiers: ["absent"]).isEmpty)
        let secret = try await SecretsManagerClient(client: client).createSecret(
            .init(name: "signed-\(UInt32.random(in: 0..<UInt32.max))", secretString: "v"))
        #expect(!secret.arn.isEmpty)
        let s3 = S3Client(client: client)
        let bucket = "signed-\(UInt32.random(in: 0..<UInt32.max))"
        try await s3.createBucket(bucket, tags: [AWSTag(key: "k", value: "v")])
        try await s3.putBucketVersioning(bucket, status: .enabled)
        #expect(try await s3.getBucketVersioning(bucket) == .enabled)
        try await s3.deleteBucket(bucket)
    }

    @Test func signedRequests_withTheWrongSecret_failWithSignatureDoesNotMatchAndAreNotRetried() async throws {
        let keys = try await Self.keys.value
        let wrong = AWSCredentials(accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey + "x")
        let client = try await moto.get().client(transport: transport, credentials: wrong)
        let error = await #expect(throws: AWSError.self) {
            _ = try await RDSClient(client: client).describeDBInstances(identifiers: ["absent"])
        }
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.status == 403)
        #expect(error?.description.contains(wrong.secretAccessKey) == false)
        #expect(client.availableRetryTokens == 500)
    }

    @Test func signedRequests_withAnUnknownAccessKey_areRejected() async throws {
        _ = try await Self.keys.value
        let client = try await moto.get().client(
            transport: transport, credentials: AWSCredentials(accessKeyId: "AKIDUNKNOWN000000000", secretAccessKey: "s"))
        let error = await #expect(throws: AWSError.self) { _ = try await STSClient(client: client).getCallerIdentity() }
        #expect(error?.code == "InvalidClientTokenId")
    }
}
