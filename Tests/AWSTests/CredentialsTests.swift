import AWSSigning
import AWSTestSupport
import Foundation
import HTTPTransport
import Synchronization
import Testing

@testable import AWS

private let transport = HTTPTransport()

/// A directory of files for one test, removed afterwards.
private struct TemporaryDirectory: ~Copyable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "aws-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws -> String {
        let file = "\(path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private let roleCredentialsJSON = """
    {"Code":"Success","LastUpdated":"2026-11-25T20:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAROLE","SecretAccessKey":"role-secret","Token":"role-token","Expiration":"2026-11-26T02:00:00Z"}
    """

private let noIMDS = ["AWS_EC2_METADATA_DISABLED": "true"]

@Suite struct CredentialsTests {
    @Test func environmentSource_readsKeysAndSessionToken() async throws {
        let found = try await EnvironmentCredentialsSource(
            environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"]
        ).load()
        #expect(found?.credentials == AWSCredentials(accessKeyId: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
        #expect(found?.expiration == nil)
        #expect(try await EnvironmentCredentialsSource(environment: [:]).load() == nil)
    }

    @Test func environmentSource_whenSecretIsMissing_throwsWithoutEchoingTheKey() async {
        let error = await #expect(throws: CredentialsError.self) {
            _ = try await EnvironmentCredentialsSource(environment: ["AWS_ACCESS_KEY_ID": "AKIDONLY"]).load()
        }
        #expect(error?.description.contains("AKIDONLY") == false)
    }

    @Test func sharedConfig_selectsProfileFromBothFiles_credentialsFileWinning() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "config",
            """
            [default]
            region = us-east-1
            [profile medsearch]
            region = eu-west-1   # inline comment
            endpoint_url = http://127.0.0.1:4566
            aws_access_key_id = AKIDFROMCONFIG
            [medsearch]
            region = ignored-because-config-profiles-need-the-prefix
            """)
        let credentials = try directory.write(
            "credentials",
            """
            ; comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = default-secret
            [medsearch]
            AWS_ACCESS_KEY_ID = AKIDMEDSEARCH
            aws_secret_access_key = medsearch#secret
            """)
        let shared = SharedConfig.load(environment: [
            "AWS_PROFILE": "medsearch", "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": directory.path,
        ])
        #expect(shared.profileName == "medsearch")
        #expect(shared.region == "eu-west-1")
        #expect(shared.endpointURL == "http://127.0.0.1:4566")
        #expect(shared["aws_access_key_id"] == "AKIDMEDSEARCH")
        #expect(shared["aws_secret_access_key"] == "medsearch#secret")

        let defaults = SharedConfig.load(environment: [
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": directory.path,
        ])
        #expect(defaults.region == "us-east-1")
        #expect(defaults["aws_access_key_id"] == "AKIDDEFAULT")
    }

    @Test func sharedConfig_defaultsToFilesUnderHome_andMissingFilesAreEmpty() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/.aws", withIntermediateDirectories: true)
        _ = try directory.write(".aws/credentials", "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=s\n")
        #expect(SharedConfig.load(environment: ["HOME": directory.path])["aws_access_key_id"] == "AKIDHOME")
        #expect(SharedConfig.load(environment: ["HOME": directory.path + "/nowhere"]).values.isEmpty)
    }

    @Test func chain_prefersEnvironmentOverProfile() async throws {
        let shared = SharedConfig(profileName: "default", values: ["aws_access_key_id": "AKIDPROFILE", "aws_secret_access_key": "p"])
        let environment = noIMDS.merging(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "e"]) { $1 }
        let chain = CredentialsChain.standard(
            environment: environment, sharedConfig: shared, stsEndpoint: AWSEndpoint(url: "http://127.0.0.1:1")!, transport: transport)
        let found = try await chain.credentials()
        #expect(found.credentials.accessKeyId == "AKIDENV")
        #expect(found.source == "environment")
    }

    @Test func chain_prefersProfileOverWebIdentity() async throws {
        // The STS endpoint is a closed port: reaching it would fail the test.
        let shared = SharedConfig(profileName: "p", values: ["aws_access_key_id": "AKIDPROFILE", "aws_secret_access_key": "p"])
        let environment = noIMDS.merging(["AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent"]) { $1 }
        let chain = CredentialsChain.standard(
            environment: environment, sharedConfig: shared, stsEndpoint: AWSEndpoint(url: "http://127.0.0.1:1")!, transport: transport)
        #expect(try await chain.credentials().source == "profile p")
    }

    @Test func chain_whenNothingIsConfigured_throwsNamingEverySourceTried() async {
        let chain = CredentialsChain.standard(
            environment: noIMDS, sharedConfig: SharedConfig(profileName: "default", values: [:]),
            stsEndpoint: AWSEndpoint(url: "http://127.0.0.1:1")!, transport: transport)
        let error = await #expect(throws: CredentialsError.self) { _ = try await chain.credentials() }
        #expect(error?.message.contains("environment, profile default, web identity, container credentials, instance metadata") == true)
    }

    @Test func webIdentity_exchangesTheTokenFileThroughAnUnsignedSTSCall() async throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "eyJhbGciOi.payload.sig\n")
        let sts = try await LoopbackServer.start { _ in
            ScriptedResponse(
                status: 200, headers: [(name: "Content-Type", value: "text/xml")],
                body: """
                    <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                      <AssumeRoleWithWebIdentityResult>
                        <Credentials>
                          <AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey>
                          <SessionToken>web-token</SessionToken><Expiration>2026-11-25T23:00:00Z</Expiration>
                        </Credentials>
                        <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
                      </AssumeRoleWithWebIdentityResult>
                      <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
                    </AssumeRoleWithWebIdentityResponse>
                    """)
        }
        defer { Task { await sts.stop() } }
        let chain = CredentialsChain.standard(
            environment: noIMDS.merging([
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/medsearch", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
                "AWS_ROLE_SESSION_NAME": "operator-pod",
            ]) { $1 },
            sharedConfig: SharedConfig(profileName: "default", values: [:]), stsEndpoint: AWSEndpoint(url: sts.baseURL)!,
            transport: transport)
        let found = try await chain.credentials()
        #expect(found.credentials == AWSCredentials(accessKeyId: "ASIAWEB", secretAccessKey: "web-secret", sessionToken: "web-token"))
        #expect(found.expiration == ISO8601DateFormatter().date(from: "2026-11-25T23:00:00Z"))
        let request = try #require(sts.requests.first)
        #expect(request.method == "POST")
        #expect(request.header("Authorization") == nil)
        #expect(
            request.bodyText
                == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmedsearch"
                + "&RoleSessionName=operator-pod&WebIdentityToken=eyJhbGciOi.payload.sig")
    }

    @Test func webIdentity_whenSTSRefuses_throwsWithoutTheToken() async throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "secret-oidc-token")
        let sts = try await LoopbackServer.start { _ in
            ScriptedResponse(
                status: 400,
                body: "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad token</Message></Error></ErrorResponse>")
        }
        defer { Task { await sts.stop() } }
        let source = WebIdentityCredentialsSource(
            environment: ["AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile],
            sharedConfig: SharedConfig(profileName: "default", values: [:]), stsEndpoint: AWSEndpoint(url: sts.baseURL)!,
            transport: transport)
        let error = await #expect(throws: CredentialsError.self) { _ = try await source.load() }
        #expect(error?.message.contains("InvalidIdentityToken") == true)
        #expect(error?.description.contains("secret-oidc-token") == false)
    }

    @Test func containerCredentials_fullURIWithTokenFile_sendsTheTokenAndParsesTheDocument() async throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("eks-pod-identity-token", "pod-identity-token\n")
        let agent = try await LoopbackServer.start { request in
            request.header("Authorization") == "pod-identity-token"
                ? ScriptedResponse(status: 200, body: roleCredentialsJSON) : ScriptedResponse(status: 401)
        }
        defer { Task { await agent.stop() } }
        let chain = CredentialsChain.standard(
            environment: noIMDS.merging([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": agent.baseURL + "/v1/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
            ]) { $1 },
            sharedConfig: SharedConfig(profileName: "default", values: [:]), stsEndpoint: AWSEndpoint(url: "http://127.0.0.1:1")!,
            transport: transport)
        let found = try await chain.credentials()
        #expect(found.source == "container credentials")
        #expect(found.credentials == AWSCredentials(accessKeyId: "ASIAROLE", secretAccessKey: "role-secret", sessionToken: "role-token"))
        #expect(found.expiration == ISO8601DateFormatter().date(from: "2026-11-26T02:00:00Z"))
        #expect(agent.requests.map(\.path) == ["/v1/credentials"])
    }

    @Test func containerCredentials_tokenFromEnvironment_whenNoFile() async throws {
        let agent = try await LoopbackServer.start { request in
            request.header("Authorization") == "Basic env-token" ? ScriptedResponse(status: 200, body: roleCredentialsJSON) : ScriptedResponse(status: 401)
        }
        defer { Task { await agent.stop() } }
        let found = try await ContainerCredentialsSource(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": agent.baseURL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Basic env-token"],
            transport: transport
        ).load()
        #expect(found?.credentials.accessKeyId == "ASIAROLE")
    }

    @Test func containerCredentials_refusesPlainHTTPToANonLoopbackHostWithoutConnecting() async {
        let source = ContainerCredentialsSource(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://metadata.example/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"],
            transport: transport)
        let error = await #expect(throws: CredentialsError.self) { _ = try await source.load() }
        #expect(error?.message.contains("loopback") == true)
    }

    @Test(arguments: [
        (["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], "http://169.254.170.2/v2/credentials/abc"),
        (["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/x", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/y"],
            "http://169.254.170.2/v2/x"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"], "http://169.254.170.23/v1/credentials"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials"], "http://[fd00:ec2::23]/v1/credentials"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example/v1"], "https://creds.example/v1"),
        (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:8080/creds"], "http://localhost:8080/creds"),
    ])
    func containerCredentials_urlFollowsTheSDKsRules(_ environment: [String: String], _ expected: String) throws {
        #expect(try ContainerCredentialsSource.credentialsURL(environment: environment) == expected)
    }

    @Test func instanceMetadata_waitsOneSecondUnlessAWSMetadataServiceTimeoutSaysOtherwise() {
        #expect(InstanceMetadataCredentialsSource(environment: [:], transport: transport).callTimeout == .seconds(1))
        #expect(InstanceMetadataCredentialsSource(environment: ["AWS_METADATA_SERVICE_TIMEOUT": "2.5"], transport: transport).callTimeout == .milliseconds(2500))
        #expect(InstanceMetadataCredentialsSource(environment: ["AWS_METADATA_SERVICE_TIMEOUT": "junk"], transport: transport).callTimeout == .seconds(1))
    }

    @Test func instanceMetadata_usesIMDSv2TokenForRoleAndCredentialLookups() async throws {
        let imds = try await LoopbackServer.start { request in
            switch (request.method, request.path) {
            case ("PUT", "/latest/api/token"):
                return request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600"
                    ? ScriptedResponse(status: 200, body: "imds-session-token") : ScriptedResponse(status: 400)
            case ("GET", _) where request.header("X-aws-ec2-metadata-token") != "imds-session-token":
                return ScriptedResponse(status: 401)
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return ScriptedResponse(status: 200, body: "medsearch-node-role\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/medsearch-node-role"):
                return ScriptedResponse(status: 200, body: roleCredentialsJSON)
            default:
                return ScriptedResponse(status: 404)
            }
        }
        defer { Task { await imds.stop() } }
        let chain = CredentialsChain.standard(
            // The SDKs' one-second default is too tight for a loopback server inside a busy
            // parallel test run; the SDKs' own setting raises it.
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL + "/", "AWS_METADATA_SERVICE_TIMEOUT": "10"],
            sharedConfig: SharedConfig(profileName: "default", values: [:]), stsEndpoint: AWSEndpoint(url: "http://127.0.0.1:1")!,
            transport: transport)
        let found = try await chain.credentials()
        #expect(found.source == "instance metadata")
        #expect(found.credentials.sessionToken == "role-token")
        #expect(imds.requests.map { "\($0.method) \($0.path)" } == [
            "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/medsearch-node-role",
        ])
    }

    @Test func instanceMetadata_whenDisabled_makesNoRequest() async throws {
        let imds = try await LoopbackServer.start { _ in ScriptedResponse(status: 500) }
        defer { Task { await imds.stop() } }
        let found = try await InstanceMetadataCredentialsSource(
            environment: ["AWS_EC2_METADATA_DISABLED": "true", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL], transport: transport
        ).load()
        #expect(found == nil)
        #expect(imds.requests.isEmpty)
    }

    @Test func refreshingProvider_sharesOneFetchAmongConcurrentCallers_andRefreshesFiveMinutesEarly() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let source = CountingProvider(expiresAfter: 3600, now: { clock.withLock { $0 } })
        let provider = RefreshingCredentialsProvider(source, now: { clock.withLock { $0 } })

        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credentials().credentials.accessKeyId } }
            for try await id in group { #expect(id == "AKID1") }
        }
        #expect(source.fetches == 1)

        clock.withLock { $0 += 3600 - 301 }
        #expect(try await provider.credentials().credentials.accessKeyId == "AKID1")
        clock.withLock { $0 += 2 }
        #expect(try await provider.credentials().credentials.accessKeyId == "AKID2")
        #expect(source.fetches == 2)
    }

    @Test func refreshingProvider_doesNotCacheFailures() async throws {
        let source = CountingProvider(expiresAfter: 3600, now: { Date() }, failFirst: true)
        let provider = RefreshingCredentialsProvider(source)
        await #expect(throws: CredentialsError.self) { _ = try await provider.credentials() }
        #expect(try await provider.credentials().credentials.accessKeyId == "AKID2")
    }

    @Test func credentialsAndErrors_neverDescribeTheSecret() {
        let credentials = ExpiringCredentials(
            credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "very-secret-key", sessionToken: "very-secret-token"),
            source: "test")
        for text in [String(describing: credentials), String(reflecting: credentials.credentials)] {
            #expect(!text.contains("very-secret-key"))
            #expect(!text.contains("very-secret-token"))
        }
    }
}

/// Hands out AKID1, AKID2, … with an expiration, counting fetches; slow enough that
/// concurrent callers overlap with the first fetch.
private final class CountingProvider: CredentialsProvider {
    private let count = Mutex(0)
    let expiresAfter: TimeInterval
    let now: @Sendable () -> Date
    let failFirst: Bool

    init(expiresAfter: TimeInterval, now: @escaping @Sendable () -> Date, failFirst: Bool = false) {
        self.expiresAfter = expiresAfter
        self.now = now
        self.failFirst = failFirst
    }

    var fetches: Int { count.withLock { $0 } }

    func credentials() async throws -> ExpiringCredentials {
        let n = count.withLock { value in
            value += 1
            return value
        }
        await Task.yield()
        if failFirst && n == 1 { throw CredentialsError(source: "counting", message: "first fetch fails") }
        return ExpiringCredentials(
            credentials: AWSCredentials(accessKeyId: "AKID\(n)", secretAccessKey: "s"), expiration: now() + expiresAfter,
            source: "counting")
    }
}
