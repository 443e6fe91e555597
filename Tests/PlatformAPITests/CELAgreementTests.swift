import APIMachinery
import JSON
import PlatformAPI
import Testing

/// The cross-field rules exist twice, as CEL in the CRDs (for the API server) and in Swift
/// (for decoding outside a cluster); these tests keep them pointing at the same fields.
@Suite struct CELAgreementTests {
    static func rules(in schema: JSONValue) -> [String] {
        var out: [String] = []
        for rule in schema["x-kubernetes-validations"].arrayValue ?? [] {
            if let text = rule["rule"].stringValue { out.append(text) }
        }
        for (_, child) in schema["properties"].objectValue ?? [:] { out += rules(in: child) }
        if !schema["items"].isNull { out += rules(in: schema["items"]) }
        if !schema["additionalProperties"].isNull { out += rules(in: schema["additionalProperties"]) }
        return out
    }

    @Test func everyGeneratedCELRule_isInTheSubsetTheDevServerEnforces() throws {
        for crd in CustomResourceDefinitions.all {
            let rules = Self.rules(in: CustomResourceDefinitionTests.openAPISchema(crd))
            #expect(!rules.isEmpty)
            for rule in rules {
                #expect(throws: Never.self, "\(rule)") { _ = try CELProgram(rule) }
            }
        }
    }

    /// Fields the API server (schema + CEL, after defaulting) rejects.
    static func serverFields(_ crd: JSONValue, _ object: JSONValue) throws -> [String] {
        let schema = try StructuralSchema(CustomResourceDefinitionTests.openAPISchema(crd))
        var value = object
        schema.applyDefaults(to: &value)
        return schema.validate(value).map(\.field)
    }

    static let tierCases: [(String, JSONValue)] = [
        ("spec.services.search.replicas.max", ["services": ["search": ["replicas": ["min": 4, "max": 2]]]]),
        ("spec.storage.lifecycle.glacierAfterDays", ["storage": ["lifecycle": ["infrequentAccessAfterDays": 60, "glacierAfterDays": 45, "deepArchiveAfterDays": 400]]]),
        ("spec.storage.lifecycle.deepArchiveAfterDays", ["storage": ["lifecycle": ["glacierAfterDays": 400, "deepArchiveAfterDays": 365]]]),
        ("spec.database.backupRetentionDays", ["hipaa": true, "database": ["backupRetentionDays": 3]]),
        ("spec.database.storageEncrypted", ["hipaa": true, "database": ["storageEncrypted": false]]),
        ("spec.storage.encrypted", ["hipaa": true, "storage": ["encrypted": false]]),
        ("spec.storage.publicStaticAssets", ["hipaa": true, "storage": ["publicStaticAssets": true]]),
        ("spec.logRetentionDays", ["logRetentionDays": 10]),
        ("spec.services.ai.resources.requests", ["services": ["ai": ["resources": ["requests": ["memory": "256Mi"]]]]]),
    ]

    @Test(arguments: tierCases.indices)
    func tierRule_isReportedAtTheSameFieldByCELAndBySwift(index: Int) throws {
        let (field, spec) = Self.tierCases[index]
        let object = Fixtures.tierObject(spec: spec)
        #expect(try Self.serverFields(CustomResourceDefinitions.serviceTier, object) == [field])
        #expect(decodeViolations(tier: object).map(\.field) == [field])
    }

    @Test func cacheEncryptionRule_isReportedOnTheCacheByCELAndOnItsFieldBySwift() throws {
        // CEL names one field per rule, so the server points at the cache section while
        // Swift names the exact setting; both are under spec.cache.
        let object = Fixtures.tierObject(spec: ["hipaa": true, "cache": ["transitEncryption": false]])
        #expect(try Self.serverFields(CustomResourceDefinitions.serviceTier, object) == ["spec.cache"])
        #expect(decodeViolations(tier: object).map(\.field) == ["spec.cache.transitEncryption"])
    }

    @Test func platformReplicaRule_isReportedAtTheSameFieldByCELAndBySwift() throws {
        let object = Fixtures.platformObject().editing(["spec", "services", "ai", "replicas"], ["min": 5, "max": 3])
        #expect(try Self.serverFields(CustomResourceDefinitions.medicalSearchPlatform, object) == ["spec.services.ai.replicas.max"])
        #expect(decodeViolations(platform: object).map(\.field) == ["spec.services.ai.replicas.max"])
    }

    @Test func validObjects_passBothCELAndSwift() throws {
        for name in Fixtures.exampleTierNames {
            let object = try Fixtures.document("examples/tiers/\(name).yaml").value
            #expect(try Self.serverFields(CustomResourceDefinitions.serviceTier, object) == [])
        }
        let platform = Fixtures.platformObject().editing(["spec", "services", "ai", "replicas"], ["min": 3])
        #expect(try Self.serverFields(CustomResourceDefinitions.medicalSearchPlatform, platform) == [])
        #expect(decodeViolations(platform: platform) == [])
    }
}
