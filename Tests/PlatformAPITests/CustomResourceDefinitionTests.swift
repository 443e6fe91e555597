import APIMachinery
import Foundation
import JSON
import PlatformAPI
import Testing
import YAML

@Suite struct CustomResourceDefinitionTests {
    @Test func committedCRDs_whenCompared_matchWhatTheGeneratorWrites() throws {
        for file in CustomResourceDefinitions.files() {
            let committed = try Fixtures.text("crds/\(file.name)")
            #expect(committed == file.contents, "crds/\(file.name) is stale: run `swift run medsearch-operator crds`")
        }
    }

    @Test func generatedCRDs_whenParsedBack_equalTheGeneratorsValue() throws {
        for (file, crd) in zip(CustomResourceDefinitions.files(), CustomResourceDefinitions.all) {
            #expect(try YAMLParser.parse(file.contents) == crd)
        }
    }

    @Test func generatedSchemas_whenCheckedByAPIMachinery_areStructural() throws {
        for crd in CustomResourceDefinitions.all {
            let schema = crd[path: ["spec", "versions"]][0][path: ["schema", "openAPIV3Schema"]]
            _ = try StructuralSchema(schema)
        }
    }

    @Test func exampleTiers_whenValidatedAgainstTheGeneratedSchema_haveNoErrors() throws {
        let schema = try StructuralSchema(Self.openAPISchema(CustomResourceDefinitions.serviceTier))
        for name in Fixtures.exampleTierNames {
            var object = try Fixtures.document("examples/tiers/\(name).yaml").value
            schema.applyDefaults(to: &object)
            #expect(schema.validate(object) == [], "\(name)")
        }
    }

    @Test func examplePlatforms_whenValidatedAgainstTheGeneratedSchema_haveNoErrors() throws {
        let schema = try StructuralSchema(Self.openAPISchema(CustomResourceDefinitions.medicalSearchPlatform))
        for file in Fixtures.examplePlatformFiles {
            var object = try Fixtures.document(file).value
            schema.applyDefaults(to: &object)
            #expect(schema.validate(object) == [], "\(file)")
        }
    }

    @Test func serverDefaulting_whenAppliedToAnEmptyTier_givesTheSameSpecAsSwiftDecoding() throws {
        // The API server defaults from the CRD; `render` defaults in Swift. Both read the
        // same schema, and this checks they also agree on the result.
        let schema = try StructuralSchema(Self.openAPISchema(CustomResourceDefinitions.serviceTier))
        var object = Fixtures.tierObject()
        schema.applyDefaults(to: &object)
        let fromServer = try ServiceTier.decode(object)
        let fromSwift = try ServiceTier.decode(Fixtures.tierObject())
        #expect(fromServer == fromSwift)
        #expect(object[path: ["spec", "services", "ai", "replicas", "max"]] == 3)
    }

    @Test func platformCRD_whenGenerated_hasNamesColumnsAndStatusSubresource() {
        let crd = CustomResourceDefinitions.medicalSearchPlatform
        #expect(crd[path: ["metadata", "name"]] == "medicalsearchplatforms.platform.medsearch.io")
        #expect(crd[path: ["spec", "scope"]] == "Namespaced")
        #expect(crd[path: ["spec", "names", "shortNames"]] == ["msp"])
        #expect(crd[path: ["spec", "names", "categories"]] == ["medsearch"])
        let version = crd[path: ["spec", "versions"]][0]
        #expect(version[path: ["subresources", "status"]] == .emptyObject)
        let columns = (version["additionalPrinterColumns"].arrayValue ?? []).compactMap { $0["name"].stringValue }
        #expect(columns == ["Tier", "Ready", "Services", "Database", "Cache", "Storage", "Cost", "Age"])
    }

    @Test func tierCRD_whenGenerated_isClusterScopedWithoutStatus() {
        let crd = CustomResourceDefinitions.serviceTier
        #expect(crd[path: ["spec", "scope"]] == "Cluster")
        #expect(crd[path: ["spec", "names", "shortNames"]] == ["st"])
        #expect(crd[path: ["spec", "versions"]][0]["subresources"].isNull)
    }

    @Test func crossFieldRules_whenGenerated_appearAsCELOnTheirObjects() {
        let spec = Self.openAPISchema(CustomResourceDefinitions.serviceTier)[path: ["properties", "spec"]]
        let replicas = spec[path: ["properties", "services", "properties", "search", "properties", "replicas"]]
        #expect(replicas["x-kubernetes-validations"][0]["rule"] == "self.min <= self.max")
        #expect(replicas["x-kubernetes-validations"][0]["fieldPath"] == ".max")
        let hipaaRules = (spec["x-kubernetes-validations"].arrayValue ?? []).compactMap { $0["rule"].stringValue }
        #expect(hipaaRules.contains("!self.hipaa || self.database.backupRetentionDays >= 7"))

        let platformSpec = Self.openAPISchema(CustomResourceDefinitions.medicalSearchPlatform)[path: ["properties", "spec"]]
        let override = platformSpec[path: ["properties", "services", "properties", "ai", "properties", "replicas"]]
        #expect(override["x-kubernetes-validations"][0]["rule"] == "!has(self.min) || !has(self.max) || self.min <= self.max")
    }

    @Test func platformSchema_whenGenerated_carriesEnumsPatternsBoundsAndDefaults() {
        let spec = Self.openAPISchema(CustomResourceDefinitions.medicalSearchPlatform)[path: ["properties", "spec"]]
        let database = spec[path: ["properties", "database", "properties"]]
        #expect(database[path: ["deletionPolicy", "enum"]] == ["Retain", "Snapshot", "Delete"])
        #expect(database[path: ["readReplicas", "maximum"]] == 5)
        #expect(database[path: ["adopt", "properties", "instanceIdentifier", "pattern"]].stringValue != nil)
        #expect(spec[path: ["properties", "alarms", "properties", "cpuUtilizationPercent", "default"]] == 80)
        #expect(spec[path: ["properties", "alarms", "properties", "http5xxRatePercent", "default"]] == 5)
        #expect(spec["required"] == ["tierRef", "region", "image"])
    }

    static func openAPISchema(_ crd: JSONValue) -> JSONValue {
        crd[path: ["spec", "versions"]][0][path: ["schema", "openAPIV3Schema"]]
    }
}

@Suite struct SchemaPatternTests {
    static func patterns(in schema: JSONValue) -> [String] {
        var out: [String] = []
        if let pattern = schema["pattern"].stringValue { out.append(pattern) }
        for (_, child) in schema["properties"].objectValue ?? [:] { out += patterns(in: child) }
        if !schema["items"].isNull { out += patterns(in: schema["items"]) }
        if !schema["additionalProperties"].isNull { out += patterns(in: schema["additionalProperties"]) }
        return out
    }

    @Test func everyPattern_inTheGeneratedSchemas_compilesAndIsAnchored() throws {
        // Decoding treats a pattern that fails to compile as a mismatch, so a broken
        // pattern would reject every value; anchoring keeps Go's RE2 and Foundation agreeing
        // on what "matches" means.
        for crd in CustomResourceDefinitions.all {
            let patterns = Self.patterns(in: CustomResourceDefinitionTests.openAPISchema(crd))
            #expect(patterns.count > 5)
            for pattern in patterns {
                #expect(throws: Never.self, "\(pattern)") { _ = try NSRegularExpression(pattern: pattern) }
                #expect(pattern.hasPrefix("^") && pattern.hasSuffix("$"), "\(pattern)")
            }
        }
    }
}
