import Foundation

/// The AWS services this client speaks, with the names each part of AWS knows them by.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// Host prefix of the default endpoint ("monitoring" for CloudWatch).
    public let endpointPrefix: String
    /// Service name in the SigV4 credential scope.
    public let signingName: String
    /// Suffix of the service's `AWS_ENDPOINT_URL_…` variable (the SDKs' service ID, upper
    /// snake case).
    public let environmentSuffix: String
    /// Query-protocol API version, sent as `Version`.
    public let apiVersion: String

    public var description: String { endpointPrefix }

    /// Describes a service this module has no client for (EC2 or IAM set-up in tests, say),
    /// so that `AWSClient.query` can reach it with the same signing, endpoints and retries.
    public init(endpointPrefix: String, signingName: String, environmentSuffix: String, apiVersion: String) {
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
        self.environmentSuffix = environmentSuffix
        self.apiVersion = apiVersion
    }

    public static let rds = AWSService(
        endpointPrefix: "rds", signingName: "rds", environmentSuffix: "RDS", apiVersion: "2014-10-31")
    public static let elastiCache = AWSService(
        endpointPrefix: "elasticache", signingName: "elasticache", environmentSuffix: "ELASTICACHE",
        apiVersion: "2015-02-02")
    public static let s3 = AWSService(
        endpointPrefix: "s3", signingName: "s3", environmentSuffix: "S3", apiVersion: "2006-03-01")
    public static let secretsManager = AWSService(
        endpointPrefix: "secretsmanager", signingName: "secretsmanager", environmentSuffix: "SECRETS_MANAGER",
        apiVersion: "2017-10-17")
    public static let sts = AWSService(
        endpointPrefix: "sts", signingName: "sts", environmentSuffix: "STS", apiVersion: "2011-06-15")
    public static let cloudWatch = AWSService(
        endpointPrefix: "monitoring", signingName: "monitoring", environmentSuffix: "CLOUDWATCH",
        apiVersion: "2010-08-01")
}

/// Where requests for one service go.
public struct AWSEndpoint: Sendable, Equatable {
    /// "https" or "http".
    public var scheme: String
    /// Host, with ":port" when not the scheme's default.
    public var hostAndPort: String
    /// Path prefix of a custom endpoint ("" or e.g. "/aws"), without trailing slash.
    public var basePath: String
    /// True when the endpoint came from configuration rather than AWS's naming scheme;
    /// S3 then uses path-style addressing, as S3-compatible stores and emulators expect.
    public var isCustom: Bool

    public init(scheme: String, hostAndPort: String, basePath: String = "", isCustom: Bool) {
        self.scheme = scheme
        self.hostAndPort = hostAndPort
        self.basePath = basePath
        self.isCustom = isCustom
    }

    /// Parses "http://127.0.0.1:5000" or "https://example.com/base"; nil if it is not an
    /// absolute http(s) URL.
    public init?(url: String, isCustom: Bool = true) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.percentEncodedHost, !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "http" ? 80 : 443
        var hostAndPort = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port, port != defaultPort { hostAndPort += ":\(port)" }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.init(scheme: scheme, hostAndPort: hostAndPort, basePath: path, isCustom: isCustom)
    }

    public var baseURL: String { "\(scheme)://\(hostAndPort)\(basePath)" }
}

/// Picks each service's endpoint as the SDKs do.
///
/// Order: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`), then the
/// global `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`, then
/// `https://{prefix}.{region}.amazonaws.com` (`.amazonaws.com.cn` in China regions).
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` skips the configured ones.
public struct EndpointResolver: Sendable, Equatable {
    public var region: String
    public var environment: [String: String]
    public var profileEndpointURL: String?

    public init(region: String, environment: [String: String] = [:], profileEndpointURL: String? = nil) {
        self.region = region
        self.environment = environment
        self.profileEndpointURL = profileEndpointURL
    }

    public func endpoint(for service: AWSService) -> AWSEndpoint {
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() != "true" {
            let candidates = [
                environment["AWS_ENDPOINT_URL_\(service.environmentSuffix)"], environment["AWS_ENDPOINT_URL"],
                profileEndpointURL,
            ]
            for candidate in candidates {
                if let candidate, !candidate.isEmpty, let endpoint = AWSEndpoint(url: candidate) { return endpoint }
            }
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return AWSEndpoint(scheme: "https", hostAndPort: "\(service.endpointPrefix).\(region).\(suffix)", isCustom: false)
    }

    /// Where an S3 bucket request goes: virtual-hosted on AWS, path-style on a custom
    /// endpoint or for names that cannot be a DNS label under TLS (dots, upper case).
    public func s3BucketLocation(_ bucket: String) -> (endpoint: AWSEndpoint, pathPrefix: String) {
        let endpoint = endpoint(for: .s3)
        if endpoint.isCustom || !Self.isVirtualHostable(bucket) {
            return (endpoint, "/" + AWSPercentEncoding.encode(bucket))
        }
        var virtual = endpoint
        virtual.hostAndPort = "\(bucket).\(endpoint.hostAndPort)"
        return (virtual, "")
    }

    static func isVirtualHostable(_ bucket: String) -> Bool {
        guard (3...63).contains(bucket.count), !bucket.contains(".") else { return false }
        return bucket.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && bucket.first != "-" && bucket.last != "-"
    }
}

/// RFC 3986 percent-encoding as AWS requires it: everything but unreserved characters.
public enum AWSPercentEncoding {
    public static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }

    /// `key=value&…` with both sides encoded, in the given order.
    public static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
