import HTTPTransport

/// The S3 bucket operations the operator uses; `S3Client` talks to AWS.
///
/// Get operations answer nil when the bucket has no such configuration (S3's
/// NoSuch…Configuration errors), so callers compare desired against nil without catching.
public protocol S3API: Sendable {
    func createBucket(_ bucket: String, tags: [AWSTag]) async throws(AWSError)
    func headBucket(_ bucket: String) async throws(AWSError) -> S3.BucketHead
    func putBucketVersioning(_ bucket: String, status: S3.VersioningStatus) async throws(AWSError)
    func getBucketVersioning(_ bucket: String) async throws(AWSError) -> S3.VersioningStatus?
    func putBucketEncryption(_ bucket: String, _ rule: S3.EncryptionRule) async throws(AWSError)
    func getBucketEncryption(_ bucket: String) async throws(AWSError) -> S3.EncryptionRule?
    func putPublicAccessBlock(_ bucket: String, _ block: S3.PublicAccessBlock) async throws(AWSError)
    func getPublicAccessBlock(_ bucket: String) async throws(AWSError) -> S3.PublicAccessBlock?
    func putBucketPolicy(_ bucket: String, policy: String) async throws(AWSError)
    func getBucketPolicy(_ bucket: String) async throws(AWSError) -> String?
    func putBucketLifecycleConfiguration(_ bucket: String, rules: [S3.LifecycleRule]) async throws(AWSError)
    func getBucketLifecycleConfiguration(_ bucket: String) async throws(AWSError) -> [S3.LifecycleRule]?
    func putBucketTagging(_ bucket: String, tags: [AWSTag]) async throws(AWSError)
    func getBucketTagging(_ bucket: String) async throws(AWSError) -> [AWSTag]?
    func listObjectsV2(_ bucket: String, prefix: String?, maxKeys: Int?, continuationToken: String?) async throws(AWSError) -> S3.ObjectList
    func deleteBucket(_ bucket: String) async throws(AWSError)
}

/// Shapes of the S3 API (2006-03-01) bucket configuration, only the fields used.
public enum S3 {
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    public struct BucketHead: Sendable, Equatable {
        /// From `x-amz-bucket-region`.
        public var region: String?
    }

    public enum VersioningStatus: String, Sendable, Equatable {
        case enabled = "Enabled"
        case suspended = "Suspended"
    }

    /// Default encryption: "AES256", "aws:kms" (with an optional key) or "aws:kms:dsse".
    public struct EncryptionRule: Sendable, Equatable {
        public var algorithm: String
        public var kmsKeyId: String?
        public var bucketKeyEnabled: Bool?
        public init(algorithm: String, kmsKeyId: String? = nil, bucketKeyEnabled: Bool? = nil) {
            self.algorithm = algorithm
            self.kmsKeyId = kmsKeyId
            self.bucketKeyEnabled = bucketKeyEnabled
        }
    }

    public struct PublicAccessBlock: Sendable, Equatable {
        public var blockPublicAcls: Bool
        public var ignorePublicAcls: Bool
        public var blockPublicPolicy: Bool
        public var restrictPublicBuckets: Bool
        public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
            self.blockPublicAcls = blockPublicAcls
            self.ignorePublicAcls = ignorePublicAcls
            self.blockPublicPolicy = blockPublicPolicy
            self.restrictPublicBuckets = restrictPublicBuckets
        }
        public static let blockAll = PublicAccessBlock(
            blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true)
    }

    public struct Transition: Sendable, Equatable {
        public var days: Int
        public var storageClass: String
        public init(days: Int, storageClass: String) {
            self.days = days
            self.storageClass = storageClass
        }
    }

    /// One lifecycle rule, filtered by key prefix ("" for the whole bucket).
    public struct LifecycleRule: Sendable, Equatable {
        public var id: String
        public var enabled: Bool
        public var prefix: String
        public var expirationDays: Int?
        public var transitions: [Transition]
        public var noncurrentVersionExpirationDays: Int?
        public var abortIncompleteMultipartUploadDays: Int?

        public init(
            id: String, enabled: Bool = true, prefix: String = "", expirationDays: Int? = nil,
            transitions: [Transition] = [], noncurrentVersionExpirationDays: Int? = nil,
            abortIncompleteMultipartUploadDays: Int? = nil
        ) {
            self.id = id
            self.enabled = enabled
            self.prefix = prefix
            self.expirationDays = expirationDays
            self.transitions = transitions
            self.noncurrentVersionExpirationDays = noncurrentVersionExpirationDays
            self.abortIncompleteMultipartUploadDays = abortIncompleteMultipartUploadDays
        }
    }

    public struct ObjectList: Sendable, Equatable {
        public var keys: [String]
        public var keyCount: Int
        public var isTruncated: Bool
        public var nextContinuationToken: String?
        public var isEmpty: Bool { keyCount == 0 && keys.isEmpty }
    }

    // MARK: XML bodies (pure, tested without a server)

    static func document(_ name: String, _ children: [XMLElement]) -> XMLElement {
        XMLElement(name, attributes: [(name: "xmlns", value: namespace)], children: children)
    }

    static func createBucketBody(region: String) -> XMLElement? {
        // us-east-1 is the default location and S3 rejects it as an explicit constraint.
        region == "us-east-1" ? nil : document("CreateBucketConfiguration", [XMLElement("LocationConstraint", region)])
    }

    static func versioningBody(_ status: VersioningStatus) -> XMLElement {
        document("VersioningConfiguration", [XMLElement("Status", status.rawValue)])
    }

    static func encryptionBody(_ rule: EncryptionRule) -> XMLElement {
        var byDefault = [XMLElement("SSEAlgorithm", rule.algorithm)]
        if let key = rule.kmsKeyId { byDefault.append(XMLElement("KMSMasterKeyID", key)) }
        var ruleChildren = [XMLElement("ApplyServerSideEncryptionByDefault", children: byDefault)]
        if let bucketKey = rule.bucketKeyEnabled { ruleChildren.append(XMLElement("BucketKeyEnabled", bucketKey ? "true" : "false")) }
        return document("ServerSideEncryptionConfiguration", [XMLElement("Rule", children: ruleChildren)])
    }

    static func publicAccessBlockBody(_ block: PublicAccessBlock) -> XMLElement {
        document(
            "PublicAccessBlockConfiguration",
            [
                XMLElement("BlockPublicAcls", block.blockPublicAcls ? "true" : "false"),
                XMLElement("IgnorePublicAcls", block.ignorePublicAcls ? "true" : "false"),
                XMLElement("BlockPublicPolicy", block.blockPublicPolicy ? "true" : "false"),
                XMLElement("RestrictPublicBuckets", block.restrictPublicBuckets ? "true" : "false"),
            ])
    }

    static func lifecycleBody(_ rules: [LifecycleRule]) -> XMLElement {
        document(
            "LifecycleConfiguration",
            rules.map { rule in
                // Model order: Expiration, ID, Filter, Status, Transition*, NoncurrentVersionExpiration, Abort…
                var children: [XMLElement] = []
                if let days = rule.expirationDays { children.append(XMLElement("Expiration", children: [XMLElement("Days", String(days))])) }
                children.append(XMLElement("ID", rule.id))
                children.append(XMLElement("Filter", children: [XMLElement("Prefix", text: rule.prefix)]))
                children.append(XMLElement("Status", rule.enabled ? "Enabled" : "Disabled"))
                for transition in rule.transitions {
                    children.append(
                        XMLElement(
                            "Transition",
                            children: [XMLElement("Days", String(transition.days)), XMLElement("StorageClass", transition.storageClass)]))
                }
                if let days = rule.noncurrentVersionExpirationDays {
                    children.append(XMLElement("NoncurrentVersionExpiration", children: [XMLElement("NoncurrentDays", String(days))]))
                }
                if let days = rule.abortIncompleteMultipartUploadDays {
                    children.append(
                        XMLElement("AbortIncompleteMultipartUpload", children: [XMLElement("DaysAfterInitiation", String(days))]))
                }
                return XMLElement("Rule", children: children)
            })
    }

    static func taggingBody(_ tags: [AWSTag]) -> XMLElement {
        document(
            "Tagging",
            [XMLElement("TagSet", children: tags.map { XMLElement("Tag", children: [XMLElement("Key", $0.key), XMLElement("Value", text: $0.value)]) })])
    }

    static func decodeLifecycle(_ root: XMLElement) -> [LifecycleRule] {
        root.children("Rule").map { rule in
            LifecycleRule(
                id: rule.string("ID") ?? "",
                enabled: rule.string("Status") == "Enabled",
                prefix: rule.child("Filter")?.string("Prefix") ?? rule.string("Prefix") ?? "",
                expirationDays: rule.child("Expiration")?.int("Days"),
                transitions: rule.children("Transition").compactMap { t in
                    t.int("Days").map { Transition(days: $0, storageClass: t.string("StorageClass") ?? "") }
                },
                noncurrentVersionExpirationDays: rule.child("NoncurrentVersionExpiration")?.int("NoncurrentDays"),
                abortIncompleteMultipartUploadDays: rule.child("AbortIncompleteMultipartUpload")?.int("DaysAfterInitiation"))
        }
    }
}

/// S3 over REST-XML; buckets are virtual-hosted on AWS and path-style on custom endpoints.
///
/// Every configuration PUT carries Content-MD5, which S3 requires for them
/// (`requestChecksumRequired` in the model).
public struct S3Client: S3API {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    @discardableResult
    private func send(
        _ operation: String, _ method: String, bucket: String, query: String = "", body: XMLElement? = nil,
        rawBody: [UInt8]? = nil, contentType: String = "application/xml"
    ) async throws(AWSError) -> HTTPResponse {
        let location = client.endpoints.s3BucketLocation(bucket)
        var headers: [(name: String, value: String)] = []
        var bytes: [UInt8] = []
        if let body { bytes = Array(body.serialized().utf8) } else if let rawBody { bytes = rawBody }
        if method == "PUT" && (body != nil || rawBody != nil) {
            headers.append((name: "Content-Type", value: contentType))
            headers.append((name: "Content-MD5", value: MD5.base64(bytes)))
        }
        return try await client.send(
            AWSRequest(
                service: .s3, operation: operation, method: method,
                path: location.pathPrefix.isEmpty ? "/" : location.pathPrefix, query: query, headers: headers,
                body: bytes, endpoint: location.endpoint))
    }

    /// Runs a Get, mapping "no such configuration" codes to nil.
    private func getConfiguration(
        _ operation: String, bucket: String, query: String, missingCodes: Set<String>
    ) async throws(AWSError) -> HTTPResponse? {
        do {
            return try await send(operation, "GET", bucket: bucket, query: query)
        } catch where missingCodes.contains(error.code) {
            return nil
        }
    }

    private func xml(_ response: HTTPResponse, _ operation: String) throws(AWSError) -> XMLElement {
        do {
            return try XMLElement.parse(response.body)
        } catch {
            throw AWSError(
                origin: .invalidResponse, service: "s3", operation: operation, code: "InvalidResponse",
                message: "response is not XML: \(error.message)", status: response.status)
        }
    }

    public func createBucket(_ bucket: String, tags: [AWSTag]) async throws(AWSError) {
        try await send("CreateBucket", "PUT", bucket: bucket, body: S3.createBucketBody(region: client.region))
        if !tags.isEmpty { try await putBucketTagging(bucket, tags: tags) }
    }

    public func headBucket(_ bucket: String) async throws(AWSError) -> S3.BucketHead {
        let response = try await send("HeadBucket", "HEAD", bucket: bucket)
        return S3.BucketHead(region: response.headers["x-amz-bucket-region"])
    }

    public func putBucketVersioning(_ bucket: String, status: S3.VersioningStatus) async throws(AWSError) {
        try await send("PutBucketVersioning", "PUT", bucket: bucket, query: "versioning", body: S3.versioningBody(status))
    }

    public func getBucketVersioning(_ bucket: String) async throws(AWSError) -> S3.VersioningStatus? {
        let response = try await send("GetBucketVersioning", "GET", bucket: bucket, query: "versioning")
        return try xml(response, "GetBucketVersioning").string("Status").flatMap(S3.VersioningStatus.init(rawValue:))
    }

    public func putBucketEncryption(_ bucket: String, _ rule: S3.EncryptionRule) async throws(AWSError) {
        try await send("PutBucketEncryption", "PUT", bucket: bucket, query: "encryption", body: S3.encryptionBody(rule))
    }

    public func getBucketEncryption(_ bucket: String) async throws(AWSError) -> S3.EncryptionRule? {
        guard
            let response = try await getConfiguration(
                "GetBucketEncryption", bucket: bucket, query: "encryption",
                missingCodes: ["ServerSideEncryptionConfigurationNotFoundError"])
        else { return nil }
        guard let rule = try xml(response, "GetBucketEncryption").child("Rule"),
            let byDefault = rule.child("ApplyServerSideEncryptionByDefault")
        else { return nil }
        return S3.EncryptionRule(
            algorithm: byDefault.string("SSEAlgorithm") ?? "", kmsKeyId: byDefault.string("KMSMasterKeyID"),
            bucketKeyEnabled: rule.bool("BucketKeyEnabled"))
    }

    public func putPublicAccessBlock(_ bucket: String, _ block: S3.PublicAccessBlock) async throws(AWSError) {
        try await send(
            "PutPublicAccessBlock", "PUT", bucket: bucket, query: "publicAccessBlock", body: S3.publicAccessBlockBody(block))
    }

    public func getPublicAccessBlock(_ bucket: String) async throws(AWSError) -> S3.PublicAccessBlock? {
        guard
            let response = try await getConfiguration(
                "GetPublicAccessBlock", bucket: bucket, query: "publicAccessBlock",
                missingCodes: ["NoSuchPublicAccessBlockConfiguration"])
        else { return nil }
        let root = try xml(response, "GetPublicAccessBlock")
        return S3.PublicAccessBlock(
            blockPublicAcls: root.bool("BlockPublicAcls") ?? false, ignorePublicAcls: root.bool("IgnorePublicAcls") ?? false,
            blockPublicPolicy: root.bool("BlockPublicPolicy") ?? false,
            restrictPublicBuckets: root.bool("RestrictPublicBuckets") ?? false)
    }

    public func putBucketPolicy(_ bucket: String, policy: String) async throws(AWSError) {
        try await send(
            "PutBucketPolicy", "PUT", bucket: bucket, query: "policy", rawBody: Array(policy.utf8),
            contentType: "application/json")
    }

    public func getBucketPolicy(_ bucket: String) async throws(AWSError) -> String? {
        guard
            let response = try await getConfiguration(
                "GetBucketPolicy", bucket: bucket, query: "policy", missingCodes: ["NoSuchBucketPolicy"])
        else { return nil }
        // The policy is the raw body (the model's payload is a string, not XML).
        return String(decoding: response.body, as: UTF8.self)
    }

    public func putBucketLifecycleConfiguration(_ bucket: String, rules: [S3.LifecycleRule]) async throws(AWSError) {
        try await send(
            "PutBucketLifecycleConfiguration", "PUT", bucket: bucket, query: "lifecycle", body: S3.lifecycleBody(rules))
    }

    public func getBucketLifecycleConfiguration(_ bucket: String) async throws(AWSError) -> [S3.LifecycleRule]? {
        guard
            let response = try await getConfiguration(
                "GetBucketLifecycleConfiguration", bucket: bucket, query: "lifecycle",
                missingCodes: ["NoSuchLifecycleConfiguration"])
        else { return nil }
        return S3.decodeLifecycle(try xml(response, "GetBucketLifecycleConfiguration"))
    }

    public func putBucketTagging(_ bucket: String, tags: [AWSTag]) async throws(AWSError) {
        try await send("PutBucketTagging", "PUT", bucket: bucket, query: "tagging", body: S3.taggingBody(tags))
    }

    public func getBucketTagging(_ bucket: String) async throws(AWSError) -> [AWSTag]? {
        guard
            let response = try await getConfiguration(
                "GetBucketTagging", bucket: bucket, query: "tagging", missingCodes: ["NoSuchTagSet", "NoSuchTagSetError"])
        else { return nil }
        return RDS.decodeTags(try xml(response, "GetBucketTagging").child("TagSet"))
    }

    public func listObjectsV2(
        _ bucket: String, prefix: String?, maxKeys: Int?, continuationToken: String?
    ) async throws(AWSError) -> S3.ObjectList {
        let response = try await send(
            "ListObjectsV2", "GET", bucket: bucket,
            query: S3Client.listQuery(prefix: prefix, maxKeys: maxKeys, continuationToken: continuationToken))
        let root = try xml(response, "ListObjectsV2")
        let keys = root.children("Contents").compactMap { $0.string("Key") }
        return S3.ObjectList(
            keys: keys, keyCount: root.int("KeyCount") ?? keys.count, isTruncated: root.bool("IsTruncated") ?? false,
            nextContinuationToken: root.string("NextContinuationToken"))
    }

    /// Sorted by name, as SigV4 canonicalises them anyway.
    static func listQuery(prefix: String?, maxKeys: Int?, continuationToken: String?) -> String {
        var pairs: [(String, String)] = []
        if let continuationToken { pairs.append(("continuation-token", continuationToken)) }
        pairs.append(("list-type", "2"))
        if let maxKeys { pairs.append(("max-keys", String(maxKeys))) }
        if let prefix { pairs.append(("prefix", prefix)) }
        return AWSPercentEncoding.form(pairs)
    }

    public func deleteBucket(_ bucket: String) async throws(AWSError) {
        try await send("DeleteBucket", "DELETE", bucket: bucket)
    }
}
