import Testing

@testable import AWS

@Suite struct EndpointResolutionTests {
    @Test(arguments: [
        // (environment, profile endpoint_url, service, expected base URL, custom)
        ([String: String](), nil as String?, AWSService.rds, "https://rds.eu-central-1.amazonaws.com", false),
        ([:], nil, .cloudWatch, "https://monitoring.eu-central-1.amazonaws.com", false),
        ([:], nil, .secretsManager, "https://secretsmanager.eu-central-1.amazonaws.com", false),
        (["AWS_ENDPOINT_URL": "http://127.0.0.1:5000"], nil, .sts, "http://127.0.0.1:5000", true),
        (["AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:6000/sm/"], nil,
            .secretsManager, "http://127.0.0.1:6000/sm", true),
        (["AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:6000"], nil, .rds, "https://rds.eu-central-1.amazonaws.com", false),
        (["AWS_ENDPOINT_URL_ELASTICACHE": "https://127.0.0.1:443"], nil, .elastiCache, "https://127.0.0.1", true),
        (["AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:80"], nil, .cloudWatch, "http://127.0.0.1", true),
        (["AWS_ENDPOINT_URL_RDS": "http://127.0.0.1:7"], "http://127.0.0.1:8", .rds, "http://127.0.0.1:7", true),
        ([:], "http://127.0.0.1:8", .s3, "http://127.0.0.1:8", true),
        (["AWS_ENDPOINT_URL": "not a url"], nil, .sts, "https://sts.eu-central-1.amazonaws.com", false),
        (["AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"], nil, .sts,
            "https://sts.eu-central-1.amazonaws.com", false),
    ])
    func endpointResolver_followsTheSDKsPrecedence(
        _ environment: [String: String], _ profileURL: String?, _ service: AWSService, _ expected: String, _ custom: Bool
    ) {
        let endpoint = EndpointResolver(region: "eu-central-1", environment: environment, profileEndpointURL: profileURL)
            .endpoint(for: service)
        #expect(endpoint.baseURL == expected)
        #expect(endpoint.isCustom == custom)
    }

    @Test func endpointResolver_chinaRegionsUseTheirOwnDomain() {
        #expect(EndpointResolver(region: "cn-north-1").endpoint(for: .rds).baseURL == "https://rds.cn-north-1.amazonaws.com.cn")
    }

    @Test func s3_onAWS_usesVirtualHostedBuckets() {
        let location = EndpointResolver(region: "us-west-2").s3BucketLocation("medsearch-docs")
        #expect(location.endpoint.baseURL == "https://medsearch-docs.s3.us-west-2.amazonaws.com")
        #expect(location.pathPrefix == "")
    }

    @Test func s3_onCustomEndpoint_usesPathStyle() {
        let location = EndpointResolver(region: "us-west-2", environment: ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"])
            .s3BucketLocation("medsearch-docs")
        #expect(location.endpoint.baseURL == "http://127.0.0.1:9000")
        #expect(location.pathPrefix == "/medsearch-docs")
    }

    @Test func s3_bucketNamesWithDots_usePathStyleEvenOnAWS() {
        let location = EndpointResolver(region: "us-west-2").s3BucketLocation("docs.medsearch.example")
        #expect(location.endpoint.baseURL == "https://s3.us-west-2.amazonaws.com")
        #expect(location.pathPrefix == "/docs.medsearch.example")
    }

    @Test(arguments: [
        ("flag-region", ["AWS_REGION": "env-region", "AWS_DEFAULT_REGION": "default-region"], "flag-region"),
        (nil as String?, ["AWS_REGION": "env-region", "AWS_DEFAULT_REGION": "default-region"], "env-region"),
        (nil, ["AWS_DEFAULT_REGION": "default-region"], "default-region"),
        (nil, [String: String](), "profile-region"),
    ])
    func region_resolvesFlagThenEnvironmentThenProfile(_ flag: String?, _ environment: [String: String], _ expected: String) {
        let shared = SharedConfig(profileName: "default", values: ["region": "profile-region"])
        #expect(AWSRegionResolver.resolve(explicit: flag, environment: environment, sharedConfig: shared) == expected)
    }
}
