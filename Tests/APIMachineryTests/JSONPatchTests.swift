import APIMachinery
import JSON
import Testing

func json(_ text: String) -> JSONValue {
    do { return try JSONValue.parse(text) } catch { fatalError("bad test JSON: \(error) in \(text)") }
}

@Suite struct JSONMergePatchTests {
    // RFC 7386 appendix A, every row.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatch_appliesRFC7386Examples(target: String, patch: String, expected: String) {
        #expect(JSONMergePatch.apply(json(patch), to: json(target)) == json(expected))
    }

    @Test func mergePatchDiff_producesAPatchThatReproducesTheTarget() {
        let from = json(#"{"a":1,"b":{"c":2,"d":3},"e":[1,2],"gone":true}"#)
        let to = json(#"{"a":1,"b":{"c":5,"d":3},"e":[1],"new":"x"}"#)
        let patch = JSONMergePatch.diff(from: from, to: to)
        #expect(patch == json(#"{"b":{"c":5},"e":[1],"gone":null,"new":"x"}"#))
        #expect(JSONMergePatch.apply(patch, to: from) == to)
        #expect(JSONMergePatch.diff(from: to, to: to) == .emptyObject)
    }
}

@Suite struct JSONPatchTests {
    // RFC 6902 appendix A examples that succeed.
    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#),
        (#"{"baz":"qux","foo":["a",2,"c"]}"#, #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
         #"{"baz":"qux","foo":["a",2,"c"]}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10},{"op":"copy","from":"/~1","path":"/a~1b"}]"#, #"{"/":9,"~1":10,"a/b":9}"#),
        (#"{"foo":null}"#, #"[{"op":"test","path":"/foo","value":null}]"#, #"{"foo":null}"#),
        (#"{"a":1}"#, #"[{"op":"replace","path":"","value":[1]}]"#, #"[1]"#),
    ])
    func jsonPatch_appliesRFC6902Examples(document: String, patch: String, expected: String) throws {
        #expect(try JSONPatch.apply(json(patch), to: json(document)) == json(expected))
    }

    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#),
        (#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#),
        (#"{"foo":[1]}"#, #"[{"op":"add","path":"/foo/5","value":1}]"#),
        (#"{"foo":[1]}"#, #"[{"op":"remove","path":"/foo/01"}]"#),
        (#"{"foo":1}"#, #"[{"op":"replace","path":"/bar","value":1}]"#),
        (#"{"foo":1}"#, #"[{"op":"frobnicate","path":"/foo"}]"#),
        (#"{"foo":{"a":1}}"#, #"[{"op":"move","from":"/foo","path":"/foo/a/b"}]"#),
    ])
    func jsonPatch_whenTheOperationDoesNotApply_failsWith422(document: String, patch: String) {
        #expect {
            try JSONPatch.apply(json(patch), to: json(document))
        } throws: { error in
            (error as? PatchError)?.statusCode == 422
        }
    }

    @Test func jsonPatch_whenTheDocumentIsNotAnArray_failsWith400() {
        #expect {
            try JSONPatch.apply(json(#"{"op":"add"}"#), to: .emptyObject)
        } throws: { error in
            (error as? PatchError)?.isBadRequest == true
        }
    }

    @Test func jsonPatch_isAtomic_soAFailedTestLeavesTheCallerWithNoPartialResult() throws {
        let original = json(#"{"a":1}"#)
        #expect(throws: PatchError.self) {
            try JSONPatch.apply(json(#"[{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":9}]"#), to: original)
        }
        #expect(original == json(#"{"a":1}"#))
    }
}
