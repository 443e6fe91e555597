import AWSSigning
import Foundation
import Testing

// The worked examples in AWS's S3 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" and "Authenticating Requests:
// Using Query Parameters"): example credentials, 2013-05-24T00:00:00Z, us-east-1, bucket
// "examplebucket" addressed virtual-host style.
private let s3Date = Date(timeIntervalSince1970: 1_369_353_600)
private let s3Signer = SigV4Signer(
    credentials: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    region: "us-east-1", service: "s3")
private let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

private func s3Request(_ method: String, _ url: String, headers: [(name: String, value: String)] = [], payload: SignableRequest.Payload = .bytes([])) throws -> SignableRequest {
    let parsed = try #require(URL(string: url))
    return try #require(SignableRequest(method: method, url: parsed, headers: headers, payload: payload))
}

@Suite struct S3SigningTests {
    @Test func getObjectWithRange_matchesTheDocumentedCanonicalRequestAndSignature() throws {
        let signed = s3Signer.sign(
            try s3Request("GET", "https://examplebucket.s3.amazonaws.com/test.txt", headers: [(name: "Range", value: "bytes=0-9")]),
            date: s3Date)
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:\(emptySHA256)
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            \(emptySHA256)
            """)
        #expect(signed.stringToSign.hasSuffix("\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.headers.contains { $0.name == "X-Amz-Content-Sha256" && $0.value == emptySHA256 })
    }

    @Test func putObjectWithBody_hashesThePayloadEncodesTheKeyOnceAndMatchesTheSignature() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        let signed = s3Signer.sign(
            try s3Request(
                "PUT", "https://examplebucket.s3.amazonaws.com/test$file.text",
                headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"), (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")],
                payload: .bytes(body)),
            date: s3Date)
        let bodyHash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        #expect(signed.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:\(bodyHash)
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            \(bodyHash)
            """)
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")

        // The same key given already percent-encoded signs identically (S3 encodes once).
        let preEncoded = s3Signer.sign(
            try s3Request(
                "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
                headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"), (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")],
                payload: .sha256Hex(bodyHash)),
            date: s3Date)
        #expect(preEncoded.signature == signed.signature)
    }

    @Test func getBucketLifecycle_signsTheValuelessSubresourceAsAnEmptyValue() throws {
        let signed = s3Signer.sign(try s3Request("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle"), date: s3Date)
        #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(signed.stringToSign.hasSuffix("\n9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"))
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjects_sortsTheQueryParameters() throws {
        let signed = s3Signer.sign(try s3Request("GET", "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"), date: s3Date)
        #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        #expect(signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"))
    }

    @Test func presignedGetObject_matchesTheDocumentedURL() throws {
        let presigned = s3Signer.presign(
            try s3Request("GET", "https://examplebucket.s3.amazonaws.com/test.txt", payload: .unsigned),
            date: s3Date, expiresIn: 86_400)
        #expect(presigned.stringToSign.hasSuffix("\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"))
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            presigned.url(host: "examplebucket.s3.amazonaws.com")
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}

@Suite struct SigV4SignerBehaviourTests {
    @Test func s3Keys_withDotSegmentsAndDoubleSlashes_areSignedVerbatim_butOtherServicesNormalise() throws {
        let request = try s3Request("GET", "https://examplebucket.s3.amazonaws.com/a//b/../c%20d")
        #expect(s3Signer.sign(request, date: s3Date).canonicalRequest.hasPrefix("GET\n/a//b/../c%20d\n"))
        let other = SigV4Signer(credentials: AWSCredentials(accessKeyId: "a", secretAccessKey: "b"), region: "eu-west-1", service: "rds")
        #expect(other.sign(request, date: s3Date).canonicalRequest.hasPrefix("GET\n/a/c%2520d\n"))
    }

    @Test func resigning_replacesTheSignersOwnHeadersInsteadOfDuplicatingThem() throws {
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token-1")
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "sts")
        let first = signer.sign(try s3Request("POST", "https://sts.amazonaws.com/", payload: .bytes(Array("Action=GetCallerIdentity".utf8))), date: s3Date)
        var again = try s3Request("POST", "https://sts.amazonaws.com/", payload: .bytes(Array("Action=GetCallerIdentity".utf8)))
        again.headers = first.headers
        let second = signer.sign(again, date: s3Date.addingTimeInterval(60))
        for name in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token"] {
            #expect(second.headers.filter { $0.name.lowercased() == name.lowercased() }.count == 1, "\(name)")
        }
        #expect(second.signature != first.signature)
        #expect(second.canonicalRequest == first.canonicalRequest.replacingOccurrences(of: "20130524T000000Z", with: "20130524T000100Z"))
    }

    @Test func headersThatProxiesRewrite_areNotSigned() throws {
        let request = try s3Request(
            "GET", "https://examplebucket.s3.amazonaws.com/x",
            headers: [(name: "User-Agent", value: "curl/8"), (name: "Expect", value: "100-continue"), (name: "X-Amz-Meta-Owner", value: "  team   a ")])
        let signed = s3Signer.sign(request, date: s3Date)
        #expect(signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner,"))
        #expect(signed.canonicalRequest.contains("\nx-amz-meta-owner:team a\n"))
    }

    @Test func urlWithNonDefaultPort_putsThePortInTheSignedHost() throws {
        let signed = s3Signer.sign(try s3Request("GET", "http://127.0.0.1:9000/bucket/key"), date: s3Date)
        #expect(signed.canonicalRequest.contains("\nhost:127.0.0.1:9000\n"))
        let defaultPort = s3Signer.sign(try s3Request("GET", "https://s3.amazonaws.com:443/bucket/key"), date: s3Date)
        #expect(defaultPort.canonicalRequest.contains("\nhost:s3.amazonaws.com\n"))
    }

    @Test func credentials_neverShowTheSecretOrTokenWhenPrinted() {
        let credentials = AWSCredentials(accessKeyId: "AKIDVISIBLE", secretAccessKey: "very-secret-key", sessionToken: "session-token-value")
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(text.contains("AKIDVISIBLE"))
            #expect(!text.contains("very-secret-key") && !text.contains("session-token-value"))
        }
        #expect(!String(describing: signer).contains("very-secret-key"))
    }
}
