import JSON

/// Builds the legacy discovery documents (`/api`, `/apis`, `/apis/{g}`, `/api/v1`, `/apis/{g}/{v}`)
/// from whatever types the store serves right now, so CRDs appear as soon as they are created.
///
/// Caveats: aggregated discovery (`apidiscovery.k8s.io/v2`) is not offered; clients that ask
/// for it also accept plain `application/json`, which kubectl v1.32 falls back to.
struct DiscoveryDocuments: Sendable {
    let types: [ResourceType]
    let serverAddress: String

    /// Groups in the order the real server lists them: core groups first, then the rest by name.
    var groups: [(name: String, versions: [String])] {
        var versionsByGroup: [String: [String]] = [:]
        for type in types where !type.group.isEmpty {
            if !(versionsByGroup[type.group] ?? []).contains(type.version) { versionsByGroup[type.group, default: []].append(type.version) }
        }
        return versionsByGroup.keys.sorted { lhs, rhs in
            let l = ResourceRequestHandler.isBuiltInGroup(lhs), r = ResourceRequestHandler.isBuiltInGroup(rhs)
            return l != r ? l : lhs < rhs
        }.map { ($0, versionsByGroup[$0]!.sorted(by: Self.versionPriority)) }
    }

    /// Kubernetes version priority: GA before beta before alpha, higher numbers first.
    static func versionPriority(_ a: String, _ b: String) -> Bool {
        func rank(_ v: String) -> (Int, Int, Int) {
            let scanner = v.dropFirst()
            let major = Int(scanner.prefix(while: \.isNumber)) ?? 0
            let rest = scanner.drop(while: \.isNumber)
            let level = rest.hasPrefix("beta") ? 1 : rest.hasPrefix("alpha") ? 0 : (rest.isEmpty ? 2 : -1)
            let minor = Int(rest.drop(while: { !$0.isNumber })) ?? 0
            return (level, major, minor)
        }
        return rank(a) > rank(b)
    }

    var legacyVersions: JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups.map { group(named: $0.name, versions: $0.versions) })]
    }

    func group(named name: String) -> JSONValue? {
        guard let entry = groups.first(where: { $0.name == name }) else { return nil }
        var document = group(named: entry.name, versions: entry.versions)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return document
    }

    private func group(named name: String, versions: [String]) -> JSONValue {
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(entries), "preferredVersion": entries[0]]
    }

    func resourceList(group: String, version: String) -> JSONValue? {
        let served = types.filter { $0.group == group && $0.version == version }.sorted { $0.plural < $1.plural }
        guard !served.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in served {
            var entry: JSONValue = [
                "name": .string(type.plural), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .array(type.verbs.map(JSONValue.string)),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map(JSONValue.string)) }
            resources.append(entry)
            if ScaleSubresource.serves(type) {
                resources.append([
                    "name": .string("\(type.plural)/scale"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
                ])
            }
            if type.hasStatusSubresource {
                resources.append([
                    "name": .string("\(type.plural)/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ]
    }
}
