import Foundation

/// The parts of an HTTP request that SigV4 covers.
///
/// `path` and `query` are exactly what will go on the wire (percent-encoded as the caller
/// encodes them); the signer derives the canonical forms from them. Headers keep their order
/// and duplicates, because SigV4 joins repeated headers in the order they are sent.
public struct SignableRequest: Sendable {
    /// What the signature says about the body.
    public enum Payload: Sendable, Equatable {
        /// The body itself; its SHA-256 is signed.
        case bytes([UInt8])
        /// The hex SHA-256 of a body the caller has already hashed (e.g. streamed from disk).
        case sha256Hex(String)
        /// "UNSIGNED-PAYLOAD": the body is not covered (S3 presigned URLs, large uploads over TLS).
        case unsigned

        var hashValue: String {
            switch self {
            case .bytes(let bytes): SHA256Hex.of(bytes)
            case .sha256Hex(let hex): hex.lowercased()
            case .unsigned: "UNSIGNED-PAYLOAD"
            }
        }
    }

    public var method: String
    /// The path as sent, e.g. "/bucket/my%20key"; empty means "/".
    public var path: String
    /// The query string as sent, without the leading "?"; empty if none.
    public var query: String
    public var headers: [(name: String, value: String)]
    public var payload: Payload

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [],
        payload: Payload = .bytes([])
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }

    /// Takes path, query and Host from `url` (the Host header gets the port when it is not the
    /// scheme's default, as HTTP clients send it). Returns nil for a URL without a host.
    public init?(
        method: String, url: URL, headers: [(name: String, value: String)] = [], payload: Payload = .bytes([])
    ) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let host = components.percentEncodedHost, !host.isEmpty
        else { return nil }
        var allHeaders = headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }) {
            let defaultPort = components.scheme?.lowercased() == "http" ? 80 : 443
            let hostHeader = components.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
            allHeaders.insert((name: "Host", value: hostHeader), at: 0)
        }
        self.init(
            method: method, path: components.percentEncodedPath, query: components.percentEncodedQuery ?? "",
            headers: allHeaders, payload: payload)
    }
}
