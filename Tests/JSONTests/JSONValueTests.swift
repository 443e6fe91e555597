import Testing
@testable import JSON

@Suite struct JSONParsingTests {
    @Test func parsesNestedDocumentPreservingIntegers() throws {
        let v = try JSONValue.parse(#"{"a":[1,2.5,-3e2,true,null],"b":{"c":"d"},"big":9007199254740993}"#)
        #expect(v["a"][0] == .int(1))
        #expect(v["a"][1] == .double(2.5))
        #expect(v["a"][2] == .double(-300))
        #expect(v["a"][3] == .bool(true))
        #expect(v["a"][4] == .null)
        #expect(v["b"]["c"] == "d")
        #expect(v["big"] == .int(9_007_199_254_740_993))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let v = try JSONValue.parse(#""a\"b\\c\/\n\t\u00e9\ud83d\ude00\ud800x""#)
        #expect(v == .string("a\"b\\c/\n\té😀\u{FFFD}x"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "-", "\"abc", "{\"a\":1}x", "[1 2]", "\"\u{01}\"", "{1:2}", "\"\\q\"",
    ])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func reportsLineAndColumnOfError() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": x}")
            Issue.record("expected failure")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
            #expect(error.message.contains("'x'"))
        }
    }

    @Test func rejectsExcessiveNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }
}

@Suite struct JSONSerializationTests {
    @Test func serializesWithSortedKeysAndGoStyleEscaping() {
        let v: JSONValue = ["z": 1, "a": ["x": "<&>\n", "n": nil], "d": 1.5]
        #expect(v.serialized() == #"{"a":{"n":null,"x":"\u003c\u0026\u003e\n"},"d":1.5,"z":1}"#)
    }

    @Test func roundTripsArbitraryValues() throws {
        let samples: [JSONValue] = [
            ["metadata": ["name": "x", "labels": ["app": "search"]], "spec": ["replicas": 3, "ratio": 0.25]],
            ["s": "emoji 😀 and \u{2028} separator", "e": [], "o": [:]],
            .array([.int(Int64.min), .int(Int64.max), .double(1e-7), .double(-0.5)]),
        ]
        for sample in samples {
            #expect(try JSONValue.parse(sample.serializedBytes()) == sample)
        }
    }

    @Test func settingNullRemovesMember() {
        var v: JSONValue = ["a": 1, "b": 2]
        v["a"] = nil
        #expect(v == ["b": 2])
        v[path: ["metadata", "labels", "x"]] = "y"
        #expect(v["metadata"]["labels"]["x"] == "y")
        v[path: ["metadata", "labels", "x"]] = nil
        #expect(v["metadata"] == .null)
    }

    @Test func semanticEqualityIgnoresIntegerVersusDoubleSpelling() {
        let a: JSONValue = ["cpu": 1, "list": [2]]
        let b: JSONValue = ["cpu": 1.0, "list": [2.0]]
        #expect(a != b)
        #expect(a.semanticallyEquals(b))
    }
}
