import COpenSSL

/// An asymmetric private key (EC P-256 or RSA) held by OpenSSL.
///
/// Caveats: `description` never shows the key; only `pemRepresentation` exports it.
public final class PrivateKey: @unchecked Sendable, CustomStringConvertible {
    // Immutable after init, and OpenSSL 3 allows concurrent signing with one EVP_PKEY,
    // which is why the class may be Sendable.
    let pointer: OpaquePointer

    /// The key algorithms this module generates.
    public enum Algorithm: Sendable, Equatable, CustomStringConvertible {
        /// ECDSA over NIST P-256: small, fast, what Kubernetes' own tooling uses.
        case ecP256
        /// RSA with a 2048-bit modulus, for peers that cannot do ECDSA.
        case rsa2048

        public var description: String {
            switch self {
            case .ecP256: "EC P-256"
            case .rsa2048: "RSA 2048"
            }
        }
    }

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// Generates a fresh key from OpenSSL's CSPRNG.
    public static func generate(_ algorithm: Algorithm = .ecP256) throws(TLSError) -> PrivateKey {
        ERR_clear_error()
        let name = algorithm == .ecP256 ? "EC" : "RSA"
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw .fromQueue(.keyGeneration, "no \(algorithm) implementation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else {
            throw .fromQueue(.keyGeneration, "could not start \(algorithm) key generation")
        }
        let configured = switch algorithm {
        case .ecP256: EVP_PKEY_CTX_set_group_name(context, "P-256")
        case .rsa2048: EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048)
        }
        guard configured == 1 else {
            throw .fromQueue(.keyGeneration, "could not configure \(algorithm) parameters")
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw .fromQueue(.keyGeneration, "\(algorithm) key generation failed")
        }
        return PrivateKey(taking: key)
    }

    /// Parses a PEM private key (PKCS#8, or the traditional RSA/EC forms). Encrypted keys are refused.
    public convenience init(pemRepresentation pem: String) throws(TLSError) {
        ERR_clear_error()
        let key = try withReadableBIO(Array(pem.utf8), .pemDecoding) { bio throws(TLSError) -> OpaquePointer in
            // A nil password callback would prompt on the terminal for encrypted keys; an
            // empty passphrase makes encrypted keys fail instead.
            guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
                throw .fromQueue(.pemDecoding, "the text is not an unencrypted PEM private key")
            }
            return key
        }
        self.init(taking: key)
    }

    /// The key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
    public var pemRepresentation: String {
        get throws(TLSError) {
            ERR_clear_error()
            let bytes = try collectingBIOOutput(.pemEncoding) { bio in
                PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Which algorithm the key uses, or nil for one this module does not generate.
    public var algorithm: Algorithm? {
        switch (EVP_PKEY_get_base_id(pointer), EVP_PKEY_get_bits(pointer)) {
        case (EVP_PKEY_EC, 256): .ecP256
        case (EVP_PKEY_RSA, 2048): .rsa2048
        default: nil
        }
    }

    public var description: String { "PrivateKey(\(algorithm.map(String.init(describing:)) ?? "other"), redacted)" }
}
