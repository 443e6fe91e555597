import COpenSSL

/// A failure in a TLS, certificate or digest operation, carrying OpenSSL's own explanation.
///
/// The error names the step that failed (`kind`) and the text of OpenSSL's thread-local error
/// queue at that moment. Neither ever contains key material: OpenSSL's messages name
/// functions and reasons, and this module never interpolates PEM or secrets into `detail`.
public struct TLSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The step that failed; a struct rather than an enum so new steps don't break callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let keyGeneration = Kind("generating a private key")
        public static let certificateCreation = Kind("creating a certificate")
        public static let pemEncoding = Kind("encoding PEM")
        public static let pemDecoding = Kind("decoding PEM")
        public static let invalidArgument = Kind("validating arguments")
        public static let contextSetup = Kind("setting up the TLS context")
        public static let handshake = Kind("performing the TLS handshake")
        public static let connection = Kind("exchanging TLS records")
        public static let digest = Kind("computing a digest")
        public static let randomBytes = Kind("generating random bytes")
    }

    public let kind: Kind
    /// Human-readable context from this module (never secrets).
    public let detail: String
    /// OpenSSL's error queue, oldest first, as `ERR_error_string_n` renders each entry.
    public let openSSLErrors: [String]

    public init(_ kind: Kind, _ detail: String, openSSLErrors: [String] = []) {
        self.kind = kind
        self.detail = detail
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        var text = "TLS error while \(kind): \(detail)"
        if !openSSLErrors.isEmpty {
            text += " (OpenSSL: \(openSSLErrors.joined(separator: "; ")))"
        }
        return text
    }

    /// Builds an error from, and empties, this thread's OpenSSL error queue.
    static func fromQueue(_ kind: Kind, _ detail: String) -> TLSError {
        TLSError(kind, detail, openSSLErrors: drainOpenSSLErrorQueue())
    }
}

/// Empties this thread's OpenSSL error queue, returning each entry's text, oldest first.
func drainOpenSSLErrorQueue() -> [String] {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages
}
