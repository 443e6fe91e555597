/// Where a `/api/v1/...` or `/apis/{group}/{version}/...` URL points inside a group-version.
struct ResourcePath: Equatable, Sendable {
    var group: String
    var version: String
    var namespace: String?
    /// Nil for the group-version's discovery document itself.
    var plural: String?
    var name: String?
    var subresource: String?

    /// Parses the part of the path after the group-version; nil when it cannot be a resource URL.
    static func parse(_ segments: [String]) -> ResourcePathMatch? {
        if segments.first == "api" {
            guard segments.count >= 2 else { return .legacyRoot }
            return parseRest(group: "", version: segments[1], Array(segments.dropFirst(2))).map { .resource($0) }
        }
        if segments.first == "apis" {
            if segments.count == 1 { return .groupsRoot }
            if segments.count == 2 { return .group(segments[1]) }
            return parseRest(group: segments[1], version: segments[2], Array(segments.dropFirst(3))).map { .resource($0) }
        }
        return nil
    }

    private static func parseRest(group: String, version: String, _ rest: [String]) -> ResourcePath? {
        var path = ResourcePath(group: group, version: version)
        var rest = rest[...]
        // `namespaces/{ns}/status` and `namespaces/{ns}/finalize` address the Namespace itself,
        // not a resource inside it; the real server resolves the ambiguity the same way.
        if rest.count >= 3, rest.first == "namespaces",
           !(rest.count == 3 && (rest.last == "status" || rest.last == "finalize")) {
            path.namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard rest.count <= 3 else { return nil }
        let parts = Array(rest)
        if parts.count >= 1 { path.plural = parts[0] }
        if parts.count >= 2 { path.name = parts[1] }
        if parts.count == 3 { path.subresource = parts[2] }
        return path
    }

    init(group: String, version: String, namespace: String? = nil, plural: String? = nil, name: String? = nil, subresource: String? = nil) {
        self.group = group; self.version = version; self.namespace = namespace
        self.plural = plural; self.name = name; self.subresource = subresource
    }
}

/// The kinds of API URL the router distinguishes.
enum ResourcePathMatch: Equatable, Sendable {
    case legacyRoot
    case groupsRoot
    case group(String)
    case resource(ResourcePath)
}
