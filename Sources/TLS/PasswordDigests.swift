import COpenSSL

/// PBKDF2 key stretching, as SCRAM-SHA-256 (RFC 7677) derives its salted password.
public enum PBKDF2 {
    /// PBKDF2-HMAC-SHA-256 of `password` with `salt` over `iterations` rounds.
    public static func sha256(
        password: some Sequence<UInt8>, salt: some Sequence<UInt8>, iterations: Int, keyByteCount: Int = SHA256.byteCount
    ) throws(TLSError) -> [UInt8] {
        guard iterations > 0, iterations <= Int(Int32.max), keyByteCount > 0 else {
            throw TLSError(.invalidArgument, "PBKDF2 needs a positive iteration count and key length")
        }
        let password = Array(password)
        let salt = Array(salt)
        var key = [UInt8](repeating: 0, count: keyByteCount)
        ERR_clear_error()
        let result = password.withUnsafeBufferPointer { passwordBuffer in
            salt.withUnsafeBufferPointer { saltBuffer in
                // Empty inputs are legal, but OpenSSL wants non-nil pointers for them.
                withUnsafeBytes(of: UInt8(0)) { empty in
                    PKCS5_PBKDF2_HMAC(
                        passwordBuffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
                            ?? empty.baseAddress!.assumingMemoryBound(to: CChar.self),
                        Int32(passwordBuffer.count),
                        saltBuffer.baseAddress ?? empty.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        Int32(saltBuffer.count),
                        Int32(iterations), EVP_sha256(), Int32(keyByteCount), &key)
                }
            }
        }
        guard result == 1 else { throw .fromQueue(.digest, "PKCS5_PBKDF2_HMAC failed") }
        return key
    }
}

/// MD5, only for protocols that still require it (PostgreSQL's md5 password exchange);
/// never for anything that needs collision resistance.
public enum MD5 {
    /// The MD5 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) throws(TLSError) -> [UInt8] {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        ERR_clear_error()
        // EVP_Digest fails when a FIPS provider forbids MD5, so this throws rather than traps.
        let ok = input.withUnsafeBytes { buffer in
            withUnsafeBytes(of: UInt8(0)) { empty in
                EVP_Digest(buffer.count > 0 ? buffer.baseAddress : empty.baseAddress, buffer.count, &digest, &length, EVP_md5(), nil)
            }
        }
        guard ok == 1, length == 16 else { throw .fromQueue(.digest, "MD5 is not available") }
        return digest
    }
}
