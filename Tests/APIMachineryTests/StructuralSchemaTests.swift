import APIMachinery
import JSON
import Testing

@Suite struct StructuralSchemaTests {
    static let schema = json(#"""
    {"type":"object","properties":{
      "spec":{"type":"object","required":["size"],"properties":{
        "size":{"type":"string","pattern":"^[0-9]+$"},
        "tier":{"type":"string","enum":["small","large"],"default":"small"},
        "replicas":{"type":"integer","minimum":1,"maximum":10,"default":2,"format":"int32"},
        "ratio":{"type":"number","minimum":0,"exclusiveMinimum":true},
        "name":{"type":"string","minLength":2,"maxLength":5},
        "tags":{"type":"array","maxItems":2,"minItems":1,"x-kubernetes-list-type":"set","items":{"type":"string"}},
        "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                 "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer","default":80}}}},
        "labels":{"type":"object","maxProperties":1,"additionalProperties":{"type":"string"}},
        "port":{"x-kubernetes-int-or-string":true},
        "since":{"type":"string","format":"date-time"},
        "note":{"type":"string","nullable":true},
        "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
        "tls":{"type":"object","default":{},"properties":{"enabled":{"type":"boolean","default":true}}}
      }},
      "status":{"type":"object","properties":{"phase":{"type":"string"}}}
    }}
    """#)

    func messages(_ spec: String) throws -> [String] {
        let s = try StructuralSchema(Self.schema)
        return s.validate(json(#"{"apiVersion":"x/v1","kind":"K","spec":"# + spec + "}")).map(\.description)
    }

    @Test func validate_reportsEachKeywordWithTheServersWording() throws {
        #expect(try messages(#"{}"#) == ["spec.size: Required value"])
        #expect(try messages(#"{"size":"abc"}"#) == [#"spec.size: Invalid value: "abc": spec.size in body should match '^[0-9]+$'"#])
        #expect(try messages(#"{"size":"1","tier":"x"}"#) == [#"spec.tier: Unsupported value: "x": supported values: "small", "large""#])
        #expect(try messages(#"{"size":"1","replicas":0}"#) == ["spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"])
        #expect(try messages(#"{"size":"1","replicas":11}"#) == ["spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"])
        #expect(try messages(#"{"size":"1","ratio":0}"#) == ["spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"])
        #expect(try messages(#"{"size":"1","replicas":"3"}"#) == [#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#])
        #expect(try messages(#"{"size":"1","name":"a"}"#) == [#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#])
        #expect(try messages(#"{"size":"1","name":"abcdef"}"#) == ["spec.name: Too long: may not be more than 5 bytes"])
        #expect(try messages(#"{"size":"1","tags":["a","b","c"]}"#) == ["spec.tags: Too many: 3: must have at most 2 items"])
        #expect(try messages(#"{"size":"1","tags":[]}"#) == ["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"])
        #expect(try messages(#"{"size":"1","tags":["a","a"]}"#) == [#"spec.tags[1]: Duplicate value: "a""#])
        #expect(try messages(#"{"size":"1","ports":[{"name":"a"},{"name":"a"}]}"#) == [#"spec.ports[1]: Duplicate value: {"name":"a"}"#])
        #expect(try messages(#"{"size":"1","ports":[{"port":1}]}"#) == ["spec.ports[0].name: Required value"])
        #expect(try messages(#"{"size":"1","labels":{"a":"1","b":"2"}}"#) == ["spec.labels: Too many: 2: must have at most 1 items"])
        #expect(try messages(#"{"size":"1","labels":{"a":1}}"#) == [#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#])
        #expect(try messages(#"{"size":"1","port":true}"#) == [#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#])
        #expect(try messages(#"{"size":"1","since":"yesterday"}"#) == [#"spec.since: Invalid value: "yesterday": spec.since in body must be of type date-time: "yesterday""#])
        #expect(try messages(#"{"size":"1","replicas":3000000000}"#).count == 2)
    }

    @Test func validate_reportsFormatFailuresAsTypeErrors_likeKubeOpenAPI() throws {
        let s = try StructuralSchema(Self.schema)
        let errors = s.validate(json(#"{"spec":{"size":"1","since":"soon"}}"#))
        #expect(errors.map(\.reason) == ["FieldValueTypeInvalid"])
    }

    @Test func validate_acceptsValuesThatMeetEveryKeyword() throws {
        #expect(try messages(#"{"size":"12","tier":"large","replicas":3,"ratio":0.5,"name":"abc","tags":["a","b"],"#
            + #""ports":[{"name":"a"},{"name":"b"}],"labels":{"a":"x"},"port":"http","since":"2026-01-02T03:04:05Z","note":null,"#
            + #""extra":{"anything":[1]}}"#) == [])
        #expect(try messages(#"{"size":"1","port":8080}"#) == [])
    }

    @Test func validate_whenTheTypeIsWrong_skipsTheOtherKeywordsForThatField() throws {
        #expect(try messages(#"{"size":5}"#).count == 1)
        #expect(try messages(#"{"size":"1","note":null,"tier":null}"#) == [#"spec.tier: Invalid value: "null": spec.tier in body must be of type string: "null""#])
    }

    @Test func applyDefaults_fillsAbsentFieldsRecursively() throws {
        let s = try StructuralSchema(Self.schema)
        var object = json(#"{"spec":{"size":"1","ports":[{"name":"a"},{"name":"b","port":81}],"tier":null}}"#)
        s.applyDefaults(to: &object)
        #expect(object["spec"]["tier"] == "small")
        #expect(object["spec"]["replicas"] == 2)
        #expect(object["spec"]["ports"] == json(#"[{"name":"a","port":80},{"name":"b","port":81}]"#))
        // A defaulted object gets the defaults of its own fields too.
        #expect(object["spec"]["tls"] == json(#"{"enabled":true}"#))
        #expect(object["status"] == .null)
    }

    @Test func prune_dropsUnknownFieldsButKeepsTypeMetaMetadataAndPreservedSubtrees() throws {
        let s = try StructuralSchema(Self.schema)
        var object = json(#"""
        {"apiVersion":"x/v1","kind":"K","metadata":{"name":"a","labels":{"x":"y"},"bogus":1},
         "spec":{"size":"1","unknown":2,"extra":{"kept":{"deep":1}},"ports":[{"name":"a","what":1}]},"top":true}
        """#)
        let pruned = s.prune(&object)
        #expect(pruned == ["metadata.bogus", "spec.ports[0].what", "spec.unknown", "top"])
        #expect(object == json(#"""
        {"apiVersion":"x/v1","kind":"K","metadata":{"name":"a","labels":{"x":"y"}},
         "spec":{"size":"1","extra":{"kept":{"deep":1}},"ports":[{"name":"a"}]}}
        """#))
    }

    @Test(arguments: [
        (#"{"type":"object","properties":{"spec":{"properties":{}}}}"#, "openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"),
        (#"{"type":"string"}"#, #"openAPIV3Schema.type: Invalid value: "string": must be object at the root"#),
        (#"{"type":"object","properties":{"a":{"type":"object","$ref":"defs/x"}}}"#, "openAPIV3Schema.properties[a].$ref: Forbidden: $ref is not supported"),
        (#"{"type":"object","properties":{"a":{"type":"array"}}}"#, "openAPIV3Schema.properties[a].items: Required value: must be specified"),
        (#"{"type":"object","properties":{"a":{"type":"array","items":[{"type":"string"}]}}}"#, "openAPIV3Schema.properties[a].items: Forbidden: items must be a schema object and not an array"),
        (#"{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"additionalProperties":{"type":"string"}}}}"#,
         "openAPIV3Schema.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
        (#"{"type":"object","properties":{"a":{"type":"array","uniqueItems":true,"items":{"type":"string"}}}}"#,
         "openAPIV3Schema.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"),
        (#"{"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}}}}"#,
         "openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"),
        (#"{"type":"object","properties":{"a":{"type":"float"}}}"#,
         #"openAPIV3Schema.properties[a].type: Unsupported value: "float": supported values: "array", "boolean", "integer", "number", "object", "string""#),
    ])
    func init_rejectsNonStructuralSchemas(schema: String, expected: String) {
        #expect {
            try StructuralSchema(json(schema))
        } throws: { error in
            (error as? SchemaError)?.errors.map(\.description).contains(expected) == true
        }
    }
}
