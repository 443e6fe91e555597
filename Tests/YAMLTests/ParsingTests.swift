import JSON
import Testing
@testable import YAML

@Suite struct ParsingTests {
    @Test func multiDocumentStream_yieldsEachNonEmptyDocumentInOrder() throws {
        let text = """
            ---
            apiVersion: v1
            kind: ConfigMap
            ---
            # only a comment
            ---
            ---
            kind: Secret
            ...
            ---
            - 1
            - two
            """
        let documents = try YAMLParser.parseDocuments(text, file: "all.yaml")
        #expect(documents.map(\.value) == [["apiVersion": "v1", "kind": "ConfigMap"], ["kind": "Secret"], [1, "two"]])
        #expect(documents.map(\.index) == [0, 3, 4])
        #expect(documents.allSatisfy { $0.file == "all.yaml" })
    }

    @Test func emptyStream_hasNoDocuments() throws {
        #expect(try YAMLParser.parseDocuments("").isEmpty)
        #expect(try YAMLParser.parseDocuments("# nothing\n").isEmpty)
        #expect(try YAMLParser.parse("") == .null)
    }

    @Test func parse_whenStreamHasTwoDocuments_failsAtTheSecond() {
        #expect {
            try YAMLParser.parse("a: 1\n---\nb: 2\n")
        } throws: { error in
            (error as? YAMLError)?.line == 3
        }
    }

    @Test func flowCollectionsAndJSON_areAccepted() throws {
        let value = try YAMLParser.parse(#"{"a": [1, 2.5, "x", null, true], b: {c: d}}"#)
        #expect(value == ["a": [1, 2.5, "x", nil, true], "b": ["c": "d"]])
    }

    @Test func anchorsAndAliases_expandToCopies() throws {
        let value = try YAMLParser.parse("""
            base: &labels
              app: web
              tier: front
            copy: *labels
            list: [&x 1, *x, *x]
            """)
        #expect(value["copy"] == ["app": "web", "tier": "front"])
        #expect(value["list"] == [1, 1, 1])
    }

    @Test func mergeKeys_letExplicitKeysWinAndEarlierSourcesBeatLaterOnes() throws {
        let value = try YAMLParser.parse("""
            a: &a {x: 1, p: 1, z: 1}
            b: &b {p: 2, w: 2}
            single:
              <<: *a
              x: 9
            many:
              z: 7
              <<: [*b, *a]
            quoted:
              "<<": not a merge
            """)
        #expect(value["single"] == ["x": 9, "p": 1, "z": 1])
        #expect(value["many"] == ["x": 1, "p": 2, "z": 7, "w": 2])
        #expect(value["quoted"] == ["<<": "not a merge"])
    }

    @Test func mergeKey_withAScalar_isRejected() {
        #expect(throws: YAMLError.self) { try YAMLParser.parse("a:\n  <<: 3\n") }
    }

    @Test func aliasBomb_isRejectedInsteadOfExpanded() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        #expect {
            try YAMLParser.parse(text, file: "bomb.yaml")
        } throws: { error in
            (error as? YAMLError)?.problem.contains("too many nodes") == true
        }
    }

    @Test func undefinedAlias_isAnErrorWithItsPosition() {
        #expect {
            try YAMLParser.parse("a: 1\nb: *nowhere\n")
        } throws: { error in
            let e = error as! YAMLError
            return e.line == 2 && e.column == 4 && e.problem.contains("nowhere")
        }
    }

    @Test func duplicateKey_isAnErrorNamingBothPlaces() {
        #expect {
            try YAMLParser.parse("metadata:\n  name: a\n  name: b\n", file: "dup.yaml")
        } throws: { error in
            let e = error as! YAMLError
            return e.description == "dup.yaml:3:3: duplicate key \"name\" (first defined at line 2, column 3)"
        }
    }

    @Test func yAsAKey_becomesTrueAsGoYAMLv2Reads() throws {
        #expect(try YAMLParser.parse("y: 1\n") == ["true": 1])
    }

    @Test func sequenceAsKey_isRejected() {
        #expect(throws: YAMLError.self) { try YAMLParser.parse("? [a, b]\n: c\n") }
    }

    @Test func syntaxError_reportsFileLineColumnAndWhatWasExpected() {
        #expect {
            try YAMLParser.parse("spec:\n  replicas: 3\n   image: x\n", file: "deploy.yaml")
        } throws: { error in
            let e = error as! YAMLError
            return e.file == "deploy.yaml" && e.line == 3 && e.description.hasPrefix("deploy.yaml:3:")
                && e.problem.contains("expected the key to line up")
        }
    }

    @Test func unclosedFlowSequence_reportsWhereItStarted() {
        #expect {
            try YAMLParser.parse("a: [1, 2\nb: 3\n")
        } throws: { error in
            let e = error as! YAMLError
            return e.problem.contains("line 1, column 4")
        }
    }

    @Test func controlCharacter_isAReaderErrorWithAPosition() {
        #expect {
            try YAMLParser.parse("a: 1\nb: x\u{01}y\n")
        } throws: { error in
            let e = error as! YAMLError
            return e.line == 2 && e.column == 5
        }
    }

    @Test func deepNesting_isRejectedBeforeExhaustingTheStack() {
        let text = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect {
            try YAMLParser.parse(text)
        } throws: { error in
            (error as? YAMLError)?.problem.contains("nesting") == true
        }
    }

    @Test func lineOfPath_pointsAtTheKeyOrElement() throws {
        let text = """
            apiVersion: v1
            spec:
              tierRef: gold
              containers:
              - name: a
              - name: b
                image: nginx
            defaults: &d
              region: eu
            other:
              <<: *d
            """
        let document = try #require(YAMLParser.parseDocuments(text).first)
        #expect(document.line(of: ["spec", "tierRef"]) == 3)
        #expect(document.mark(of: ["spec", "tierRef"]) == YAMLMark(line: 3, column: 3))
        #expect(document.line(of: ["spec", "containers", "1"]) == 6)
        #expect(document.line(of: ["spec", "containers", "1", "image"]) == 7)
        #expect(document.line(of: ["other", "region"]) == 9)
        #expect(document.line(of: ["spec", "missing"]) == nil)
        #expect(document.line(of: ["spec", "containers", "7"]) == nil)
    }

    @Test func nodeTree_keepsStylesTagsAndAnchors() throws {
        let document = try #require(YAMLParser.parseDocuments("a: &x 'q'\nb: !!str 1\n").first)
        guard case .mapping(let entries) = document.root.kind else {
            Issue.record("root is not a mapping")
            return
        }
        guard case .scalar(let first) = entries[0].value.kind else {
            Issue.record("a is not a scalar")
            return
        }
        #expect(first == YAMLScalar(text: "q", style: .singleQuoted))
        #expect(entries[0].value.anchor == "x")
        #expect(entries[1].value.tag == "tag:yaml.org,2002:str")
    }
}
