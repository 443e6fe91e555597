import AWSSigning
import Foundation
import Testing

private let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

private func signer(for suiteCase: SuiteCase) -> SigV4Signer {
    SigV4Signer(
        credentials: AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: suiteCase.sessionToken),
        region: "us-east-1", service: "service",
        options: SigV4Signer.Options(
            doubleEncodePath: true, normalizePath: suiteCase.normalize,
            addContentSHA256Header: suiteCase.signBody, signSessionToken: !suiteCase.omitSessionToken))
}

private func request(for suiteCase: SuiteCase) -> SignableRequest {
    SignableRequest(
        method: suiteCase.method, path: suiteCase.path, query: suiteCase.query,
        headers: suiteCase.headers.map { (name: $0.0, value: $0.1) }, payload: .bytes(Array(suiteCase.body.utf8)))
}

@Suite struct SignatureV4SuiteTests {
    @Test(arguments: signatureV4Suite)
    func headerSigning_ofEachSuiteCase_matchesAWSCanonicalRequestStringToSignAndSignature(_ suiteCase: SuiteCase) {
        let signed = signer(for: suiteCase).sign(request(for: suiteCase), date: suiteDate)
        #expect(signed.canonicalRequest == suiteCase.headerCanonicalRequest)
        #expect(signed.stringToSign == suiteCase.headerStringToSign)
        #expect(signed.signature == suiteCase.headerSignature)
        let signedHeaders = suiteCase.headerCanonicalRequest.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last ?? ""
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(suiteCase.headerSignature)")
        #expect(signed.headers.contains { $0.name == "X-Amz-Date" && $0.value == "20150830T123600Z" })
        if let token = suiteCase.sessionToken {
            #expect(signed.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == token })
        }
    }

    @Test(arguments: signatureV4Suite)
    func querySigning_ofEachSuiteCase_matchesAWSPresignedSignature(_ suiteCase: SuiteCase) {
        let presigned = signer(for: suiteCase).presign(request(for: suiteCase), date: suiteDate, expiresIn: suiteCase.expiresInSeconds)
        #expect(presigned.canonicalRequest == suiteCase.queryCanonicalRequest)
        #expect(presigned.stringToSign == suiteCase.queryStringToSign)
        #expect(presigned.signature == suiteCase.querySignature)
        #expect(presigned.query.hasSuffix("X-Amz-Signature=\(suiteCase.querySignature)")
            || presigned.query.contains("X-Amz-Signature=\(suiteCase.querySignature)&X-Amz-Security-Token="))
    }
}
