import APIMachinery
import JSON
import Testing

@Suite struct LabelSelectorTests {
    @Test(arguments: [
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        (" x in (c, b) ,a", "a,x in (b,c)"),
        ("a notin (x)", "a notin (x)"),
        ("!a", "!a"),
        ("example.com/tier=web,app", "app,example.com/tier=web"),
        ("a=", "a="),
        ("n>3", "n>3"),
    ])
    func labelSelector_parsesValidSyntax_andRendersCanonically(input: String, canonical: String) throws {
        #expect(try LabelSelector.parse(input).description == canonical)
    }

    @Test(arguments: ["a=b=c", "a in x", "a in ()", "=b", "a=b,", "-a=b", "a/b/c=d", "a=b c", "a=" + String(repeating: "x", count: 64),
                      "Example.com/a=b", "a>x", "a in (b", "a,,b"])
    func labelSelector_rejectsInvalidSyntax(input: String) {
        #expect(throws: SelectorError.self) { try LabelSelector.parse(input) }
    }

    @Test func labelSelector_matchesEachOperatorLikeTheServer() throws {
        let labels = ["app": "web", "tier": "front", "n": "5"]
        let table: [(String, Bool)] = [
            ("app=web", true), ("app=db", false), ("app!=db", true), ("missing!=x", true),
            ("app in (db,web)", true), ("app notin (web)", false), ("missing notin (web)", true),
            ("app", true), ("!app", false), ("!missing", true), ("n>4", true), ("n<5", false),
            ("app=web,tier=back", false), ("", true), ("missing in (x)", false),
        ]
        for (selector, expected) in table {
            #expect(try LabelSelector.parse(selector).matches(labels) == expected, "\(selector)")
        }
    }

    @Test func labelSelector_fromMetav1Selector_combinesLabelsAndExpressions() throws {
        let json: JSONValue = [
            "matchLabels": ["app": "web"],
            "matchExpressions": [["key": "env", "operator": "In", "values": ["prod", "stage"]], ["key": "canary", "operator": "DoesNotExist"]],
        ]
        let selector = try LabelSelector(json: json)
        #expect(selector.description == "app=web,!canary,env in (prod,stage)")
        #expect(selector.matches(["app": "web", "env": "prod"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "canary": "1"]))
        #expect(!selector.matches(["app": "web"]))
        #expect(throws: SelectorError.self) { try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Near"]]]) }
        #expect(try LabelSelector(json: .emptyObject).matches([:]))
    }
}

@Suite struct FieldSelectorTests {
    @Test func fieldSelector_parsesOperatorsAndEscapes() throws {
        let selector = try FieldSelector.parse("metadata.name=a\\,b,status.phase!=Running,metadata.namespace==x")
        #expect(selector.requirements.map(\.field) == ["metadata.name", "status.phase", "metadata.namespace"])
        #expect(selector.requirements[0].value == "a,b")
        #expect(selector.requirements[1].operator == .notEquals)
        #expect(selector.description == "metadata.name=a\\,b,status.phase!=Running,metadata.namespace==x")
    }

    @Test func fieldSelector_matchesAgainstAFieldLookup() throws {
        let fields = ["metadata.name": "web", "metadata.namespace": "prod"]
        #expect(try FieldSelector.parse("metadata.name=web").matches { fields[$0] })
        #expect(try !FieldSelector.parse("metadata.name=web,metadata.namespace!=prod").matches { fields[$0] })
        #expect(try FieldSelector.parse("").matches { fields[$0] })
        #expect(try FieldSelector.parse("spec.nodeName=").matches { fields[$0] })
    }

    @Test(arguments: ["name", "a=b\\x", "a=b=c", "a=b\\"])
    func fieldSelector_rejectsMalformedTerms(input: String) {
        #expect(throws: SelectorError.self) { try FieldSelector.parse(input) }
    }
}

@Suite struct FieldErrorTests {
    @Test func fieldError_rendersBodiesLikeTheServer() {
        #expect(FieldError.required("spec.x").description == "spec.x: Required value")
        #expect(FieldError.notSupported("spec.size", "x", supported: ["a", "b"]).message == "Unsupported value: \"x\": supported values: \"a\", \"b\"")
        #expect(FieldError.invalid("spec.n", 3, "must be even").description == "spec.n: Invalid value: 3: must be even")
        #expect(FieldError.notSupported("spec.n", 3, supported: [1, 2]).message == #"Unsupported value: 3: supported values: "1", "2""#)
        #expect(FieldError.tooMany("spec.items", actual: 3, maximum: 2).message == "Too many: 3: must have at most 2 items")
        let two = [FieldError.required("a"), FieldError.required("b")]
        #expect(FieldError.aggregateMessage(two) == "[a: Required value, b: Required value]")
        #expect(FieldError.required("a").statusCause["reason"] == "FieldValueRequired")
    }
}
