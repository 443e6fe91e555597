import JSON

/// The Secrets Manager operations the operator uses; `SecretsManagerClient` talks to AWS.
public protocol SecretsManagerAPI: Sendable {
    func createSecret(_ input: SecretsManager.CreateSecretInput) async throws(AWSError) -> SecretsManager.SecretReference
    func getSecretValue(id: String) async throws(AWSError) -> SecretsManager.SecretValue
    func putSecretValue(id: String, secretString: String) async throws(AWSError) -> SecretsManager.SecretReference
    func describeSecret(id: String) async throws(AWSError) -> SecretsManager.SecretDescription
    func tagResource(id: String, tags: [AWSTag]) async throws(AWSError)
    /// `recoveryWindowInDays` nil deletes without recovery (ForceDeleteWithoutRecovery).
    func deleteSecret(id: String, recoveryWindowInDays: Int?) async throws(AWSError) -> SecretsManager.SecretReference
    func getRandomPassword(_ input: SecretsManager.RandomPasswordInput) async throws(AWSError) -> SecretsManager.Password
}

/// Shapes of the Secrets Manager API (2017-10-17), only the fields used.
public enum SecretsManager {
    /// X-Amz-Target prefix of every operation.
    static let targetPrefix = "secretsmanager"

    public struct CreateSecretInput: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        public var name: String
        /// The secret's human-readable description (the API's `Description`).
        public var secretDescription: String?
        public var kmsKeyId: String?
        /// The secret itself; never logged or described.
        public var secretString: String
        public var tags: [AWSTag]
        /// Idempotency token; a retried create with the same token is not a duplicate.
        public var clientRequestToken: String?

        public init(
            name: String, secretDescription: String? = nil, kmsKeyId: String? = nil, secretString: String,
            tags: [AWSTag] = [], clientRequestToken: String? = nil
        ) {
            self.name = name
            self.secretDescription = secretDescription
            self.kmsKeyId = kmsKeyId
            self.secretString = secretString
            self.tags = tags
            self.clientRequestToken = clientRequestToken
        }

        public var description: String { "CreateSecretInput(\(name), value redacted)" }
        public var debugDescription: String { description }
    }

    public struct SecretReference: Sendable, Equatable {
        public var arn: String
        public var name: String
        public var versionId: String?
    }

    /// A secret's current value. `description` hides `secretString`.
    public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        public var arn: String
        public var name: String
        public var versionId: String?
        public var secretString: String?
        public var description: String { "SecretValue(\(name), version \(versionId ?? "-"), value redacted)" }
        public var debugDescription: String { description }
    }

    public struct SecretDescription: Sendable, Equatable {
        public var arn: String
        public var name: String
        public var secretDescription: String?
        public var kmsKeyId: String?
        public var tags: [AWSTag]
        /// Set while the secret is scheduled for deletion.
        public var deletedDate: Double?
    }

    public struct RandomPasswordInput: Sendable, Equatable {
        public var length: Int
        public var excludeCharacters: String?
        public var excludePunctuation: Bool?
        public var includeSpace: Bool?
        public var requireEachIncludedType: Bool?
        public init(
            length: Int, excludeCharacters: String? = nil, excludePunctuation: Bool? = nil, includeSpace: Bool? = nil,
            requireEachIncludedType: Bool? = nil
        ) {
            self.length = length
            self.excludeCharacters = excludeCharacters
            self.excludePunctuation = excludePunctuation
            self.includeSpace = includeSpace
            self.requireEachIncludedType = requireEachIncludedType
        }
    }

    /// A generated password; `description` hides it.
    public struct Password: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        public var value: String
        public var description: String { "Password(\(value.count) characters, redacted)" }
        public var debugDescription: String { description }
    }

    static func tagsJSON(_ tags: [AWSTag]) -> JSONValue {
        .array(tags.map { ["Key": .string($0.key), "Value": .string($0.value)] })
    }

    static func body(_ input: CreateSecretInput) -> JSONValue {
        var body: JSONValue = ["Name": .string(input.name), "SecretString": .string(input.secretString)]
        if let text = input.secretDescription { body["Description"] = .string(text) }
        if let key = input.kmsKeyId { body["KmsKeyId"] = .string(key) }
        if let token = input.clientRequestToken { body["ClientRequestToken"] = .string(token) }
        if !input.tags.isEmpty { body["Tags"] = tagsJSON(input.tags) }
        return body
    }

    static func body(_ input: RandomPasswordInput) -> JSONValue {
        var body: JSONValue = ["PasswordLength": .int(Int64(input.length))]
        if let chars = input.excludeCharacters { body["ExcludeCharacters"] = .string(chars) }
        if let flag = input.excludePunctuation { body["ExcludePunctuation"] = .bool(flag) }
        if let flag = input.includeSpace { body["IncludeSpace"] = .bool(flag) }
        if let flag = input.requireEachIncludedType { body["RequireEachIncludedType"] = .bool(flag) }
        return body
    }

    static func deleteBody(id: String, recoveryWindowInDays: Int?) -> JSONValue {
        var body: JSONValue = ["SecretId": .string(id)]
        if let days = recoveryWindowInDays {
            body["RecoveryWindowInDays"] = .int(Int64(days))
        } else {
            body["ForceDeleteWithoutRecovery"] = .bool(true)
        }
        return body
    }

    static func reference(_ json: JSONValue) -> SecretReference {
        SecretReference(
            arn: json["ARN"].stringValue ?? "", name: json["Name"].stringValue ?? "", versionId: json["VersionId"].stringValue)
    }
}

/// Secrets Manager over AWS JSON 1.1.
public struct SecretsManagerClient: SecretsManagerAPI {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    private func call(_ operation: String, _ body: JSONValue) async throws(AWSError) -> JSONValue {
        try await client.json(.secretsManager, targetPrefix: SecretsManager.targetPrefix, operation, body)
    }

    public func createSecret(
        _ input: SecretsManager.CreateSecretInput
    ) async throws(AWSError) -> SecretsManager.SecretReference {
        SecretsManager.reference(try await call("CreateSecret", SecretsManager.body(input)))
    }

    public func getSecretValue(id: String) async throws(AWSError) -> SecretsManager.SecretValue {
        let json = try await call("GetSecretValue", ["SecretId": .string(id)])
        return SecretsManager.SecretValue(
            arn: json["ARN"].stringValue ?? "", name: json["Name"].stringValue ?? "",
            versionId: json["VersionId"].stringValue, secretString: json["SecretString"].stringValue)
    }

    public func putSecretValue(id: String, secretString: String) async throws(AWSError) -> SecretsManager.SecretReference {
        SecretsManager.reference(
            try await call("PutSecretValue", ["SecretId": .string(id), "SecretString": .string(secretString)]))
    }

    public func describeSecret(id: String) async throws(AWSError) -> SecretsManager.SecretDescription {
        let json = try await call("DescribeSecret", ["SecretId": .string(id)])
        return SecretsManager.SecretDescription(
            arn: json["ARN"].stringValue ?? "", name: json["Name"].stringValue ?? "",
            secretDescription: json["Description"].stringValue, kmsKeyId: json["KmsKeyId"].stringValue,
            tags: (json["Tags"].arrayValue ?? []).map {
                AWSTag(key: $0["Key"].stringValue ?? "", value: $0["Value"].stringValue ?? "")
            },
            deletedDate: json["DeletedDate"].doubleValue)
    }

    public func tagResource(id: String, tags: [AWSTag]) async throws(AWSError) {
        _ = try await call("TagResource", ["SecretId": .string(id), "Tags": SecretsManager.tagsJSON(tags)])
    }

    public func deleteSecret(id: String, recoveryWindowInDays: Int?) async throws(AWSError) -> SecretsManager.SecretReference {
        SecretsManager.reference(
            try await call("DeleteSecret", SecretsManager.deleteBody(id: id, recoveryWindowInDays: recoveryWindowInDays)))
    }

    public func getRandomPassword(_ input: SecretsManager.RandomPasswordInput) async throws(AWSError) -> SecretsManager.Password {
        let json = try await call("GetRandomPassword", SecretsManager.body(input))
        guard let value = json["RandomPassword"].stringValue else {
            throw AWSError(
                origin: .invalidResponse, service: "secretsmanager", operation: "GetRandomPassword",
                code: "InvalidResponse", message: "no RandomPassword in the response")
        }
        return SecretsManager.Password(value: value)
    }
}
