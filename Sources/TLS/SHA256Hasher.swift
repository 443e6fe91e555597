import COpenSSL

/// Incremental SHA-256 for bodies too large to hold at once (S3 uploads streamed from disk).
///
/// Non-copyable because it owns an OpenSSL digest context; `finalize()` consumes it.
public struct SHA256Hasher: ~Copyable {
    private let context: OpaquePointer

    public init() {
        // Allocation failure is the only way these fail; treated like Swift's own allocation failure.
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(SHA-256) failed")
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to the digest.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let context = self.context
        let hashed: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            precondition(EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1, "EVP_DigestUpdate failed")
        }
        if hashed == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { buffer in
                precondition(EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1, "EVP_DigestUpdate failed")
            }
        }
    }

    /// The digest of everything added.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &digest, &length) == 1, "EVP_DigestFinal_ex failed")
        return digest
    }
}
