import AWSSigning
import Foundation

/// The STS operations the operator uses; `STSClient` talks to AWS.
public protocol STSAPI: Sendable {
    func getCallerIdentity() async throws(AWSError) -> STS.CallerIdentity
    func assumeRoleWithWebIdentity(_ input: STS.AssumeRoleWithWebIdentityInput) async throws(AWSError) -> ExpiringCredentials
}

/// Shapes of the STS API (2011-06-15), only the fields used.
public enum STS {
    public struct CallerIdentity: Sendable, Equatable {
        public var account: String
        public var arn: String
        public var userId: String
    }

    public struct AssumeRoleWithWebIdentityInput: Sendable, Equatable, CustomStringConvertible {
        public var roleArn: String
        public var sessionName: String
        /// The OIDC token; never logged or described.
        public var webIdentityToken: String
        public var durationSeconds: Int?
        public init(roleArn: String, sessionName: String, webIdentityToken: String, durationSeconds: Int? = nil) {
            self.roleArn = roleArn
            self.sessionName = sessionName
            self.webIdentityToken = webIdentityToken
            self.durationSeconds = durationSeconds
        }
        public var description: String { "AssumeRoleWithWebIdentity(\(roleArn), session \(sessionName), token redacted)" }
    }

    static func parameters(_ input: AssumeRoleWithWebIdentityInput) -> QueryParameters {
        var p = QueryParameters(action: "AssumeRoleWithWebIdentity", version: AWSService.sts.apiVersion)
        p.add("RoleArn", input.roleArn)
        p.add("RoleSessionName", input.sessionName)
        p.add("WebIdentityToken", input.webIdentityToken)
        p.add("DurationSeconds", input.durationSeconds)
        return p
    }
}

/// STS over the Query protocol.
public struct STSClient: STSAPI {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public func getCallerIdentity() async throws(AWSError) -> STS.CallerIdentity {
        let result = try await client.query(
            .sts, QueryParameters(action: "GetCallerIdentity", version: AWSService.sts.apiVersion))
        return STS.CallerIdentity(
            account: result.string("Account") ?? "", arn: result.string("Arn") ?? "", userId: result.string("UserId") ?? "")
    }

    /// Unsigned, as the web identity token is the proof of identity.
    public func assumeRoleWithWebIdentity(
        _ input: STS.AssumeRoleWithWebIdentityInput
    ) async throws(AWSError) -> ExpiringCredentials {
        let parameters = STS.parameters(input)
        let response = try await client.send(
            AWSRequest(
                service: .sts, operation: "AssumeRoleWithWebIdentity", method: "POST", path: "/",
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")],
                body: Array(parameters.encoded.utf8), unsigned: true))
        guard let root = try? XMLElement.parse(response.body),
            let decoded = STSCredentialsXML.decode(root.child("AssumeRoleWithWebIdentityResult")?.child("Credentials"))
        else {
            throw AWSError(
                origin: .invalidResponse, service: "sts", operation: "AssumeRoleWithWebIdentity", code: "InvalidResponse",
                message: "no Credentials in the response", status: response.status)
        }
        return ExpiringCredentials(credentials: decoded.0, expiration: decoded.1, source: "web identity")
    }
}
