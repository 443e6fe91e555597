import JSON
import Testing
@testable import YAML

@Suite struct ScalarResolutionTests {
    static let table: [(String, JSONValue)] = [
        ("", .null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null),
        ("true", true), ("True", true), ("TRUE", true), ("yes", true), ("Yes", true), ("YES", true),
        ("on", true), ("On", true), ("ON", true), ("y", true), ("Y", true),
        ("false", false), ("False", false), ("no", false), ("NO", false), ("off", false), ("Off", false), ("n", false),
        ("0", 0), ("42", 42), ("-17", -17), ("+5", 5), ("1_000", 1000), ("0x1F", 31), ("0X1f", 31), ("-0x10", -16),
        ("0o17", 15), ("017", 15), ("0b101", 5), ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)), ("18446744073709551615", .double(Double(UInt64.max))),
        ("1.5", 1.5), ("-0.25", -0.25), (".5", 0.5), ("1e3", 1000.0), ("1.0", 1.0), ("6.02E+23", 6.02e23), ("09", 9.0),
        ("1e400", "1e400"), ("yesno", "yesno"), ("tRUE", "tRUE"), ("nil", "nil"), ("0x", "0x"), ("0xG", "0xG"),
        ("1.2.3", "1.2.3"), ("2001-12-14", "2001-12-14"), ("12:30", "12:30"), ("-x", "-x"), (".", "."), ("+", "+"),
        ("hello", "hello"), ("123abc", "123abc"), ("v1", "v1"),
    ]

    @Test(arguments: table)
    func plainScalar_resolvesLikeGoYAMLv2(_ text: String, _ expected: JSONValue) throws {
        let value = try YAMLParser.parse("v: \(text.isEmpty ? "" : text)\n")
        #expect(value["v"] == expected, "\(text)")
    }

    @Test(arguments: ["'true'", "\"123\"", "'null'", "\"\"", "'0x1F'", "\"~\""])
    func quotedScalar_isAlwaysAString(_ text: String) throws {
        let value = try YAMLParser.parse("v: \(text)\n")
        #expect(value["v"].stringValue != nil)
    }

    @Test func blockScalars_areStringsEvenWhenTheyLookLikeNumbers() throws {
        let value = try YAMLParser.parse("a: |\n  123\nb: >-\n  true\n")
        #expect(value["a"] == "123\n")
        #expect(value["b"] == "true")
    }

    @Test func explicitTags_overrideResolution() throws {
        let value = try YAMLParser.parse("""
            a: !!str 123
            b: !!int "42"
            c: !!float 1
            d: !!bool "yes"
            e: !!null ""
            f: !custom 7
            g: !!str true
            """)
        #expect(value["a"] == "123")
        #expect(value["b"] == 42)
        #expect(value["c"] == .double(1))
        #expect(value["d"] == true)
        #expect(value["e"] == .null)
        #expect(value["f"] == "7")
        #expect(value["g"] == "true")
    }

    @Test func tagThatDoesNotFitItsValue_isAnErrorAtTheValue() {
        #expect {
            try YAMLParser.parse("a: 1\nb: !!int hello\n", file: "x.yaml")
        } throws: { error in
            let e = error as! YAMLError
            return e.line == 2 && e.column == 4 && e.problem.contains("expected an integer") && e.file == "x.yaml"
        }
    }

    @Test(arguments: [".inf", "-.Inf", ".NaN"])
    func nonFiniteFloat_isRejectedBecauseJSONCannotHoldIt(_ text: String) {
        #expect(throws: YAMLError.self) { try YAMLParser.parse("v: \(text)\n") }
    }

    @Test func mappingKeys_becomeStringsTheWayKubernetesConvertsThem() throws {
        let value = try YAMLParser.parse("1: a\non: b\n1.5: d\n~: e\n'2': f\n0x10: g\n")
        #expect(value == ["1": "a", "true": "b", "1.5": "d", "null": "e", "2": "f", "16": "g"])
    }
}
