import COpenSSL
import Foundation

/// An X.509 certificate held by OpenSSL, with the few fields callers need read out in Swift.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    // Immutable after init; OpenSSL allows concurrent reads of an X509, so Sendable is sound.
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_free(pointer) }

    /// Parses the first certificate in `pem`.
    public convenience init(pemRepresentation pem: String) throws(TLSError) {
        let all = try Certificate.chain(pemRepresentation: pem)
        guard let first = all.first else {
            throw TLSError(.pemDecoding, "the text contains no PEM certificate")
        }
        X509_up_ref(first.pointer)
        self.init(taking: first.pointer)
    }

    /// Parses every certificate in `pem`, in order (leaf first for a chain).
    public static func chain(pemRepresentation pem: String) throws(TLSError) -> [Certificate] {
        ERR_clear_error()
        return try withReadableBIO(Array(pem.utf8), .pemDecoding) { bio throws(TLSError) -> [Certificate] in
            var certificates: [Certificate] = []
            while true {
                guard let x509 = PEM_read_bio_X509(bio, nil, nil, nil) else {
                    // Running out of PEM blocks after at least one certificate is the normal end.
                    let last = ERR_peek_last_error()
                    if !certificates.isEmpty && copenssl_err_is_pem_no_start_line(last) != 0 {
                        ERR_clear_error()
                        return certificates
                    }
                    throw .fromQueue(.pemDecoding, "the text is not a valid PEM certificate")
                }
                certificates.append(Certificate(taking: x509))
            }
        }
    }

    /// The certificate as PEM ("BEGIN CERTIFICATE").
    public var pemRepresentation: String {
        get throws(TLSError) {
            ERR_clear_error()
            let bytes = try collectingBIOOutput(.pemEncoding) { bio in PEM_write_bio_X509(bio, pointer) == 1 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The subject's commonName, if it has one.
    public var subjectCommonName: String? { subjectValues(nid: NID_commonName).first }

    /// Every organizationName in the subject, in order (Kubernetes reads each as a group).
    public var subjectOrganizations: [String] { subjectValues(nid: NID_organizationName) }

    /// The issuer's commonName, if it has one.
    public var issuerCommonName: String? {
        X509_get_issuer_name(pointer).flatMap { nameValues($0, nid: NID_commonName).first }
    }

    /// The serial number as uppercase hex, as `openssl x509 -serial` prints it.
    public var serialNumberHex: String {
        guard let serial = X509_get_serialNumber(pointer), let number = ASN1_INTEGER_to_BN(serial, nil) else {
            return ""
        }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { copenssl_free(hex) }
        return String(cString: hex)
    }

    /// The validity window.
    public var notBefore: Date? { date(X509_get0_notBefore(pointer)) }
    public var notAfter: Date? { date(X509_get0_notAfter(pointer)) }

    /// Whether this certificate's public key matches `key`.
    public func matches(_ key: PrivateKey) -> Bool {
        defer { ERR_clear_error() }
        return X509_check_private_key(pointer, key.pointer) == 1
    }

    public var description: String {
        "Certificate(subject CN=\(subjectCommonName ?? "-"), issuer CN=\(issuerCommonName ?? "-"), serial \(serialNumberHex))"
    }

    private func subjectValues(nid: Int32) -> [String] {
        X509_get_subject_name(pointer).map { nameValues($0, nid: nid) } ?? []
    }

    private func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parsed = tm()
        guard ASN1_TIME_to_tm(time, &parsed) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parsed)))
    }
}

/// Reads every entry of `nid` from an X509_NAME as UTF-8.
func nameValues(_ name: OpaquePointer, nid: Int32) -> [String] {
    var values: [String] = []
    var index: Int32 = -1
    while true {
        index = X509_NAME_get_index_by_NID(name, nid, index)
        if index < 0 { break }
        guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { continue }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { continue }
        values.append(String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self))
        copenssl_free(utf8)
    }
    return values
}
