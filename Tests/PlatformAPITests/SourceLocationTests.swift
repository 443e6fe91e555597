import PlatformAPI
import Testing
import YAML

@Suite struct SourceLocationTests {
    static let yaml = """
        apiVersion: platform.medsearch.io/v1alpha1
        kind: MedicalSearchPlatform
        metadata:
          name: demo
        spec:
          tierRef:
            name: production
          region: us-west-2
          image:
            registry: 123456789012.dkr.ecr.us-west-2.amazonaws.com
            tag: "1"
          services:
            search:
              replicas:
                min: 5
                max: 3
          networking:
            dataStoreCIDRs:
              - 10.0.0.0/16
              - 10.0.0.0/99
        """

    @Test func violationLine_whenFieldIsWritten_isTheFieldsLine() throws {
        let document = try YAMLParser.parseDocuments(Self.yaml, file: "p.yaml")[0]
        var violations: [SpecViolation] = []
        do {
            _ = try MedicalSearchPlatform.decode(document.value)
        } catch {
            violations = error.violations
        }
        #expect(violations.map(\.field) == ["spec.services.search.replicas.max", "spec.networking.dataStoreCIDRs[1]"])
        #expect(violations.map { document.line(of: $0) } == [16, 20])
    }

    @Test func violationLine_whenFieldIsAbsent_isItsNearestWrittenAncestor() throws {
        let document = try YAMLParser.parseDocuments(Self.yaml, file: "p.yaml")[0]
        let violation = SpecViolation(field: "spec.database.backupRetentionDays", message: "x")
        #expect(document.line(of: violation) == 5)
    }

    @Test func fieldPathKeys_whenPathHasIndices_splitsThemOut() {
        #expect(FieldPath.keys(of: "spec.a[2].b") == ["spec", "a", "2", "b"])
        #expect(FieldPath.keys(of: "spec.tolerations[0]") == ["spec", "tolerations", "0"])
    }
}
