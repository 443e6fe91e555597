import Foundation
import Testing
import TLS

/// `openssl x509 -text` output reduced to its extensions: name → (critical, value lines joined).
private func extensions(ofCertificateText text: String) -> [String: (critical: Bool, value: String)] {
    var result: [String: (critical: Bool, value: String)] = [:]
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
    }
    var index = 0
    while index < lines.count {
        let line = lines[index]
        if line.hasPrefix("X509v3 "), let colon = line.firstIndex(of: ":") {
            let name = String(line[line.index(line.startIndex, offsetBy: 7)..<colon])
            let critical = line[colon...].contains("critical")
            var values: [String] = []
            var next = index + 1
            while next < lines.count, !lines[next].hasPrefix("X509v3 "), !lines[next].hasPrefix("Signature Algorithm"),
                !lines[next].isEmpty
            {
                values.append(lines[next])
                next += 1
            }
            result[name] = (critical, values.joined(separator: " "))
            index = next
        } else {
            index += 1
        }
    }
    return result
}

private func certificateText(_ pem: String, in scratch: ScratchDirectory) async throws -> String {
    let path = try scratch.write("cert-\(UUID().uuidString).pem", pem)
    let result = try await runCommand(opensslPath, ["x509", "-noout", "-text", "-in", path], in: scratch)
    #expect(result.status == 0, "\(result)")
    return result.stdout
}

@Suite struct CertificateAuthorityTests {
    @Test func generatedCA_whenInspectedWithOpenSSL_isAV3CAWithCriticalConstraintsAndKeyIdentifiers() async throws {
        let scratch = try ScratchDirectory()
        let ca = try CertificateAuthority.generate(commonName: "medsearch test CA")
        let text = try await certificateText(ca.certificatePEM, in: scratch)
        let ext = extensions(ofCertificateText: text)

        #expect(text.contains("Version: 3 (0x2)"))
        #expect(text.contains("Subject: CN = medsearch test CA"))
        #expect(text.contains("Issuer: CN = medsearch test CA"))
        #expect(text.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(ext["Basic Constraints"]?.critical == true)
        #expect(ext["Basic Constraints"]?.value == "CA:TRUE")
        #expect(ext["Key Usage"]?.critical == true)
        #expect(ext["Key Usage"]?.value == "Certificate Sign, CRL Sign")
        let subjectKeyID = try #require(ext["Subject Key Identifier"]?.value)
        #expect(!subjectKeyID.isEmpty)
        #expect(ext["Authority Key Identifier"]?.value.contains(subjectKeyID) == true)
    }

    @Test func serverCertificate_whenInspectedWithOpenSSL_listsEveryRequestedSANAndServerAuth() async throws {
        let scratch = try ScratchDirectory()
        let ca = try CertificateAuthority.generate()
        let server = try ca.issueServerCertificate(
            commonName: "dev-apiserver", dnsNames: ["localhost", "api.medsearch.test"], ipAddresses: ["127.0.0.1", "::1"])
        let text = try await certificateText(server.certificatePEM, in: scratch)
        let ext = extensions(ofCertificateText: text)

        #expect(text.contains("Subject: CN = dev-apiserver"))
        #expect(text.contains("Issuer: CN = medsearch-ca"))
        let san = try #require(ext["Subject Alternative Name"]?.value)
        let entries = Set(san.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(entries == ["DNS:localhost", "DNS:api.medsearch.test", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"])
        #expect(ext["Extended Key Usage"]?.value == "TLS Web Server Authentication")
        #expect(ext["Basic Constraints"]?.value == "CA:FALSE")
        #expect(ext["Key Usage"]?.value == "Digital Signature")

        let caPath = try scratch.write("ca.pem", ca.certificatePEM)
        let leafPath = try scratch.write("leaf.pem", server.certificatePEM)
        let verify = try await runCommand(
            opensslPath, ["verify", "-CAfile", caPath, "-purpose", "sslserver", leafPath], in: scratch)
        #expect(verify.status == 0 && verify.stdout.contains(": OK"), "\(verify)")
    }

    @Test func clientCertificate_whenInspectedWithOpenSSL_carriesUserAsCNGroupsAsOAndClientAuth() async throws {
        let scratch = try ScratchDirectory()
        let ca = try CertificateAuthority.generate()
        let client = try ca.issueClientCertificate(commonName: "alice", organizations: ["system:masters", "dev team"])
        let text = try await certificateText(client.certificatePEM, in: scratch)
        let ext = extensions(ofCertificateText: text)

        #expect(text.contains("Subject: O = system:masters, O = dev team, CN = alice"))
        #expect(ext["Extended Key Usage"]?.value == "TLS Web Client Authentication")
        #expect(ext["Subject Alternative Name"] == nil)
        #expect(client.certificate.subjectCommonName == "alice")
        #expect(client.certificate.subjectOrganizations == ["system:masters", "dev team"])

        let caPath = try scratch.write("ca.pem", ca.certificatePEM)
        let leafPath = try scratch.write("leaf.pem", client.certificatePEM)
        let verify = try await runCommand(
            opensslPath, ["verify", "-CAfile", caPath, "-purpose", "sslclient", leafPath], in: scratch)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func rsaCA_whenGenerated_uses2048BitKeysAndSignsRSALeavesWithKeyEncipherment() async throws {
        let scratch = try ScratchDirectory()
        let ca = try CertificateAuthority.generate(keyAlgorithm: .rsa2048)
        #expect(ca.privateKey.algorithm == .rsa2048)
        let server = try ca.issueServerCertificate(commonName: "rsa-server", keyAlgorithm: .rsa2048)
        let text = try await certificateText(server.certificatePEM, in: scratch)
        #expect(text.contains("Public Key Algorithm: rsaEncryption"))
        #expect(text.contains("Public-Key: (2048 bit)"))
        #expect(text.contains("Signature Algorithm: sha256WithRSAEncryption"))
        #expect(extensions(ofCertificateText: text)["Key Usage"]?.value == "Digital Signature, Key Encipherment")
    }

    @Test func validity_whenGiven_isWrittenToTheSecond() throws {
        let notBefore = Date(timeIntervalSince1970: 1_800_000_000)
        let notAfter = Date(timeIntervalSince1970: 1_800_000_000 + 90 * 86_400)
        let ca = try CertificateAuthority.generate(validity: CertificateValidity(notBefore: notBefore, notAfter: notAfter))
        #expect(ca.certificate.notBefore == notBefore)
        #expect(ca.certificate.notAfter == notAfter)
        #expect(throws: TLSError.self) {
            try CertificateAuthority.generate(validity: CertificateValidity(notBefore: notAfter, notAfter: notBefore))
        }
    }

    @Test func serials_whenIssuingTwice_areRandomAndDistinct() throws {
        let ca = try CertificateAuthority.generate()
        let serials = try (0..<8).map { _ in try ca.issueClientCertificate(commonName: "u").certificate.serialNumberHex }
        #expect(Set(serials).count == serials.count)
        // 128 random bits: at most 32 hex digits, and with overwhelming likelihood more than 20.
        #expect(serials.allSatisfy { $0.count <= 32 && $0.count > 20 })
    }

    @Test func caLoadedFromPEM_whenIssuing_producesCertificatesTheOriginalCAVerifies() async throws {
        let scratch = try ScratchDirectory()
        let original = try CertificateAuthority.generate()
        let loaded = try CertificateAuthority(certificatePEM: original.certificatePEM, privateKeyPEM: original.privateKeyPEM)
        #expect(loaded.certificatePEM == original.certificatePEM)
        let leaf = try loaded.issueServerCertificate(commonName: "reloaded")
        #expect(leaf.certificate.issuerCommonName == original.certificate.subjectCommonName)
        let caPath = try scratch.write("ca.pem", original.certificatePEM)
        let leafPath = try scratch.write("leaf.pem", leaf.certificatePEM)
        let verify = try await runCommand(opensslPath, ["verify", "-CAfile", caPath, leafPath], in: scratch)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func loadingCA_whenKeyBelongsToAnotherCertificate_failsWithoutRevealingTheKey() throws {
        let first = try CertificateAuthority.generate()
        let second = try CertificateAuthority.generate()
        let error = try #require(throws: TLSError.self) {
            try CertificateAuthority(certificatePEM: first.certificatePEM, privateKeyPEM: second.privateKeyPEM)
        }
        #expect(error.kind == .invalidArgument)
        let keyBody = second.privateKeyPEM.split(separator: "\n")[1]
        #expect(!error.description.contains(keyBody))
        #expect(!String(describing: second).contains(keyBody))
    }

    @Test func loadingCA_whenCertificateIsALeaf_isRefused() throws {
        let ca = try CertificateAuthority.generate()
        let leaf = try ca.issueServerCertificate(commonName: "leaf")
        let error = try #require(throws: TLSError.self) {
            try CertificateAuthority(certificatePEM: leaf.certificatePEM, privateKeyPEM: leaf.privateKeyPEM)
        }
        #expect(error.kind == .invalidArgument)
    }

    @Test func parsingPEM_whenTextIsGarbage_reportsOpenSSLsReason() throws {
        let error = try #require(throws: TLSError.self) {
            try Certificate(pemRepresentation: "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n")
        }
        #expect(error.kind == .pemDecoding)
        #expect(!error.openSSLErrors.isEmpty)
        #expect(error.description.contains("OpenSSL:"))
        #expect(throws: TLSError.self) { try PrivateKey(pemRepresentation: "hello") }
    }

    @Test func certificateChain_whenPEMHoldsSeveral_parsesAllInOrder() throws {
        let ca = try CertificateAuthority.generate(commonName: "root")
        let leaf = try ca.issueServerCertificate(commonName: "leaf")
        let chain = try Certificate.chain(pemRepresentation: leaf.certificatePEM + ca.certificatePEM)
        #expect(chain.map(\.subjectCommonName) == ["leaf", "root"])
    }

    @Test func issuing_whenDNSNameCouldInjectExtraSANs_isRefused() throws {
        let ca = try CertificateAuthority.generate()
        #expect(throws: TLSError.self) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: ["good.example,IP:10.0.0.1"], ipAddresses: [])
        }
        #expect(throws: TLSError.self) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: [], ipAddresses: ["not-an-ip"])
        }
    }
}
