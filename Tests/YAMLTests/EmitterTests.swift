import JSON
import Testing
@testable import YAML

@Suite struct EmitterTests {
    @Test func emitsKubectlShapedBlockYAML() {
        let deployment: JSONValue = [
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": [
                "replicas": 3,
                "template": ["spec": ["containers": [["name": "web", "image": "nginx:1.27", "args": ["--port", "8080"]]]]],
                "empty": [:],
                "none": [],
            ],
        ]
        let expected = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              labels:
                app: web
              name: web
            spec:
              empty: {}
              none: []
              replicas: 3
              template:
                spec:
                  containers:
                  - args:
                    - --port
                    - '8080'
                    image: nginx:1.27
                    name: web

            """
        #expect(YAMLEmitter.emit(deployment) == expected)
    }

    @Test(arguments: [
        ("true", "'true'"), ("yes", "'yes'"), ("Off", "'Off'"), ("123", "'123'"), ("0x1F", "'0x1F'"), ("1.5", "'1.5'"),
        ("null", "'null'"), ("~", "'~'"), ("", "''"), (" lead", "' lead'"), ("trail ", "'trail '"),
        ("a: b", "'a: b'"), ("a #b", "'a #b'"), ("ends:", "'ends:'"), ("- x", "'- x'"), ("-", "'-'"), ("---", "'---'"),
        ("#x", "'#x'"), ("*ref", "'*ref'"), ("&a", "'&a'"), ("!tag", "'!tag'"), ("@at", "'@at'"), ("%p", "'%p'"),
        ("{x}", "'{x}'"), ("[x]", "'[x]'"), ("it's", "it's"), ("'q'", "'''q'''"), ("<<", "'<<'"), (".inf", "'.inf'"),
        ("tab\there", "\"tab\\there\""), ("bell\u{07}", "\"bell\\x07\""), ("nel\u{85}", "\"nel\\x85\""),
        ("ls\u{2028}", "\"ls\\L\""), ("bom\u{FEFF}", "\"bom\\uFEFF\""), ("cr\r\nlf", "\"cr\\r\\nlf\""),
        ("plain text", "plain text"), ("a:b", "a:b"), ("a#b", "a#b"), ("--flag=1", "--flag=1"), ("héllo", "héllo"),
        ("2001-12-14", "'2001-12-14'"), ("2024-01-02T03:04:05Z", "'2024-01-02T03:04:05Z'"), ("12:30", "'12:30'"),
        ("-1:20:30.5", "'-1:20:30.5'"), ("1:99", "1:99"), ("2001", "'2001'"), ("http://x:80/y", "http://x:80/y"),
    ])
    func strings_areQuotedOnlyWhenAPlainScalarWouldReadBackDifferently(_ text: String, _ expected: String) throws {
        let emitted = YAMLEmitter.emit(["k": .string(text)])
        #expect(emitted == "k: \(expected)\n")
        #expect(try YAMLParser.parse(emitted) == ["k": .string(text)])
    }

    @Test func keys_areQuotedByTheSameRules() throws {
        let value: JSONValue = ["true": 1, "": 2, "a: b": 3, "plain": 4]
        let emitted = YAMLEmitter.emit(value)
        #expect(emitted == "'': 2\n'a: b': 3\nplain: 4\n'true': 1\n")
        #expect(try YAMLParser.parse(emitted) == value)
    }

    @Test func multiLineStrings_useLiteralBlocksWithTheRightChomping() throws {
        let value: JSONValue = ["clip": "a\nb\n", "strip": "a\nb", "keep": "a\n\n", "list": ["x\ny\n"]]
        let emitted = YAMLEmitter.emit(value)
        #expect(emitted == "clip: |\n  a\n  b\nkeep: |+\n  a\n\nlist:\n- |\n  x\n  y\nstrip: |-\n  a\n  b\n")
        #expect(try YAMLParser.parse(emitted) == value)
    }

    @Test func multiLineStringStartingWithSpace_isDoubleQuoted() {
        #expect(YAMLEmitter.emit(["k": "  indented\nnext"]) == "k: \"  indented\\nnext\"\n")
    }

    @Test func numbersAndScalars_readBackWithTheirTypes() throws {
        let value: JSONValue = ["i": -7, "d": 1.0, "big": 1e20, "tiny": .double(.leastNonzeroMagnitude), "b": false, "n": nil]
        let emitted = YAMLEmitter.emit(value)
        #expect(emitted.contains("d: 1.0\n"))
        #expect(try YAMLParser.parse(emitted) == value)
    }

    @Test func nestedSequences_useCompactDashes() {
        #expect(YAMLEmitter.emit([[1, 2], [["a": 1, "b": 2]], []]) == "- - 1\n  - 2\n- - a: 1\n    b: 2\n- []\n")
    }

    @Test func topLevelScalars_areWholeDocuments() throws {
        #expect(YAMLEmitter.emit("text") == "text\n")
        #expect(YAMLEmitter.emit([:]) == "{}\n")
        #expect(try YAMLParser.parseDocuments(YAMLEmitter.emit("two\nlines")).first?.value == "two\nlines")
    }

    @Test func multipleDocuments_areSeparatedByDashes() throws {
        let documents: [JSONValue] = [["kind": "A"], ["kind": "B"]]
        let emitted = YAMLEmitter.emit(documents: documents)
        #expect(emitted == "kind: A\n---\nkind: B\n")
        #expect(try YAMLParser.parseValues(emitted) == documents)
    }

    @Test func veryLongKey_usesAnExplicitKeyAndReadsBack() throws {
        let key = String(repeating: "k", count: 2000)
        let value: JSONValue = .object([key: ["x": 1]])
        let emitted = YAMLEmitter.emit(value)
        #expect(emitted.hasPrefix("? kkk"))
        #expect(try YAMLParser.parse(emitted) == value)
    }
}
