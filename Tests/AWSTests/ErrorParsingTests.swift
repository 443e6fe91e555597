import HTTPTransport
import Testing

@testable import AWS

@Suite struct ErrorParsingTests {
    func response(_ status: Int, _ body: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    @Test func errorParsing_queryErrorResponseWithNamespace_readsCodeMessageAndRequestId() {
        let error = AWSErrorResponse.parse(
            response(
                404,
                """
                <ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
                  <Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance db-1 not found.</Message></Error>
                  <RequestId>11111111-2222</RequestId>
                </ErrorResponse>
                """), service: "rds", operation: "DescribeDBInstances")
        #expect(error.code == "DBInstanceNotFound")
        #expect(error.message == "DBInstance db-1 not found.")
        #expect(error.requestId == "11111111-2222")
        #expect(error.status == 404)
        #expect(error.origin == .service)
        #expect(error.isNotFound)
        #expect(error.description == "rds DescribeDBInstances failed: DBInstanceNotFound (HTTP 404): DBInstance db-1 not found. [request 11111111-2222]")
    }

    @Test func errorParsing_s3ErrorWithoutNamespace_readsCodeAndRequestId() {
        let error = AWSErrorResponse.parse(
            response(409, "<?xml version=\"1.0\"?><Error><Code>BucketNotEmpty</Code><Message>not empty</Message><RequestId>R1</RequestId></Error>"),
            service: "s3", operation: "DeleteBucket")
        #expect(error.code == "BucketNotEmpty")
        #expect(error.requestId == "R1")
        #expect(!error.isNotFound)
    }

    @Test func errorParsing_prefixedNamespaceElements_stillMatch() {
        let error = AWSErrorResponse.parse(
            response(400, #"<x:ErrorResponse xmlns:x="urn:a"><x:Error><x:Code>Throttling</x:Code><x:Message>Rate exceeded</x:Message></x:Error></x:ErrorResponse>"#),
            service: "sts", operation: "GetCallerIdentity")
        #expect(error.code == "Throttling")
        #expect(error.isThrottling)
    }

    @Test(arguments: [
        (#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"gone"}"#, "ResourceNotFoundException", "gone"),
        (#"{"__type":"ResourceExistsException","Message":"exists"}"#, "ResourceExistsException", "exists"),
        (#"{"__type":"ThrottlingException:http://internal.amazon.com/coral/","message":"slow"}"#, "ThrottlingException", "slow"),
    ])
    func errorParsing_jsonType_stripsPrefixAndSuffix(_ body: String, _ code: String, _ message: String) {
        let error = AWSErrorResponse.parse(
            response(400, body, headers: ["x-amzn-RequestId": "J1"]), service: "secretsmanager", operation: "GetSecretValue")
        #expect(error.code == code)
        #expect(error.message == message)
        #expect(error.requestId == "J1")
    }

    @Test func errorParsing_htmlBody_yieldsTypedErrorWithStatusAndNoBodyEcho() {
        let error = AWSErrorResponse.parse(
            response(500, "<!DOCTYPE html><html><body><h1>Internal Server Error</h1> token=abc</body></html>", headers: ["Content-Type": "text/html"]),
            service: "elasticache", operation: "ModifyReplicationGroup")
        #expect(error.status == 500)
        #expect(error.code == "InternalFailure")
        #expect(error.origin == .service)
        #expect(!error.description.contains("token=abc"))
        #expect(RetryStrategy.classify(error) == .transient)
    }

    @Test func errorParsing_bodilessHead404_isNotFound() {
        let error = AWSErrorResponse.parse(response(404, ""), service: "s3", operation: "HeadBucket")
        #expect(error.code == "NotFound")
        #expect(error.isNotFound)
    }

    @Test func errorParsing_jsonErrorTypeHeader_isUsedWhenBodyIsEmpty() {
        let error = AWSErrorResponse.parse(
            response(400, "", headers: ["x-amzn-ErrorType": "ValidationException:http://x"]), service: "secretsmanager", operation: "X")
        #expect(error.code == "ValidationException")
    }
}
