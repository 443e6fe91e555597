import CCurl

/// Why a transfer failed below HTTP: no status was received, or the transfer broke off.
///
/// Guarantees: the message is curl's own error text plus method and URL without the
/// query; request headers (which may carry tokens) never appear.
public struct HTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Broad failure class, for retry decisions and metrics.
    public enum Kind: String, Sendable, Equatable {
        case invalidRequest
        case couldNotResolveHost
        case connectionRefused
        case tlsFailure
        case timedOut
        case sendFailed
        case receiveFailed
        /// The body passed the request's `maxResponseBodyBytes`.
        case responseTooLarge
        case transportShutDown
        case other
    }

    public var kind: Kind
    /// curl's error text, e.g. "Failed to connect to 127.0.0.1 port 1: Connection refused".
    public var message: String
    /// The CURLcode, when the failure came from curl.
    public var curlCode: Int?
    public var method: String
    /// URL without query string or user info.
    public var url: String

    public init(kind: Kind, message: String, curlCode: Int? = nil, method: String, url: String) {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
        self.method = method
        self.url = url
    }

    public var description: String {
        "\(method) \(url): \(kind.rawValue): \(message)"
    }

    static func kind(for code: CURLcode) -> Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .couldNotResolveHost
        case CURLE_COULDNT_CONNECT: return .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CLIENTCERT:
            return .tlsFailure
        case CURLE_SEND_ERROR: return .sendFailed
        case CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_WEIRD_SERVER_REPLY:
            return .receiveFailed
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT:
            return .invalidRequest
        default: return .other
        }
    }

    /// Strips query and user info so tokens passed in URLs cannot leak into messages.
    static func redacted(url: String) -> String {
        var text = url
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = String(text[..<query]) }
        if let schemeEnd = text.range(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                text = String(text[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
            }
        }
        return text
    }
}
