import Testing
import TLS

@Suite struct DigestTests {
    // FIPS 180-2 examples.
    @Test func sha256_ofKnownInputs_matchesPublishedDigests() {
        #expect(SHA256.hash("").hexEncodedString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash("abc").hexEncodedString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(million).hexEncodedString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256_ofNonContiguousSequence_equalsDigestOfSameBytes() {
        let lazyBytes = (0..<1000).lazy.map { UInt8($0 % 251) }
        #expect(SHA256.hash(lazyBytes) == SHA256.hash(Array(lazyBytes)))
    }

    @Test func incrementalHasher_fedInUnevenPieces_equalsTheOneShotDigest() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var hasher = SHA256Hasher()
        var offset = 0
        var piece = 1
        while offset < million.count {
            let end = min(million.count, offset + piece)
            hasher.update(million[offset..<end])
            offset = end
            piece = piece * 3 % 65_521 + 1
        }
        #expect(hasher.finalize().hexEncodedString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        let empty = SHA256Hasher()
        #expect(empty.finalize() == SHA256.hash([UInt8]()))
    }

    // RFC 4231 test cases 1, 2 and 6.
    @Test func hmacSHA256_ofRFC4231Cases_matchesPublishedMACs() {
        #expect(
            HMAC.sha256(key: [UInt8](repeating: 0x0b, count: 20), message: "Hi There").hexEncodedString
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(
            HMAC.sha256(key: Array("Jefe".utf8), message: "what do ya want for nothing?").hexEncodedString
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            HMAC.sha256(
                key: [UInt8](repeating: 0xaa, count: 131),
                message: "Test Using Larger Than Block-Size Key - Hash Key First"
            ).hexEncodedString == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func hmacSHA256_withEmptyKeyAndMessage_matchesKnownValue() {
        #expect(
            HMAC.sha256(key: [UInt8](), message: [UInt8]()).hexEncodedString
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func hex_whenRoundTripped_returnsTheSameBytesAndRejectsBadInput() {
        let bytes: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]
        #expect(bytes.hexEncodedString == "00017f80abff")
        #expect([UInt8](hexEncoded: "00017F80ABff") == bytes)
        #expect([UInt8](hexEncoded: "abc") == nil)
        #expect([UInt8](hexEncoded: "zz") == nil)
    }

    @Test func secureRandom_whenDrawnTwice_givesRequestedLengthAndDifferentValues() throws {
        let first = try SecureRandom.bytes(count: 32)
        let second = try SecureRandom.bytes(count: 32)
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
        #expect(try SecureRandom.bytes(count: 0).isEmpty)
    }

    @Test func secureRandomString_usesOnlyTheAlphabetAndCoversIt() throws {
        let token = try SecureRandom.string(length: 4000, alphabet: Array("abc"))
        #expect(token.count == 4000)
        #expect(Set(token) == Set("abc"))
        let password = try SecureRandom.string(length: 24)
        #expect(password.count == 24 && password.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }
}
