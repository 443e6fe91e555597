import DevAPIServer
import JSON
import Testing

@Suite("HTTP bad input")
struct HTTPBadInputTests {
    @Test func httpServer_whenPathIsUnknown_answers404WithTheRealServersStatus() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                for path in ["/nope", "/api/v1/frobs", "/apis/example.com/v1/widgets", "/api/v1/namespaces/default/configmaps/a/b/c"] {
                    let response = try await connection.request(.GET, path)
                    #expect(response.status == 404, "\(path)")
                    #expect(response.json["kind"] == "Status")
                    #expect(response.json["message"] == "the server could not find the requested resource")
                }
            }
        }
    }

    @Test func httpServer_whenBodyIsMalformedJSON_answers400BadRequest() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps",
                                                            headers: [("Content-Type", "application/json")], body: Array(#"{"kind": "#.utf8))
                #expect(response.status == 400)
                #expect(response.json["reason"] == "BadRequest")
                #expect(response.json["status"] == "Failure")
            }
        }
    }

    @Test func httpServer_whenBodyKindDoesNotMatchTheURL_answers400() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                var secret = configMap("s")
                secret["kind"] = "Secret"
                let wrongKind = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: secret)
                #expect(wrongKind.status == 400)
                var wrongVersion = configMap("s")
                wrongVersion["apiVersion"] = "apps/v1"
                let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: wrongVersion)
                #expect(response.status == 400)
                #expect(response.json["message"].stringValue?.contains("does not match the expected API version") == true)
            }
        }
    }

    @Test func httpServer_whenNameOrNamespaceInBodyDiffersFromTheURL_answers400() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let created = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("right")).json
                let renamed = try await connection.request(.PUT, "/api/v1/namespaces/default/configmaps/wrong", json: created)
                #expect(renamed.status == 400)
                let otherNamespace = try await connection.request(.POST, "/api/v1/namespaces/kube-system/configmaps", json: configMap("x"))
                #expect(otherNamespace.status == 400)
            }
        }
    }

    @Test func httpServer_whenBodyExceeds3MiB_answers413RequestEntityTooLarge() async throws {
        try await withDevServer { server, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let big = [UInt8](repeating: UInt8(ascii: "a"), count: 3 * 1024 * 1024 + 1)
                let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps",
                                                            headers: [("Content-Type", "application/json")], body: big)
                #expect(response.status == 413)
                #expect(response.json["reason"] == "RequestEntityTooLarge")
            }
            #expect(server.store.statistics.objectCount == 4, "only the four initial namespaces exist")
        }
    }

    @Test func httpServer_whenPatchContentTypeIsUnknown_answers415() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", json: configMap("p"))
                let response = try await connection.request(.PATCH, "/api/v1/namespaces/default/configmaps/p", json: ["data": .emptyObject], contentType: "text/plain")
                #expect(response.status == 415)
                #expect(response.json["reason"] == "UnsupportedMediaType")
            }
        }
    }

    @Test func httpServer_whenCustomResourceIsInvalid_answers422WithFieldCauses() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                _ = try await connection.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: widgetCRD)
                let widget: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["size": 0, "color": "green"]]
                let response = try await connection.request(.POST, "/apis/example.com/v1/namespaces/default/widgets", json: widget)
                #expect(response.status == 422)
                #expect(response.json["reason"] == "Invalid")
                let fields = response.json[path: ["details", "causes"]].arrayValue?.compactMap { $0["field"].stringValue } ?? []
                #expect(Set(fields) == ["spec.size", "spec.color"])
            }
        }
    }

    @Test func httpServer_afterManyBadRequests_keepsServing() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let bodies: [[UInt8]] = [[], Array("[]".utf8), Array("null".utf8), Array("{\"metadata\":5}".utf8), [0xff, 0xfe, 0x00], Array("{}".utf8)]
                for body in bodies {
                    let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps", headers: [("Content-Type", "application/json")], body: body)
                    #expect((400..<500).contains(response.status), "\(body)")
                }
                let health = try await connection.request(.GET, "/healthz")
                #expect(health.status == 200)
                #expect(health.text == "ok")
            }
        }
    }
}

@Suite("HTTP Expect: 100-continue")
struct HTTPExpectContinueTests {
    @Test func httpServer_whenClientExpects100Continue_answersContinueBeforeTheFinalResponse() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let body = configMap("expecting").serializedBytes()
                let head = try await connection.send(.POST, "/api/v1/namespaces/default/configmaps",
                                                     headers: [("Content-Type", "application/json"), ("Expect", "100-continue")], body: body)
                #expect(head.status == .continue)
                let final = try await connection.nextHead()
                #expect(final?.status == .created)
            }
        }
    }

    @Test func httpServer_whenClientExpects100ContinueForAnOversizedBody_refusesWith413() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let head = try await connection.sendHeadOnly(.POST, "/api/v1/namespaces/default/configmaps",
                                                             headers: [("Content-Type", "application/json"), ("Expect", "100-continue"), ("Content-Length", "4194304")])
                #expect(head.status == .payloadTooLarge)
            }
        }
    }
}
