import COpenSSL

/// SHA-256 digests, as AWS SigV4 and content hashing need them.
public enum SHA256 {
    /// The digest size in bytes.
    public static let byteCount = 32

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        // Contiguous input (Array, ByteBuffer views, String.UTF8View) is hashed in place.
        if let digest = bytes.withContiguousStorageIfAvailable({ hashContiguous(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { hashContiguous($0) }
    }

    /// The SHA-256 digest of the UTF-8 encoding of `text`.
    public static func hash(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { hashContiguous(UnsafeRawBufferPointer($0)) }
    }

    private static func hashContiguous(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        // EVP_Digest only fails on allocation failure, which Swift treats as fatal anyway.
        let ok = EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, EVP_sha256(), nil)
        precondition(ok == 1 && length == UInt32(byteCount), "EVP_Digest(SHA-256) failed")
        return digest
    }
}

/// HMAC message authentication codes.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key`.
    public static func sha256(key: some Sequence<UInt8>, message: some Sequence<UInt8>) -> [UInt8] {
        let key = Array(key)
        let message = Array(message)
        var mac = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBuffer in
            message.withUnsafeBytes { messageBuffer in
                // OpenSSL rejects a nil key pointer even for an empty key, so point at a dummy byte.
                withUnsafeBytes(of: UInt8(0)) { empty in
                    COpenSSL.HMAC(
                        EVP_sha256(),
                        keyBuffer.count > 0 ? keyBuffer.baseAddress : empty.baseAddress, Int32(keyBuffer.count),
                        messageBuffer.count > 0
                            ? messageBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
                            : empty.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        messageBuffer.count,
                        &mac, &length)
                }
            }
        }
        precondition(result != nil && length == UInt32(SHA256.byteCount), "HMAC-SHA256 failed")
        return mac
    }

    /// HMAC-SHA256 of the UTF-8 encoding of `message` under `key`.
    public static func sha256(key: some Sequence<UInt8>, message: String) -> [UInt8] {
        sha256(key: key, message: Array(message.utf8))
    }
}

extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits per byte (the form SigV4 and checksums use).
    public var hexEncodedString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Decodes hexadecimal (either case); nil if the text has an odd length or a non-hex digit.
    public init?(hexEncoded text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}

/// Cryptographically secure random values from OpenSSL's DRBG, for tokens and passwords.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(count: Int) throws(TLSError) -> [UInt8] {
        guard count >= 0 else { throw TLSError(.invalidArgument, "byte count must not be negative") }
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        ERR_clear_error()
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw .fromQueue(.randomBytes, "RAND_bytes failed (DRBG not seeded?)")
        }
        return bytes
    }

    /// The default alphabet: letters and digits, safe in URLs, shells, YAML and connection strings.
    public static let alphanumerics: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A random string of `length` characters drawn uniformly from `alphabet`.
    public static func string(length: Int, alphabet: [Character] = alphanumerics) throws(TLSError) -> String {
        guard !alphabet.isEmpty, alphabet.count <= 256 else {
            throw TLSError(.invalidArgument, "the alphabet must have between 1 and 256 characters")
        }
        guard length >= 0 else { throw TLSError(.invalidArgument, "length must not be negative") }
        // Rejection sampling: bytes at or above the largest multiple of the alphabet size would
        // bias the low characters, so they are drawn again.
        let limit = 256 - (256 % alphabet.count)
        var result: [Character] = []
        result.reserveCapacity(length)
        while result.count < length {
            for byte in try bytes(count: length - result.count + 8) where Int(byte) < limit {
                result.append(alphabet[Int(byte) % alphabet.count])
                if result.count == length { break }
            }
        }
        return String(result)
    }
}
