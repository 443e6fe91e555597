import ControllerRuntime
import JSON
import KubeAPI
import Testing
import YAML
@testable import PlatformController

/// deploy/ must keep up with the code: RBAC for every kind the controller touches, and
/// operator arguments the `run` command accepts.
@Suite struct DeployManifestTests {
    static func documents(_ file: String) throws -> [JSONValue] {
        try YAMLParser.parseValues(try Examples.text("deploy/\(file)")).filter { !$0.isNull }
    }

    static func rules(kind: String, in documents: [JSONValue]) -> [JSONValue] {
        documents.filter { $0["kind"].stringValue == kind }.flatMap { $0["rules"].arrayValue ?? [] }
    }

    static func allows(_ rules: [JSONValue], group: String, resource: String, verb: String) -> Bool {
        rules.contains { rule in
            (rule["apiGroups"].arrayValue ?? []).contains(.string(group))
                && (rule["resources"].arrayValue ?? []).contains(.string(resource))
                && (rule["verbs"].arrayValue ?? []).contains { $0 == .string(verb) || $0 == "*" }
        }
    }

    @Test func clusterRole_grantsEveryVerbTheControllerUsesOnEveryKindItTouches() throws {
        let rules = Self.rules(kind: "ClusterRole", in: try Self.documents("rbac.yaml"))
        var required: [(APIResource, String, [String])] = [
            (PlatformResources.platforms, PlatformResources.platforms.plural, ["get", "list", "watch", "patch"]),
            (PlatformResources.platforms, PlatformResources.platforms.plural + "/status", ["patch"]),
            (PlatformResources.platforms, PlatformResources.platforms.plural + "/finalizers", ["update"]),
            (PlatformResources.tiers, PlatformResources.tiers.plural, ["get", "list", "watch"]),
            (.events, "events", ["create", "patch"]),
        ]
        for kind in PlatformResources.ownedKinds {
            required.append((kind, kind.plural, ["get", "list", "watch", "patch", "delete"]))
        }
        for (resource, name, verbs) in required {
            for verb in verbs {
                #expect(Self.allows(rules, group: resource.group, resource: name, verb: verb), "missing \(verb) on \(name) (group \"\(resource.group)\")")
            }
        }
    }

    @Test func leaderElectionRole_grantsTheLeaseVerbs() throws {
        let rules = Self.rules(kind: "Role", in: try Self.documents("rbac.yaml"))
        for verb in ["get", "create", "update"] {
            #expect(Self.allows(rules, group: "coordination.k8s.io", resource: "leases", verb: verb), "missing \(verb) on leases")
        }
    }

    @Test func operatorDeployment_runsTheRunCommandWithManagerFlagsThatParse() throws {
        let deployment = try #require(try Self.documents("operator.yaml").first { $0["kind"] == "Deployment" })
        let container = deployment[path: ["spec", "template", "spec", "containers"]][0]
        let args = (container["args"].arrayValue ?? []).compactMap(\.stringValue)
        #expect(args.first == "run")
        let parsed = try ManagerArguments.parse(Array(args.dropFirst()))
        #expect(parsed.options.leaderElection)
        #expect(parsed.options.healthProbeAddress?.port == 8081)
        #expect(deployment[path: ["spec", "template", "spec", "serviceAccountName"]] == "medsearch-operator")
    }
}
