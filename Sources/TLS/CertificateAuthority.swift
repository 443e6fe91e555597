import COpenSSL
import Foundation

/// When a certificate is valid.
public struct CertificateValidity: Sendable, Equatable {
    public var notBefore: Date
    public var notAfter: Date

    public init(notBefore: Date, notAfter: Date) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Valid for `days` days from `now`, starting five minutes early so that a peer whose clock
    /// lags slightly does not reject a certificate minted a moment ago.
    public static func days(_ days: Int, from now: Date = Date()) -> CertificateValidity {
        CertificateValidity(notBefore: now - 300, notAfter: now + TimeInterval(days) * 86_400)
    }
}

/// A certificate together with its private key, both also as PEM for files and Secrets.
public struct IssuedCertificate: Sendable, CustomStringConvertible {
    public let certificate: Certificate
    public let privateKey: PrivateKey
    public let certificatePEM: String
    public let privateKeyPEM: String

    init(certificate: Certificate, privateKey: PrivateKey) throws(TLSError) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificatePEM = try certificate.pemRepresentation
        self.privateKeyPEM = try privateKey.pemRepresentation
    }

    public var description: String { "IssuedCertificate(\(certificate), key redacted)" }
}

/// A self-signed certificate authority that issues server and client certificates.
///
/// Guarantees: every certificate is X.509 v3, SHA-256 signed, with a random 128-bit serial,
/// subjectKeyIdentifier and authorityKeyIdentifier. Server certificates carry serverAuth and
/// a subjectAltName (clients verify SANs, not the CN); client certificates carry clientAuth
/// and put the user in CN and each group in its own O, which is how Kubernetes reads them.
/// Caveats: `description` never includes the private key.
public struct CertificateAuthority: Sendable, CustomStringConvertible {
    public let certificate: Certificate
    public let privateKey: PrivateKey
    public let certificatePEM: String
    public let privateKeyPEM: String

    /// Generates a new key and a self-signed CA certificate for it.
    public static func generate(
        commonName: String = "medsearch-ca",
        keyAlgorithm: PrivateKey.Algorithm = .ecP256,
        validity: CertificateValidity = .days(3650)
    ) throws(TLSError) -> CertificateAuthority {
        let key = try PrivateKey.generate(keyAlgorithm)
        let certificate = try buildCertificate(
            subject: [(NID_commonName, commonName)],
            subjectKey: key,
            issuer: nil,
            validity: validity,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ]
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Loads an existing CA, checking that the key belongs to the certificate and that the
    /// certificate is allowed to sign others.
    public init(certificatePEM: String, privateKeyPEM: String) throws(TLSError) {
        let certificate = try Certificate(pemRepresentation: certificatePEM)
        let key = try PrivateKey(pemRepresentation: privateKeyPEM)
        guard certificate.matches(key) else {
            throw TLSError(.invalidArgument, "the private key does not belong to the CA certificate")
        }
        guard X509_check_ca(certificate.pointer) != 0 else {
            throw TLSError(.invalidArgument, "the certificate is not a CA (basicConstraints CA:TRUE missing)")
        }
        try self.init(certificate: certificate, privateKey: key)
    }

    private init(certificate: Certificate, privateKey: PrivateKey) throws(TLSError) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificatePEM = try certificate.pemRepresentation
        self.privateKeyPEM = try privateKey.pemRepresentation
    }

    /// Issues a TLS server certificate valid for the given DNS names and IP addresses.
    ///
    /// The defaults cover loopback in every form a client may dial, since kubectl and curl
    /// check the address they connected to against the SANs.
    public func issueServerCertificate(
        commonName: String,
        dnsNames: [String] = ["localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"],
        validity: CertificateValidity = .days(365),
        keyAlgorithm: PrivateKey.Algorithm = .ecP256
    ) throws(TLSError) -> IssuedCertificate {
        guard !dnsNames.isEmpty || !ipAddresses.isEmpty else {
            throw TLSError(.invalidArgument, "a server certificate needs at least one DNS name or IP address")
        }
        // The SAN is built from OpenSSL's "DNS:a,IP:b" syntax, so a name containing a comma or
        // colon could smuggle in extra entries; DNS names only ever need this alphabet.
        for name in dnsNames where name.isEmpty || !name.utf8.allSatisfy(isDNSNameByte) {
            throw TLSError(.invalidArgument, "\"\(name)\" is not a valid DNS name")
        }
        for address in ipAddresses where !isIPAddress(address) {
            throw TLSError(.invalidArgument, "\"\(address)\" is not an IP address")
        }
        let key = try PrivateKey.generate(keyAlgorithm)
        let alternativeNames = (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
        // RSA key exchange in TLS 1.2 encrypts to the key, so only RSA keys need keyEncipherment.
        let keyUsage = keyAlgorithm == .rsa2048 ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"
        let certificate = try buildCertificate(
            subject: [(NID_commonName, commonName)],
            subjectKey: key,
            issuer: (certificate, privateKey),
            validity: validity,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, keyUsage),
                (NID_ext_key_usage, "serverAuth"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
                (NID_subject_alt_name, alternativeNames),
            ]
        )
        return try IssuedCertificate(certificate: certificate, privateKey: key)
    }

    /// Issues a TLS client certificate; Kubernetes maps `commonName` to the user name and each
    /// of `organizations` to a group.
    public func issueClientCertificate(
        commonName: String,
        organizations: [String] = [],
        validity: CertificateValidity = .days(365),
        keyAlgorithm: PrivateKey.Algorithm = .ecP256
    ) throws(TLSError) -> IssuedCertificate {
        let key = try PrivateKey.generate(keyAlgorithm)
        let certificate = try buildCertificate(
            subject: organizations.map { (NID_organizationName, $0) } + [(NID_commonName, commonName)],
            subjectKey: key,
            issuer: (certificate, privateKey),
            validity: validity,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "clientAuth"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ]
        )
        return try IssuedCertificate(certificate: certificate, privateKey: key)
    }

    public var description: String { "CertificateAuthority(\(certificate), key redacted)" }
}

private func isDNSNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "*"):
        true
    default:
        false
    }
}

private func isIPAddress(_ text: String) -> Bool {
    var storage = [UInt8](repeating: 0, count: 16)
    return inet_pton(AF_INET, text, &storage) == 1 || inet_pton(AF_INET6, text, &storage) == 1
}

/// Assembles and signs an X.509 v3 certificate; self-signed when `issuer` is nil.
private func buildCertificate(
    subject: [(Int32, String)],
    subjectKey: PrivateKey,
    issuer: (certificate: Certificate, key: PrivateKey)?,
    validity: CertificateValidity,
    extensions: [(Int32, String)]
) throws(TLSError) -> Certificate {
    guard validity.notAfter > validity.notBefore else {
        throw TLSError(.invalidArgument, "notAfter must be later than notBefore")
    }
    ERR_clear_error()
    guard let x509 = X509_new() else { throw .fromQueue(.certificateCreation, "could not allocate a certificate") }
    // Wrapped at once so every early exit below frees it.
    let certificate = Certificate(taking: x509)

    guard X509_set_version(x509, 2) == 1 else {  // 2 is how X.509 encodes "v3"
        throw .fromQueue(.certificateCreation, "could not set the version")
    }
    try setRandomSerial(x509)
    guard ASN1_TIME_set(X509_getm_notBefore(x509), time_t(validity.notBefore.timeIntervalSince1970)) != nil,
        ASN1_TIME_set(X509_getm_notAfter(x509), time_t(validity.notAfter.timeIntervalSince1970)) != nil
    else {
        throw .fromQueue(.certificateCreation, "could not set the validity period")
    }

    guard let name = X509_NAME_new() else { throw .fromQueue(.certificateCreation, "could not allocate a name") }
    defer { X509_NAME_free(name) }
    for (nid, value) in subject {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty,
            X509_NAME_add_entry_by_NID(name, nid, copenssl_mbstring_utf8(), bytes, Int32(bytes.count), -1, 0) == 1
        else {
            throw .fromQueue(.certificateCreation, "could not add \"\(value)\" to the subject name (empty or too long?)")
        }
    }
    guard X509_set_subject_name(x509, name) == 1,
        X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.certificate.pointer) } ?? name) == 1
    else {
        throw .fromQueue(.certificateCreation, "could not set the subject or issuer name")
    }
    guard X509_set_pubkey(x509, subjectKey.pointer) == 1 else {
        throw .fromQueue(.certificateCreation, "could not set the public key")
    }

    var extensionContext = X509V3_CTX()
    X509V3_set_ctx(&extensionContext, issuer?.certificate.pointer ?? x509, x509, nil, nil, 0)
    for (nid, value) in extensions {
        guard let ext = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
            throw .fromQueue(.certificateCreation, "could not build extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(x509, ext, -1) == 1 else {
            throw .fromQueue(.certificateCreation, "could not add extension \(String(cString: OBJ_nid2sn(nid)))")
        }
    }

    guard X509_sign(x509, (issuer?.key ?? subjectKey).pointer, EVP_sha256()) > 0 else {
        throw .fromQueue(.certificateCreation, "could not sign the certificate")
    }
    return certificate
}

/// A random positive 128-bit serial: unpredictable serials are what RFC 5280 and the CA/B
/// forum ask for, and they keep re-issued certificates distinct.
private func setRandomSerial(_ x509: OpaquePointer) throws(TLSError) {
    guard let number = BN_new() else { throw .fromQueue(.certificateCreation, "could not allocate a serial") }
    defer { BN_free(number) }
    repeat {
        guard BN_rand(number, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 else {
            throw .fromQueue(.randomBytes, "could not draw a random serial")
        }
    } while BN_is_zero(number) == 1
    guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil else {
        throw .fromQueue(.certificateCreation, "could not set the serial")
    }
}
