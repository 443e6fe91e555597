import JSON
import PlatformAPI
import PlatformSpecs
import Testing
import YAML

@Suite struct ManifestRenderingTests {
    static func tierDocuments() throws -> [YAMLDocument] {
        try Fixtures.exampleTierNames.flatMap { name in
            let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("examples/tiers/\(name).yaml"), encoding: .utf8)
            return try YAMLParser.parseDocuments(text, file: "\(name).yaml")
        }
    }

    static func platformDocument(_ text: String) throws -> YAMLDocument {
        try YAMLParser.parseDocuments(text, file: "platform.yaml")[0]
    }

    static let valid = """
        apiVersion: platform.medsearch.io/v1alpha1
        kind: MedicalSearchPlatform
        metadata:
          name: demo
          namespace: clinic
        spec:
          tierRef:
            name: dev
          region: us-west-2
          image:
            registry: 123456789012.dkr.ecr.us-west-2.amazonaws.com
            tag: "1.0.0"
        """

    @Test func render_whenInputIsValid_printsEveryChildAsADocumentThatParsesBack() throws {
        let output = try ManifestRendering.render(platform: Self.platformDocument(Self.valid), tiers: Self.tierDocuments(), tierSource: "examples/tiers")
        let documents = try YAMLParser.parseValues(output.yaml)
        #expect(documents.count == 38)
        #expect(documents == output.state.objects)
        #expect(output.tier.name == "dev")
        #expect(output.yaml.contains("# Estimated monthly cost: $135.05"))
    }

    @Test func render_withoutAUID_leavesOwnerReferencesOutAndSaysSo_andWithOneSetsThem() throws {
        let document = try Self.platformDocument(Self.valid)
        let anonymous = try ManifestRendering.render(platform: document, tiers: Self.tierDocuments(), tierSource: "t")
        #expect(anonymous.yaml.contains("# No ownerReferences"))
        let documents = try YAMLParser.parseValues(anonymous.yaml)
        #expect(!documents.isEmpty)
        #expect(documents.allSatisfy { $0["metadata"]["ownerReferences"] == JSONValue.null })
        let real = try ManifestRendering.render(platform: document, tiers: Self.tierDocuments(), uid: "1234-real", tierSource: "t")
        #expect(!real.yaml.contains("# No ownerReferences"))
        #expect(real.state.objects.allSatisfy { $0["metadata"]["ownerReferences"][0]["uid"] == "1234-real" })
    }

    @Test func render_whenTheTierIsMissing_pointsAtTierRef() throws {
        let text = Self.valid.replacingOccurrences(of: "name: dev", with: "name: gold")
        #expect(throws: ManifestRendering.Failure(lines: ["platform.yaml:8: spec.tierRef.name: no ServiceTier named \"gold\" in examples/tiers"])) {
            try ManifestRendering.render(platform: Self.platformDocument(text), tiers: Self.tierDocuments(), tierSource: "examples/tiers")
        }
    }

    @Test func render_whenFieldsAreWrong_givesFileLineAndFieldForEach() throws {
        let text = Self.valid + """

              services:
                ai:
                  replicas:
                    min: 4
              database:
                deletionPolicy: Forget
            """
        #expect(throws: ManifestRendering.Failure(lines: [
            "platform.yaml:18: spec.database.deletionPolicy: unsupported value \"Forget\": must be one of \"Retain\", \"Snapshot\", \"Delete\"",
        ])) {
            try ManifestRendering.render(platform: Self.platformDocument(text), tiers: Self.tierDocuments(), tierSource: "t")
        }
        let fixed = text.replacingOccurrences(of: "Forget", with: "Delete")
        #expect(throws: ManifestRendering.Failure(lines: [
            "platform.yaml:16: spec.services.ai.replicas.min: must be <= max (2) from tier \"dev\"",
        ])) {
            try ManifestRendering.render(platform: Self.platformDocument(fixed), tiers: Self.tierDocuments(), tierSource: "t")
        }
    }
}
