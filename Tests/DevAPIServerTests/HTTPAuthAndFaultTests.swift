import DevAPIServer
import JSON
import Testing

@Suite("HTTP authentication and fault injection")
struct HTTPAuthAndFaultTests {
    @Test func auth_whenTokenIsWrong_answers401AndNeverEchoesTheToken() async throws {
        try await withDevServer({ $0.token = "correct-horse" }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let wrong = try await connection.request(.GET, "/api/v1/namespaces", headers: [("Authorization", "Bearer battery-staple")])
                #expect(wrong.status == 401)
                #expect(wrong.json["reason"] == "Unauthorized")
                #expect(!wrong.text.contains("battery-staple"))
                let right = try await connection.request(.GET, "/api/v1/namespaces", headers: [("Authorization", "Bearer correct-horse")])
                #expect(right.status == 200)
            }
        }
    }

    @Test func auth_whenAnonymous_allowsPublicInfoButForbidsTheAPI() async throws {
        try await withDevServer({ $0.token = "t" }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                #expect(try await connection.request(.GET, "/version").status == 200)
                #expect(try await connection.request(.GET, "/healthz").status == 200)
                let api = try await connection.request(.GET, "/api/v1/namespaces")
                #expect(api.status == 403)
                #expect(api.json["reason"] == "Forbidden")
            }
        }
    }

    @Test func faults_whenThrottleRateIsOne_answers429WithRetryAfterAndCountsIt() async throws {
        try await withDevServer({ $0.faults.throttleRate = 1; $0.faults.retryAfterSeconds = 7 }) { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let response = try await connection.request(.GET, "/api/v1/namespaces")
                #expect(response.status == 429)
                #expect(response.headers["retry-after"].first == "7")
                #expect(response.json["reason"] == "TooManyRequests")
                // Health checks are exempt so probes of the dev server itself stay meaningful.
                #expect(try await connection.request(.GET, "/healthz").status == 200)
            }
            #expect(server.faults.counts.throttled == 1)
        }
    }

    @Test func faults_adminEndpoint_changesConfigurationAndReportsCounts() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let set = try await connection.request(.POST, "/_dev/faults", json: ["errorRate": 1])
                #expect(set.status == 200)
                let failing = try await connection.request(.GET, "/api/v1/namespaces")
                #expect(failing.status == 500)
                #expect(failing.json["reason"] == "InternalError")
                _ = try await connection.request(.POST, "/_dev/faults", json: ["errorRate": 0])
                #expect(try await connection.request(.GET, "/api/v1/namespaces").status == 200)
                let report = try await connection.request(.GET, "/_dev/faults").json
                #expect(report[path: ["counts", "internalErrors"]] == 1)
                let bad = try await connection.request(.POST, "/_dev/faults", json: ["errorRate": -1])
                #expect(bad.status == 400)
            }
        }
    }

    @Test func accessReview_answersAllowedAndWhoTheCallerIs() async throws {
        try await withDevServer({ $0.token = "review-token" }) { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let auth = [("Authorization", "Bearer review-token"), ("Content-Type", "application/json")]
                let access: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                         "spec": ["resourceAttributes": ["verb": "create", "resource": "deployments", "group": "apps"]]]
                let answer = try await connection.request(.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", headers: auth, body: access.serializedBytes())
                #expect(answer.status == 201)
                #expect(answer.json[path: ["status", "allowed"]] == true)
                #expect(answer.json[path: ["spec", "resourceAttributes", "verb"]] == "create")
                let whoami = try await connection.request(.POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers: auth,
                                                          body: Array(#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#.utf8))
                #expect(whoami.json[path: ["status", "userInfo", "username"]] == "dev-admin")
                let discovery = try await connection.request(.GET, "/apis/authorization.k8s.io/v1", headers: auth).json
                #expect(discovery["resources"][0]["name"] == "selfsubjectaccessreviews")
            }
        }
    }
}
