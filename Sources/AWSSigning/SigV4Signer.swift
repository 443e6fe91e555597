import Foundation
import TLS

/// Hex SHA-256, the only digest form SigV4 uses.
enum SHA256Hex {
    static func of(_ bytes: some Sequence<UInt8>) -> String { SHA256.hash(bytes).hexEncodedString }
    static func of(_ text: String) -> String { SHA256.hash(text).hexEncodedString }
}

/// Signs requests with AWS Signature Version 4; a pure value type with the date passed in.
///
/// Guarantees: the canonical request follows the published algorithm, checked against AWS's
/// SigV4 test suite and the S3 examples: header names lowercased and sorted, values trimmed
/// with inner whitespace runs collapsed, repeated headers joined with ","; query parameters
/// decoded, re-encoded and sorted; the path normalised and encoded a second time for every
/// service except S3, and encoded once and left unnormalised for S3.
/// Caveats: chunked (aws-chunked) uploads are not supported; sign with `.unsigned` or a
/// precomputed hash instead. Headers that proxies and HTTP clients rewrite (User-Agent,
/// Expect, Connection, Transfer-Encoding, X-Amzn-Trace-Id) are never signed.
public struct SigV4Signer: Sendable {
    /// How a service canonicalises requests; `init(credentials:region:service:)` picks the
    /// right one from the service name.
    public struct Options: Sendable, Equatable {
        /// Encode the already-encoded path again. Default true; false for S3.
        public var doubleEncodePath: Bool
        /// Remove "." / ".." and repeated slashes from the path. Default true; false for S3,
        /// where they are part of object keys.
        public var normalizePath: Bool
        /// Send and sign X-Amz-Content-Sha256 (S3 requires it). Default false; true for S3.
        public var addContentSHA256Header: Bool
        /// Sign X-Amz-Security-Token; when false it is added after signing, as a few services
        /// (IoT) require. Default true.
        public var signSessionToken: Bool

        public init(
            doubleEncodePath: Bool = true, normalizePath: Bool = true, addContentSHA256Header: Bool = false,
            signSessionToken: Bool = true
        ) {
            self.doubleEncodePath = doubleEncodePath
            self.normalizePath = normalizePath
            self.addContentSHA256Header = addContentSHA256Header
            self.signSessionToken = signSessionToken
        }

        /// S3 and S3-compatible stores.
        public static let s3 = Options(doubleEncodePath: false, normalizePath: false, addContentSHA256Header: true)

        public static func forService(_ service: String) -> Options {
            service == "s3" || service == "s3-object-lambda" || service == "s3express" ? .s3 : Options()
        }
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Lowercased names that are never signed, because something between us and AWS may change them.
    static let unsignableHeaders: Set<String> = [
        "authorization", "user-agent", "x-amzn-trace-id", "expect", "connection", "transfer-encoding",
    ]

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    public let options: Options

    public init(credentials: AWSCredentials, region: String, service: String, options: Options? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? .forService(service)
    }

    /// Signs `request` as of `date` for the Authorization header.
    public func sign(_ request: SignableRequest, date: Date) -> SignedRequest {
        let timestamp = SigV4Timestamp(date)
        let payloadHash = request.payload.hashValue

        // Headers the signer owns replace any the caller set, so a re-signed request (retry)
        // does not carry two dates or two signatures.
        var owned: Set<String> = ["authorization", "x-amz-date"]
        if credentials.sessionToken != nil { owned.insert("x-amz-security-token") }
        if options.addContentSHA256Header { owned.insert("x-amz-content-sha256") }
        var headers = request.headers.filter { !owned.contains($0.name.lowercased()) }

        var added: [(name: String, value: String)] = []
        if options.addContentSHA256Header { added.append((name: "X-Amz-Content-Sha256", value: payloadHash)) }
        added.append((name: "X-Amz-Date", value: timestamp.long))
        var unsignedToken: (name: String, value: String)?
        if let token = credentials.sessionToken {
            if options.signSessionToken {
                added.append((name: "X-Amz-Security-Token", value: token))
            } else {
                unsignedToken = (name: "X-Amz-Security-Token", value: token)
            }
        }
        headers += added

        let canonical = canonicalHeaders(headers)
        let canonicalRequest = [
            request.method.uppercased(),
            canonicalPath(request.path),
            canonicalQuery(request.query, adding: []),
            canonical.block,
            canonical.signedNames,
            payloadHash,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest, timestamp)
        let signature = self.signature(of: stringToSign, timestamp)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(timestamp.scope(region, service)), SignedHeaders=\(canonical.signedNames), Signature=\(signature)"

        var headersToAdd = added
        if let unsignedToken { headersToAdd.append(unsignedToken) }
        headersToAdd.append((name: "Authorization", value: authorization))
        return SignedRequest(
            headers: request.headers.filter { !owned.contains($0.name.lowercased()) } + headersToAdd,
            addedHeaders: headersToAdd,
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    /// Signs `request` into its query string (a presigned URL) valid for `expiresIn` seconds.
    ///
    /// For S3 the payload is normally `.unsigned`: whoever uses the URL sends the body.
    public func presign(_ request: SignableRequest, date: Date, expiresIn seconds: Int) -> PresignedRequest {
        let timestamp = SigV4Timestamp(date)
        let headers = request.headers.filter { !["authorization", "x-amz-date"].contains($0.name.lowercased()) }
        let canonical = canonicalHeaders(headers)
        var parameters: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(timestamp.scope(region, service))"),
            ("X-Amz-Date", timestamp.long),
            ("X-Amz-Expires", String(seconds)),
            ("X-Amz-SignedHeaders", canonical.signedNames),
        ]
        if let token = credentials.sessionToken, options.signSessionToken {
            parameters.append(("X-Amz-Security-Token", token))
        }
        let query = canonicalQuery(request.query, adding: parameters)
        let canonicalRequest = [
            request.method.uppercased(),
            canonicalPath(request.path),
            query,
            canonical.block,
            canonical.signedNames,
            request.payload.hashValue,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest, timestamp)
        let signature = self.signature(of: stringToSign, timestamp)
        var finalQuery = query + "&X-Amz-Signature=" + signature
        if let token = credentials.sessionToken, !options.signSessionToken {
            finalQuery += "&X-Amz-Security-Token=" + SigV4Encoding.encode(token, keepSlash: false)
        }
        return PresignedRequest(
            path: request.path.isEmpty ? "/" : request.path, query: finalQuery,
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    // MARK: canonical forms

    func canonicalPath(_ path: String) -> String {
        let path = path.isEmpty ? "/" : path
        if options.doubleEncodePath {
            // The path is already encoded for the wire; encoding it again is what the
            // services other than S3 compare against.
            return SigV4Encoding.encode(options.normalizePath ? SigV4Encoding.normalizePath(path) : path, keepSlash: true)
        }
        // S3: decode whatever encoding the caller used and encode once, SigV4's way.
        let once = SigV4Encoding.encode(SigV4Encoding.decode(path), keepSlash: true)
        return options.normalizePath ? SigV4Encoding.normalizePath(once) : once
    }

    func canonicalQuery(_ query: String, adding extra: [(String, String)]) -> String {
        var pairs: [(name: String, value: String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = SigV4Encoding.encode(SigV4Encoding.decode(String(parts[0])), keepSlash: false)
            let value = parts.count > 1 ? SigV4Encoding.encode(SigV4Encoding.decode(String(parts[1])), keepSlash: false) : ""
            pairs.append((name, value))
        }
        for (name, value) in extra {
            pairs.append((SigV4Encoding.encode(name, keepSlash: false), SigV4Encoding.encode(value, keepSlash: false)))
        }
        // Encoded text is ASCII, so comparing UTF-8 bytes is the code-point order SigV4 asks for.
        pairs.sort { lhs, rhs in
            lhs.name == rhs.name
                ? lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
                : lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
        }
        return pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signedNames: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased().trimmingCharacters(in: .whitespaces)
            guard !Self.unsignableHeaders.contains(key) else { continue }
            values[key, default: []].append(Self.canonicalHeaderValue(value))
        }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Trims the value and collapses each run of whitespace (folded lines included) to one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: signing

    private func stringToSign(_ canonicalRequest: String, _ timestamp: SigV4Timestamp) -> String {
        [Self.algorithm, timestamp.long, timestamp.scope(region, service), SHA256Hex.of(canonicalRequest)]
            .joined(separator: "\n")
    }

    private func signature(of stringToSign: String, _ timestamp: SigV4Timestamp) -> String {
        let dateKey = HMAC.sha256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: timestamp.short)
        let regionKey = HMAC.sha256(key: dateKey, message: region)
        let serviceKey = HMAC.sha256(key: regionKey, message: service)
        let signingKey = HMAC.sha256(key: serviceKey, message: "aws4_request")
        return HMAC.sha256(key: signingKey, message: stringToSign).hexEncodedString
    }
}

/// The result of header signing.
public struct SignedRequest: Sendable {
    /// Every header to send: the request's own (minus any the signer replaced) plus `addedHeaders`.
    public let headers: [(name: String, value: String)]
    /// What the signer added: X-Amz-Content-Sha256 (S3), X-Amz-Date, X-Amz-Security-Token, Authorization.
    public let addedHeaders: [(name: String, value: String)]
    /// The intermediate forms, for debugging a SignatureDoesNotMatch (they hold no secret key,
    /// but do contain the session token if there is one).
    public let canonicalRequest: String
    public let stringToSign: String
    public let signature: String

    /// The value of the Authorization header.
    public var authorization: String { addedHeaders.last { $0.name == "Authorization" }?.value ?? "" }
}

/// The result of query signing: send `path?query` with the request's headers.
public struct PresignedRequest: Sendable {
    public let path: String
    /// The request's own parameters and the X-Amz-* ones, ending with X-Amz-Signature.
    public let query: String
    public let canonicalRequest: String
    public let stringToSign: String
    public let signature: String

    /// The full URL for `host` (as in the Host header, port included if any).
    public func url(scheme: String = "https", host: String) -> String { "\(scheme)://\(host)\(path)?\(query)" }
}

/// The two date forms SigV4 uses, both UTC: 20150830T123600Z and 20150830.
struct SigV4Timestamp {
    let long: String
    let short: String

    init(_ date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        short = pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2)
        long = short + "T" + pad(parts.hour, 2) + pad(parts.minute, 2) + pad(parts.second, 2) + "Z"
    }

    func scope(_ region: String, _ service: String) -> String { "\(short)/\(region)/\(service)/aws4_request" }
}
