import DevAPIServer
import JSON
import Testing

@Suite struct StorageBadInputTests {
    static let malformedBodies: [JSONValue] = [
        [], "text", 5, nil,
        ["metadata": 5],
        ["metadata": ["name": 5]],
        ["metadata": ["name": "a", "labels": "x"]],
        ["metadata": ["name": "a", "labels": ["k": 5]]],
        ["metadata": ["name": "a", "ownerReferences": "x"]],
        ["metadata": ["name": "a", "ownerReferences": [5, ["uid": 7]]]],
        ["metadata": ["name": "a", "finalizers": [1, nil]]],
        ["metadata": ["name": "a", "namespace": ["x": 1]]],
        ["apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": ["name": "a"]],
        ["kind": "Secret", "metadata": ["name": "a"]],
        ["metadata": ["name": .string(String(repeating: "a", count: 300))]],
    ]

    @Test(arguments: malformedBodies)
    func malformedCreateBody_isAClientError(body: JSONValue) {
        let store = StoreFixture.makeStore()
        do {
            _ = try store.create(StoreKeys.configMaps, namespace: "default", body: body)
        } catch {
            #expect((400..<500).contains(error.code), "\(error)")
        }
    }

    @Test(arguments: malformedBodies)
    func malformedUpdateBody_isAClientError(body: JSONValue) throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        do {
            _ = try store.update(StoreKeys.configMaps, namespace: "default", name: "a", body: body)
        } catch {
            #expect((400..<500).contains(error.code), "\(error)")
        }
    }

    @Test(arguments: [
        (PatchType.merge, "not json"), (PatchType.json, #"{"op":"add"}"#), (PatchType.json, #"[{"op":"explode","path":"/x"}]"#),
        (PatchType.json, #"[{"op":"add","path":"/metadata/name","value":"b"}]"#), (PatchType.strategic, "[1,2]"),
        (PatchType.merge, #"{"metadata":{"name":7}}"#), (PatchType.apply(force: false), "key: [unclosed"),
        (PatchType.apply(force: false), #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}"#),
    ])
    func malformedPatch_isAClientError(type: PatchType, body: String) throws {
        let store = StoreFixture.makeStore()
        _ = try store.create(StoreKeys.configMaps, namespace: "default", body: StoreFixture.configMap("a"))
        let error = #expect(throws: APIError.self) {
            try store.patch(StoreKeys.configMaps, namespace: "default", name: "a", type: type, body: Array(body.utf8),
                            options: WriteOptions(fieldManager: "test"))
        }
        #expect(error.map { (400..<500).contains($0.code) } == true, "\(String(describing: error))")
    }

    @Test func unknownResource_isNotFound() {
        let store = StoreFixture.makeStore()
        let error = #expect(throws: APIError.self) {
            try store.list(ResourceKey(group: "nope.io", version: "v1", plural: "things"), namespace: nil)
        }
        #expect(error?.code == 404)
    }
}
