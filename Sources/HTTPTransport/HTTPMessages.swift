/// One header line; names compare case-insensitively through `HTTPHeaders`.
public struct HTTPHeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// An ordered list of header fields with case-insensitive lookup.
///
/// Caveats: `description` prints names only, because values such as `Authorization`
/// carry secrets.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public private(set) var fields: [HTTPHeaderField]

    public init(_ fields: [HTTPHeaderField] = []) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { HTTPHeaderField(name: $0.0, value: $0.1) }
    }

    /// First value for `name`; setting replaces every field of that name (nil removes them).
    public subscript(name: String) -> String? {
        get { fields.first { $0.name.lowercased() == name.lowercased() }?.value }
        set {
            let lowered = name.lowercased()
            fields.removeAll { $0.name.lowercased() == lowered }
            if let newValue { fields.append(HTTPHeaderField(name: name, value: newValue)) }
        }
    }

    public func values(for name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    public mutating func add(name: String, value: String) {
        fields.append(HTTPHeaderField(name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[HTTPHeaderField]> { fields.makeIterator() }

    public var description: String { "[" + fields.map(\.name).joined(separator: ", ") + "]" }
}

/// TLS material and policy for a transfer. Verification is on unless explicitly skipped.
///
/// Caveats: `serverNameOverride` is implemented with `CURLOPT_CONNECT_TO`: the request is
/// addressed to the override name (so SNI, certificate check and `Host` header use it)
/// while the TCP connection goes to the URL's real host and port.
public struct TLSConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// PEM bundle of trusted CAs; nil means the system trust store.
    public var certificateAuthorityPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// Skips certificate and host name verification. Default false.
    public var insecureSkipVerify: Bool
    /// Name to verify the server certificate against instead of the URL host.
    public var serverNameOverride: String?

    public init(
        certificateAuthorityPEM: [UInt8]? = nil,
        clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil,
        insecureSkipVerify: Bool = false,
        serverNameOverride: String? = nil
    ) {
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipVerify = insecureSkipVerify
        self.serverNameOverride = serverNameOverride
    }

    public var description: String {
        var parts: [String] = []
        parts.append(certificateAuthorityPEM == nil ? "system CAs" : "custom CA")
        if clientCertificatePEM != nil { parts.append("client certificate") }
        if insecureSkipVerify { parts.append("INSECURE") }
        if let serverNameOverride { parts.append("server name \(serverNameOverride)") }
        return "TLS(" + parts.joined(separator: ", ") + ")"
    }
}

/// A request to send; `body` nil sends no body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    /// Limit for the whole transfer (connect, send, receive), including time a streamed
    /// transfer spends paused for a slow consumer; nil means none, which suits watches whose
    /// length the server bounds.
    public var timeout: Duration?
    /// Overrides the transport's TLS configuration for this request.
    public var tls: TLSConfiguration?
    /// Largest body `send` accepts before aborting with `.responseTooLarge`; nil means no
    /// limit. Streams are bounded by back-pressure instead.
    public var maxResponseBodyBytes: Int?

    public init(
        method: String = "GET",
        url: String,
        headers: HTTPHeaders = [:],
        body: [UInt8]? = nil,
        timeout: Duration? = nil,
        tls: TLSConfiguration? = nil,
        maxResponseBodyBytes: Int? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.tls = tls
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }
}

/// Status line and headers of a response.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders) {
        self.status = status
        self.headers = headers
    }
}

/// A fully received response.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A response whose head has arrived and whose body is still being received.
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: HTTPBodyStream
}
