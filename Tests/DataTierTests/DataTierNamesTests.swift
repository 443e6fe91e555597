import Foundation
import PlatformAPI
import Testing

@testable import DataTier

@Suite struct DataTierNamesTests {
    static let rdsPattern = try! NSRegularExpression(pattern: "^[a-z](-?[a-z0-9])*$")

    static func matches(_ text: String) -> Bool {
        rdsPattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    @Test func names_forLongNamespaceAndName_fitAWSLimitsAndCharsets() throws {
        let namespace = String(repeating: "n", count: 60) + "-x9"
        let name = "a" + String(repeating: "b-", count: 19)
        let platform = try Fixtures.platform(name: String(name.dropLast()) + "z", namespace: namespace) { o in
            o[path: ["spec", "storage", "bucketPrefix"]] = "long-one"
        }
        let names = DataTierNames(platform: platform)
        #expect(names.dbInstance.count <= 63)
        #expect(names.readReplica(5).count <= 63)
        #expect(names.replicationGroup.count <= 40)
        for id in [names.dbInstance, names.readReplica(3), names.replicationGroup, names.cacheSubnetGroup, names.dbSubnetGroup] {
            #expect(Self.matches(id), "\(id)")
        }
    }

    @Test func names_forPlatformsDifferingOnlyPastTheTruncation_stillDiffer() throws {
        let prefix = String(repeating: "p", count: 39)
        let a = DataTierNames(platform: try Fixtures.platform(name: prefix + "a", namespace: "clinic"))
        let b = DataTierNames(platform: try Fixtures.platform(name: prefix + "b", namespace: "clinic"))
        #expect(a.replicationGroup != b.replicationGroup)
        #expect(a.dbInstance != b.dbInstance)
    }

    @Test func names_areStableForTheSamePlatform() throws {
        let a = DataTierNames(platform: try Fixtures.platform())
        let b = DataTierNames(platform: try Fixtures.platform())
        #expect(a == b)
        #expect(a.dbInstance.hasPrefix("ms-clinic-demo-"))
        #expect(a.owner == "clinic/demo")
        #expect(a.kubernetesSecret == "demo-credentials")
    }

    @Test func names_whenAdopting_useTheAdoptedIdentifiers() throws {
        let platform = try Fixtures.platform { o in
            o[path: ["spec", "database", "adopt"]] = ["instanceIdentifier": "legacy-db"]
            o[path: ["spec", "cache", "adopt"]] = ["replicationGroupId": "legacy-redis"]
        }
        let names = DataTierNames(platform: platform)
        #expect(names.dbInstance == "legacy-db")
        #expect(names.replicationGroup == "legacy-redis")
    }
}
