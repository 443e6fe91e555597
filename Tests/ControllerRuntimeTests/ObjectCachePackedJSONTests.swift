import JSON
import Testing
@testable import ControllerRuntime

@Suite struct ObjectCachePackedJSONTests {
    let everyKind: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "search", "namespace": "tenant-1", "labels": ["app.kubernetes.io/name": "search"]],
        "numbers": [0, 1, -1, 63, -64, 64, 300, -300, .int(Int64.max), .int(Int64.min), 1.5, -0.25, 1e300],
        "flags": [true, false, .null],
        "text": ["", "a", "ünïcødé ✓", "quote \" and \\ backslash", "line\nbreak"],
        "empty": ["object": [:], "array": []],
    ]

    @Test func packedJSON_roundTripsEveryKindOfValue() throws {
        let table = SharedStringTable()
        let bytes = PackedJSON.encode(everyKind, table: table)
        #expect(PackedJSON.decode(bytes, table: table) == everyKind)
    }

    @Test func packedJSON_withSharingDisabled_stillRoundTrips() throws {
        let table = SharedStringTable(capacity: 0)
        let bytes = PackedJSON.encode(everyKind, table: table)
        #expect(table.count == 0)
        #expect(PackedJSON.decode(bytes, table: table) == everyKind)
    }

    @Test func packedJSON_whenAStringRepeatsInsideOneObject_storesItOnce() {
        let table = SharedStringTable(capacity: 0)
        let long = String(repeating: "platform-instance-", count: 4)
        let once = PackedJSON.encode(["a": .string(long)], table: table)
        let thrice = PackedJSON.encode(["a": .string(long), "b": .string(long), "c": [.string(long)]], table: table)
        #expect(thrice.count < once.count + 20, "repeats should be back-references, not copies")
        #expect(PackedJSON.decode(thrice, table: table) == ["a": .string(long), "b": .string(long), "c": [.string(long)]])
    }

    @Test func packedJSON_sharesMemberNamesAtOnceAndValuesFromTheirSecondObjectOn() {
        let table = SharedStringTable()
        let value: JSONValue = ["terminationMessagePolicy": "FallbackToLogsOnError"]
        let first = PackedJSON.encode(value, table: table)
        #expect(first.count < "terminationMessagePolicy".utf8.count + "FallbackToLogsOnError".utf8.count, "the member name is a table id")
        #expect(first.count > "FallbackToLogsOnError".utf8.count, "a value seen once stays in its object")
        let second = PackedJSON.encode(value, table: table)
        let third = PackedJSON.encode(value, table: table)
        #expect(second.count < 8 && second == third, "from the second object on, the value is a table id")
        for bytes in [first, second, third] { #expect(PackedJSON.decode(bytes, table: table) == value) }
    }

    @Test func sharedStringTable_countsRepeatsInsideOneObjectAsOneSighting() {
        let table = SharedStringTable()
        _ = PackedJSON.encode(["a": "platform-seven-search", "b": "platform-seven-search", "c": ["platform-seven-search"]], table: table)
        #expect(!table.withStrings { $0.contains("platform-seven-search") })
    }

    @Test func compactJSON_equalValuesAreEqualAndHashAlikeEvenWhenTheirBytesDiffer() {
        let value: JSONValue = ["kind": "Deployment", "image": "registry.example/compact-json-equality:1.0"]
        let first = CompactJSON(value)
        let later = CompactJSON(value)
        #expect(first == later)
        #expect(first.hashValue == later.hashValue)
        #expect(first != CompactJSON(["kind": "Service"]))
    }

    @Test func sharedStringTable_whenFull_keepsEarlierIdsAndEncodesNewStringsTheSameWayEveryTime() {
        let table = SharedStringTable(capacity: 2)
        _ = PackedJSON.encode(["first": "value-one"], table: table)
        let early = PackedJSON.encode(["first": "value-one"], table: table)
        #expect(table.count == 2)
        let late: JSONValue = ["second": "value-two"]
        let lateBytes = PackedJSON.encode(late, table: table)
        #expect(table.count == 2)
        #expect(PackedJSON.encode(late, table: table) == lateBytes)
        #expect(PackedJSON.decode(early, table: table) == ["first": "value-one"])
        #expect(PackedJSON.decode(lateBytes, table: table) == late)
        #expect(PackedJSON.encode(["first": "value-one"], table: table) == early)
    }

    @Test func packedJSON_neverPutsSecretDataUIDsOrTimestampsInTheSharedTable() {
        let table = SharedStringTable()
        let secret: JSONValue = [
            "kind": "Secret",
            "metadata": ["uid": "6f1c2b1e-8a31-4c2e-9f55-0e7d6b2a9c11", "creationTimestamp": "2026-11-25T10:00:00Z"],
            "data": ["password": "c3VwZXItc2VjcmV0", "nested": ["inner": "aW5uZXItc2VjcmV0"]],
            "stringData": ["token": "plain-secret-token"],
        ]
        _ = PackedJSON.encode(secret, table: table)
        let bytes = PackedJSON.encode(secret, table: table)
        let shared = table.withStrings { Set($0) }
        for confidential in ["c3VwZXItc2VjcmV0", "aW5uZXItc2VjcmV0", "plain-secret-token", "6f1c2b1e-8a31-4c2e-9f55-0e7d6b2a9c11", "2026-11-25T10:00:00Z"] {
            #expect(!shared.contains(confidential))
        }
        #expect(shared.contains("Secret"))
        #expect(PackedJSON.decode(bytes, table: table) == secret)
    }

    @Test func packedJSON_whenBytesAreTruncatedOrCorrupt_decodesToNil() {
        let table = SharedStringTable()
        let bytes = PackedJSON.encode(everyKind, table: table)
        for length in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(PackedJSON.decode(Array(bytes.prefix(length)), table: table) == nil)
        }
        #expect(PackedJSON.decode([0xff], table: table) == nil)
        #expect(PackedJSON.decode(bytes + [0], table: table) == nil, "trailing bytes are an error")
    }

    @Test func compactJSON_isAFractionOfTheJSONTextAndDecodesToTheSameValue() {
        let object: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "platform-7-search", "namespace": "tenant-7", "labels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": "platform-7", "app.kubernetes.io/managed-by": "medsearch-operator"]],
            "spec": ["selector": ["matchLabels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": "platform-7"]],
                     "template": ["metadata": ["labels": ["app.kubernetes.io/name": "search", "app.kubernetes.io/instance": "platform-7"]],
                                  "spec": ["containers": [["name": "search", "image": "registry.example/medsearch/search:1.4.2", "terminationMessagePolicy": "File"]]]]],
        ]
        _ = CompactJSON(object)
        let compact = CompactJSON(object)
        #expect(compact.value == object)
        #expect(compact.serializedBytes == object.serializedBytes())
        #expect(compact.bytes.count * 3 < object.serializedBytes().count)
    }
}
