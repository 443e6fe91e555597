import AWSSigning
import Foundation
import HTTPTransport
import JSON

/// Credentials with the time they stop working (nil: long-term keys).
public struct ExpiringCredentials: Sendable, Equatable, CustomStringConvertible {
    public var credentials: AWSCredentials
    public var expiration: Date?
    /// Which source produced them ("environment", "profile default", "web identity", …).
    public var source: String

    public init(credentials: AWSCredentials, expiration: Date? = nil, source: String) {
        self.credentials = credentials
        self.expiration = expiration
        self.source = source
    }

    public var description: String {
        "credentials from \(source)" + (expiration.map { ", expiring \($0)" } ?? "")
    }
}

/// What service clients ask for credentials; the chain and its cache implement it.
public protocol CredentialsProvider: Sendable {
    func credentials() async throws -> ExpiringCredentials
}

/// One link of the credentials chain.
///
/// Returns nil when the source is not configured (the chain moves on); throws when it is
/// configured but fails (the chain stops, as the SDKs do, so a broken IRSA setup is not
/// silently replaced by the node's instance role).
public protocol CredentialsSource: Sendable {
    var name: String { get }
    func load() async throws -> ExpiringCredentials?
}

/// Why credentials could not be obtained. Never carries key material.
public struct CredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var message: String

    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "credentials (\(source)): \(message)" }
}

/// Fixed credentials, for tests and explicit configuration.
public struct StaticCredentialsProvider: CredentialsProvider {
    public let value: ExpiringCredentials
    public init(_ credentials: AWSCredentials) { value = ExpiringCredentials(credentials: credentials, source: "static") }
    public func credentials() async throws -> ExpiringCredentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialsSource: CredentialsSource {
    public let environment: [String: String]
    public var name: String { "environment" }
    public init(environment: [String: String]) { self.environment = environment }

    public func load() async throws -> ExpiringCredentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else { return nil }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw CredentialsError(source: name, message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return ExpiringCredentials(
            credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token), source: name)
    }
}

/// Static keys from the selected profile of the shared credentials/config files.
public struct ProfileCredentialsSource: CredentialsSource {
    public let config: SharedConfig
    public var name: String { "profile \(config.profileName)" }
    public init(config: SharedConfig) { self.config = config }

    public func load() async throws -> ExpiringCredentials? {
        guard let id = config["aws_access_key_id"], !id.isEmpty else { return nil }
        guard let secret = config["aws_secret_access_key"], !secret.isEmpty else {
            throw CredentialsError(source: name, message: "aws_access_key_id is set but aws_secret_access_key is not")
        }
        return ExpiringCredentials(
            credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: config["aws_session_token"]),
            source: name)
    }
}

/// IRSA: exchanges the projected service-account token for role credentials through STS
/// AssumeRoleWithWebIdentity, an unsigned call.
///
/// Configured by `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (optionally
/// `AWS_ROLE_SESSION_NAME`), or `role_arn` + `web_identity_token_file` in the profile.
/// The token file is read on every load because the kubelet rotates it.
public struct WebIdentityCredentialsSource: CredentialsSource {
    public let roleArn: String?
    public let tokenFile: String?
    public let sessionName: String
    public let stsEndpoint: AWSEndpoint
    public let transport: HTTPTransport
    public var name: String { "web identity" }

    public init(
        environment: [String: String], sharedConfig: SharedConfig, stsEndpoint: AWSEndpoint, transport: HTTPTransport
    ) {
        roleArn = environment["AWS_ROLE_ARN"] ?? sharedConfig["role_arn"]
        tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"] ?? sharedConfig["web_identity_token_file"]
        sessionName =
            environment["AWS_ROLE_SESSION_NAME"] ?? sharedConfig["role_session_name"]
            ?? "medsearch-operator-\(Int(Date().timeIntervalSince1970))"
        self.stsEndpoint = stsEndpoint
        self.transport = transport
    }

    public func load() async throws -> ExpiringCredentials? {
        guard let roleArn, !roleArn.isEmpty, let tokenFile, !tokenFile.isEmpty else { return nil }
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CredentialsError(source: name, message: "cannot read the token file \(tokenFile)")
        }
        let body = AWSPercentEncoding.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", AWSService.sts.apiVersion), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ])
        let request = HTTPRequest(
            method: "POST", url: stsEndpoint.baseURL + "/",
            headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"], body: Array(body.utf8),
            timeout: .seconds(10), maxResponseBodyBytes: 1 << 20)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as HTTPTransportError {
            throw CredentialsError(source: name, message: "STS unreachable: \(error.kind.rawValue)")
        }
        guard (200..<300).contains(response.status) else {
            let error = AWSErrorResponse.parse(response, service: "sts", operation: "AssumeRoleWithWebIdentity")
            throw CredentialsError(source: name, message: "STS refused the token: \(error.code) \(error.message)")
        }
        guard let root = try? XMLElement.parse(response.body),
            let result = root.child("AssumeRoleWithWebIdentityResult"),
            let credentials = STSCredentialsXML.decode(result.child("Credentials"))
        else { throw CredentialsError(source: name, message: "STS answered with an unexpected body") }
        return ExpiringCredentials(credentials: credentials.0, expiration: credentials.1, source: name)
    }
}

enum STSCredentialsXML {
    static func decode(_ element: XMLElement?) -> (AWSCredentials, Date?)? {
        guard let element, let id = element.string("AccessKeyId"), let secret = element.string("SecretAccessKey")
        else { return nil }
        return (
            AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: element.string("SessionToken")),
            element.string("Expiration").flatMap(AWSTimestamp.parse)
        )
    }
}

/// ISO 8601 timestamps as AWS writes them, with or without fractional seconds.
public enum AWSTimestamp {
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingXMLWhitespace()
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: trimmed) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: trimmed) { return date }
        // Epoch seconds, as JSON protocols send them.
        return Double(trimmed).map { Date(timeIntervalSince1970: $0) }
    }
}

/// Parses the JSON both the container endpoint and IMDS return for role credentials.
enum RoleCredentialsJSON {
    static func decode(_ body: [UInt8], source: String) throws -> ExpiringCredentials {
        guard let json = try? JSONValue.parse(body), let id = json["AccessKeyId"].stringValue,
            let secret = json["SecretAccessKey"].stringValue
        else { throw CredentialsError(source: source, message: "unexpected credentials document") }
        if let code = json["Code"].stringValue, code != "Success" {
            throw CredentialsError(source: source, message: "credentials document reports \(code)")
        }
        return ExpiringCredentials(
            credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: json["Token"].stringValue),
            expiration: json["Expiration"].stringValue.flatMap(AWSTimestamp.parse), source: source)
    }
}

/// ECS task roles and EKS Pod Identity: credentials from an HTTP endpoint in the pod's
/// environment.
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is appended to http://169.254.170.2;
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` is used as is, and must be https, loopback or one of
/// the ECS/EKS link-local agents (as the SDKs require, so the token is never sent elsewhere).
/// The Authorization value is read from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` on each load
/// (EKS rotates it), else `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialsSource: CredentialsSource {
    public let environment: [String: String]
    public let transport: HTTPTransport
    public var name: String { "container credentials" }

    public init(environment: [String: String], transport: HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    static let allowedHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]

    /// The credentials URL the environment names, nil when none; throws for a full URI the
    /// SDKs would refuse. The relative URI wins, as in the SDKs.
    public static func credentialsURL(environment: [String: String]) throws -> String? {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else { return nil }
        guard let endpoint = AWSEndpoint(url: full) else {
            throw CredentialsError(source: "container credentials", message: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
        }
        var host = endpoint.hostAndPort
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[...close])
        } else if let colon = host.firstIndex(of: ":") {
            host = String(host[..<colon])
        }
        guard endpoint.scheme == "https" || allowedHTTPHosts.contains(host) || host.hasPrefix("127.") else {
            throw CredentialsError(
                source: "container credentials",
                message: "AWS_CONTAINER_CREDENTIALS_FULL_URI over http must point at loopback or the ECS/EKS agent")
        }
        return full
    }

    public func load() async throws -> ExpiringCredentials? {
        guard let url = try Self.credentialsURL(environment: environment) else { return nil }
        var headers = HTTPHeaders()
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CredentialsError(source: name, message: "cannot read the authorization token file \(file)")
            }
            headers.add(name: "Authorization", value: token.trimmingCharacters(in: .whitespacesAndNewlines))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.add(name: "Authorization", value: token)
        }
        let response: HTTPResponse
        do {
            response = try await transport.send(
                HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5), maxResponseBodyBytes: 1 << 16))
        } catch let error as HTTPTransportError {
            throw CredentialsError(source: name, message: "endpoint unreachable: \(error.kind.rawValue)")
        }
        guard response.status == 200 else {
            throw CredentialsError(source: name, message: "endpoint answered HTTP \(response.status)")
        }
        return try RoleCredentialsJSON.decode(response.body, source: name)
    }
}

/// EC2 instance metadata (IMDSv2): a session token by PUT, then the role's credentials.
///
/// Endpoint `AWS_EC2_METADATA_SERVICE_ENDPOINT` (default http://169.254.169.254); disabled by
/// `AWS_EC2_METADATA_DISABLED=true`; each call waits `AWS_METADATA_SERVICE_TIMEOUT` seconds
/// (default 1, as in the SDKs). An unreachable service means "not on EC2": nil, not an
/// error, so the chain ends with a clear "no credentials" instead.
public struct InstanceMetadataCredentialsSource: CredentialsSource {
    public let environment: [String: String]
    public let transport: HTTPTransport
    public var name: String { "instance metadata" }

    public init(environment: [String: String], transport: HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    /// `AWS_METADATA_SERVICE_TIMEOUT` in seconds, else the SDKs' default of one second.
    var callTimeout: Duration {
        guard let text = environment["AWS_METADATA_SERVICE_TIMEOUT"], let seconds = Double(text), seconds > 0 else {
            return .seconds(1)
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    public func load() async throws -> ExpiringCredentials? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        var base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await transport.send(
                HTTPRequest(
                    method: "PUT", url: base + "/latest/api/token",
                    headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"], body: [], timeout: callTimeout,
                    maxResponseBodyBytes: 4096))
        } catch is HTTPTransportError {
            return nil
        }
        guard tokenResponse.status == 200 else {
            if tokenResponse.status == 403 || tokenResponse.status == 404 { return nil }
            throw CredentialsError(source: name, message: "token request answered HTTP \(tokenResponse.status)")
        }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let headers: HTTPHeaders = ["X-aws-ec2-metadata-token": token]
        let rolesPath = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try await get(rolesPath, headers: headers)
        guard roles.status == 200 else {
            if roles.status == 404 { return nil }  // no instance profile attached
            throw CredentialsError(source: name, message: "role lookup answered HTTP \(roles.status)")
        }
        guard let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            return nil
        }
        let credentials = try await get(rolesPath + AWSPercentEncoding.encode(String(role)), headers: headers)
        guard credentials.status == 200 else {
            throw CredentialsError(source: name, message: "credentials answered HTTP \(credentials.status)")
        }
        return try RoleCredentialsJSON.decode(credentials.body, source: name)
    }

    private func get(_ url: String, headers: HTTPHeaders) async throws -> HTTPResponse {
        do {
            return try await transport.send(
                HTTPRequest(method: "GET", url: url, headers: headers, timeout: max(callTimeout, .seconds(2)), maxResponseBodyBytes: 1 << 16))
        } catch let error as HTTPTransportError {
            throw CredentialsError(source: name, message: "metadata service unreachable: \(error.kind.rawValue)")
        }
    }
}

/// Tries each source in order and returns the first credentials found.
public struct CredentialsChain: CredentialsProvider {
    public let sources: [any CredentialsSource]

    public init(sources: [any CredentialsSource]) { self.sources = sources }

    /// The SDKs' order: environment, shared files, web identity, container, instance metadata.
    public static func standard(
        environment: [String: String], sharedConfig: SharedConfig, stsEndpoint: AWSEndpoint, transport: HTTPTransport
    ) -> CredentialsChain {
        CredentialsChain(sources: [
            EnvironmentCredentialsSource(environment: environment),
            ProfileCredentialsSource(config: sharedConfig),
            WebIdentityCredentialsSource(
                environment: environment, sharedConfig: sharedConfig, stsEndpoint: stsEndpoint, transport: transport),
            ContainerCredentialsSource(environment: environment, transport: transport),
            InstanceMetadataCredentialsSource(environment: environment, transport: transport),
        ])
    }

    public func credentials() async throws -> ExpiringCredentials {
        for source in sources {
            if let found = try await source.load() { return found }
        }
        throw CredentialsError(
            source: "chain", message: "no credentials found (tried \(sources.map(\.name).joined(separator: ", ")))")
    }
}

/// Caches another provider's credentials and refreshes them before they expire.
///
/// Guarantees: credentials are reused until `refreshMargin` (default 5 minutes) before their
/// expiration; concurrent callers during a refresh wait for the same single fetch; a failed
/// refresh is not cached, so the next call tries again.
public actor RefreshingCredentialsProvider: CredentialsProvider {
    private let base: any CredentialsProvider
    private let refreshMargin: Duration
    private let now: @Sendable () -> Date
    private var cached: ExpiringCredentials?
    private var inFlight: Task<ExpiringCredentials, any Error>?

    public init(
        _ base: any CredentialsProvider, refreshMargin: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.refreshMargin = refreshMargin
        self.now = now
    }

    public func credentials() async throws -> ExpiringCredentials {
        if let cached, isFresh(cached) { return cached }
        if let inFlight { return try await inFlight.value }
        let base = self.base
        let task = Task { try await base.credentials() }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }

    private func isFresh(_ credentials: ExpiringCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        let margin = Double(refreshMargin.components.seconds) + Double(refreshMargin.components.attoseconds) / 1e18
        return now().addingTimeInterval(margin) < expiration
    }
}
