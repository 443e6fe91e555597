import APIMachinery
import JSON
import Testing

@Suite struct CELTests {
    let spec = json(#"{"min":2,"max":5,"name":"web-1","tier":"large","tags":["a","b"],"limits":{"cpu":"1"},"ratio":0.5}"#)

    @Test(arguments: [
        ("self.min <= self.max", true),
        ("self.min > self.max", false),
        ("has(self.name) && self.name.startsWith('web')", true),
        ("!has(self.replicas) || self.replicas >= self.min", true),
        ("self.tier in ['small', 'large']", true),
        ("self.tier in ['small']", false),
        ("size(self.tags) == 2 && self.tags.size() < 3", true),
        ("self.tags.all(t, t.size() == 1)", true),
        ("self.tags.exists(t, t == 'b')", true),
        ("self.tags.exists_one(t, t != 'z')", false),
        ("'cpu' in self.limits", true),
        ("self.name.matches('^[a-z]+-[0-9]+$')", true),
        ("self.min + 3 == self.max", true),
        ("self.ratio < 1", true),
        ("self.max % 2 == 1 ? self.min == 2 : false", true),
        ("self.tags.map(t, t + 'x') == ['ax', 'bx']", true),
        ("self.tags.filter(t, t == 'a').size() == 1", true),
        ("self.missing == 1 || true", true),
    ])
    func celProgram_evaluatesTheCommonRuleForms(rule: String, expected: Bool) throws {
        #expect(try CELProgram(rule).evaluate(self: spec) == .bool(expected))
    }

    @Test func celProgram_reportsMissingFieldsAsRuntimeErrors_andUnknownSyntaxAsUnsupported() throws {
        #expect(throws: CELError.runtime("no such key: replicas")) { try CELProgram("self.replicas > 1").evaluate(self: spec) }
        #expect(throws: CELError.self) { try CELProgram("quantity(self.x).isGreaterThan(quantity('1'))").evaluate(self: spec) }
        #expect(try CELProgram("self.x == oldSelf.x").usesOldSelf)
    }

    @Test func structuralSchema_enforcesSupportedRules_withTheServersMessages() throws {
        let schema = try StructuralSchema(json(#"""
        {"type":"object","properties":{"spec":{"type":"object",
          "x-kubernetes-validations":[
            {"rule":"self.minReplicas <= self.maxReplicas","message":"minReplicas must not exceed maxReplicas"},
            {"rule":"self.mode != 'off' || !has(self.target)","fieldPath":".target","reason":"FieldValueForbidden","message":"target is not allowed when mode is off"},
            {"rule":"self.minReplicas >= 1"},
            {"rule":"quantity(self.size).isLessThan(quantity('1Gi'))"}
          ],
          "properties":{"minReplicas":{"type":"integer"},"maxReplicas":{"type":"integer"},"mode":{"type":"string"},
                        "target":{"type":"string"},"size":{"type":"string"}}}}}
        """#))
        let ok = json(#"{"spec":{"minReplicas":1,"maxReplicas":3,"mode":"on","target":"x","size":"1Mi"}}"#)
        #expect(schema.validate(ok) == [])
        let bad = json(#"{"spec":{"minReplicas":0,"maxReplicas":-1,"mode":"off","target":"x"}}"#)
        #expect(schema.validate(bad).map(\.description) == [
            #"spec: Invalid value: "object": minReplicas must not exceed maxReplicas"#,
            "spec.target: Forbidden: target is not allowed when mode is off",
            #"spec: Invalid value: "object": failed rule: self.minReplicas >= 1"#,
        ])
        let missing = json(#"{"spec":{"minReplicas":1,"mode":"on"}}"#)
        #expect(schema.validate(missing).map(\.description) == [
            #"spec: Invalid value: "object": no such key: maxReplicas evaluating rule: self.minReplicas <= self.maxReplicas"#,
        ])
    }

    @Test func structuralSchema_transitionRules_runOnlyAgainstACorrelatedOldValue() throws {
        let schema = try StructuralSchema(json(#"""
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "region":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"Value is immutable"}]},
          "pools":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
            "items":{"type":"object","properties":{"name":{"type":"string"},
              "size":{"type":"integer","x-kubernetes-validations":[{"rule":"self >= oldSelf","message":"pools cannot shrink"}]}}}}}}}}
        """#))
        let old = json(#"{"spec":{"region":"eu","pools":[{"name":"a","size":3}]}}"#)
        #expect(schema.validate(json(#"{"spec":{"region":"us","pools":[{"name":"a","size":3}]}}"#)).isEmpty)
        #expect(schema.validate(json(#"{"spec":{"region":"eu","pools":[{"name":"a","size":4},{"name":"b","size":1}]}}"#), old: old).isEmpty)
        #expect(schema.validate(json(#"{"spec":{"region":"us","pools":[{"name":"a","size":2}]}}"#), old: old).map(\.description) == [
            #"spec.pools[0].size: Invalid value: "integer": pools cannot shrink"#,
            #"spec.region: Invalid value: "string": Value is immutable"#,
        ])
    }
}
