import AWSSigning
import AWSTestSupport
import class HTTPTestSupport.ClosedLoopbackPort
import Foundation
import HTTPTransport
import Testing

@testable import AWS

private let transport = HTTPTransport()

/// What actually goes on the wire, checked at a loopback server standing in for AWS.
@Suite struct ClientWireTests {
    func client(_ server: LoopbackServer, region: String = "eu-west-1", sessionToken: String? = nil) -> AWSClient {
        AWSClient(
            region: region, endpoints: EndpointResolver(region: region, environment: ["AWS_ENDPOINT_URL": server.baseURL]),
            credentials: StaticCredentialsProvider(
                AWSCredentials(accessKeyId: "AKIDWIRE", secretAccessKey: "wire-secret", sessionToken: sessionToken)),
            transport: transport, sleep: { _ in }, now: { Date(timeIntervalSince1970: 1_764_000_000) })
    }

    @Test func s3ConfigurationPut_isPathStyleWithContentMD5AndAnS3Signature() async throws {
        let server = try await LoopbackServer.start { _ in ScriptedResponse(status: 200) }
        defer { Task { await server.stop() } }
        try await S3Client(client: client(server)).putBucketVersioning("medsearch-docs", status: .suspended)
        let request = try #require(server.requests.first)
        #expect(request.method == "PUT")
        #expect(request.uri == "/medsearch-docs?versioning")
        #expect(request.header("Content-MD5") == MD5.base64(request.body))
        #expect(request.header("X-Amz-Content-Sha256")?.count == 64)
        let authorization = try #require(request.header("Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDWIRE/20251124/eu-west-1/s3/aws4_request"))
        #expect(authorization.contains("SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date"))
        #expect(!authorization.contains("wire-secret"))
        #expect(request.bodyText.contains("<Status>Suspended</Status>"))
    }

    @Test func jsonCall_sendsTargetContentTypeAndSessionToken() async throws {
        let server = try await LoopbackServer.start { _ in ScriptedResponse(status: 200, body: #"{"RandomPassword":"abc"}"#) }
        defer { Task { await server.stop() } }
        let password = try await SecretsManagerClient(client: client(server, sessionToken: "session-token-1"))
            .getRandomPassword(.init(length: 3))
        #expect(password.value == "abc")
        let request = try #require(server.requests.first)
        #expect(request.header("X-Amz-Target") == "secretsmanager.GetRandomPassword")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
        #expect(request.header("X-Amz-Security-Token") == "session-token-1")
        #expect(request.header("Authorization")?.contains("/eu-west-1/secretsmanager/aws4_request") == true)
        #expect(request.header("Authorization")?.contains("x-amz-security-token") == true)
    }

    @Test func queryCall_postsTheFormToTheRootWithTheServicesSigningName() async throws {
        let server = try await LoopbackServer.start { _ in
            ScriptedResponse(status: 200, body: "<DeleteAlarmsResponse><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></DeleteAlarmsResponse>")
        }
        defer { Task { await server.stop() } }
        try await CloudWatchClient(client: client(server)).deleteAlarms(names: ["a", "b"])
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.uri == "/")
        #expect(request.bodyText == "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=a&AlarmNames.member.2=b")
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(request.header("Authorization")?.contains("/eu-west-1/monitoring/aws4_request") == true)
    }

    @Test func successBodyThatIsNotXML_isAnInvalidResponseError() async throws {
        let server = try await LoopbackServer.start { _ in ScriptedResponse(status: 200, body: "<html>proxy login page") }
        defer { Task { await server.stop() } }
        let error = await #expect(throws: AWSError.self) { _ = try await STSClient(client: client(server)).getCallerIdentity() }
        #expect(error?.origin == .invalidResponse)
        #expect(server.requests.count == 1)
    }

    @Test func connectionRefused_isRetriedThenSurfacedAsTransportError() async throws {
        let closed = try ClosedLoopbackPort()
        let aws = AWSClient(
            region: "us-east-1", endpoints: EndpointResolver(region: "us-east-1", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:\(closed.port)"]),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "S")), transport: transport,
            sleep: { _ in })
        let error = await #expect(throws: AWSError.self) { _ = try await STSClient(client: aws).getCallerIdentity() }
        #expect(error?.origin == .transport)
        #expect(error?.transportFailure == .connectionRefused)
        #expect(aws.availableRetryTokens == 490)
    }
}
