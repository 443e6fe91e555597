import JSON

/// Routes every request: admin and health endpoints, authentication, faults, discovery,
/// OpenAPI, then the resource handlers.
struct APIRouter: Sendable {
    let store: ObjectStore
    let faults: FaultInjector
    let authenticator: RequestAuthenticator
    let resources: ResourceRequestHandler
    let serverVersion: ServerVersion
    /// `host:port` the server is reachable at, for `serverAddressByClientCIDRs`.
    let serverAddress: String

    func respond(to request: APIRequest, peer: PeerInfo) async -> APIResponse {
        let segments = request.pathSegments
        if segments.first == "_dev" {
            // Test-only controls: only reachable from the machine itself.
            guard peer.isLoopback else { return .failure(.notFoundPath()) }
            return adminResponse(request, Array(segments.dropFirst()))
        }
        let outcome = authenticator.authenticate(request, peer: peer)
        switch outcome {
        case .rejected:
            return .failure(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized"))
        case .anonymous where !Self.isPublicInfo(segments):
            // Matches a real server with anonymous auth enabled and no RBAC grant for system:anonymous.
            let verb = request.method == "GET" ? "get" : request.method.lowercased()
            return .failure(APIError(code: 403, reason: "Forbidden", message: "forbidden: User \"system:anonymous\" cannot \(verb) path \"\(request.path)\""))
        case .anonymous, .authenticated:
            break
        }
        if Self.isHealth(segments) { return .text(200, "ok") }

        let (latency, decision) = faults.decide()
        if latency > .zero { try? await Task.sleep(for: latency) }
        switch decision {
        case .internalError:
            return .failure(APIError(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault"))
        case .throttle(let seconds):
            var error = APIError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.")
            error.retryAfterSeconds = seconds
            return .failure(error)
        case .none:
            break
        }
        var user = RequestUser.administrator
        if case .authenticated(let name, let groups) = outcome { user = RequestUser(name: name, groups: groups + ["system:authenticated"]) }
        return route(request, segments, user: user)
    }

    private func route(_ request: APIRequest, _ segments: [String], user: RequestUser) -> APIResponse {
        if segments == ["version"] { return .json(200, serverVersion.json) }
        if segments.first == "openapi" { return openAPI(request, Array(segments.dropFirst())) }
        guard let match = ResourcePath.parse(segments) else { return .failure(.notFoundPath()) }
        // Built lazily: most requests are resource requests and need no discovery document.
        var discovery: DiscoveryDocuments { DiscoveryDocuments(types: store.resourceTypes() + AccessReviews.types, serverAddress: serverAddress) }
        switch match {
        case .legacyRoot:
            return request.method == "GET" ? .json(200, discovery.legacyVersions) : .failure(.methodNotAllowed())
        case .groupsRoot:
            return request.method == "GET" ? .json(200, discovery.groupList) : .failure(.methodNotAllowed())
        case .group(let name):
            guard let document = discovery.group(named: name) else { return .failure(.notFoundPath()) }
            return .json(200, document)
        case .resource(let path):
            guard let plural = path.plural else {
                guard let document = discovery.resourceList(group: path.group, version: path.version) else { return .failure(.notFoundPath()) }
                return .json(200, document)
            }
            if let review = AccessReviews.type(group: path.group, version: path.version, plural: plural) {
                return AccessReviews.respond(request, type: review, path: path, user: user)
            }
            guard let type = store.resourceType(for: ResourceKey(group: path.group, version: path.version, plural: plural)) else {
                return .failure(.notFoundPath())
            }
            return .deferred(path, type)
        }
    }

    private func openAPI(_ request: APIRequest, _ rest: [String]) -> APIResponse {
        guard rest.first == "v3" else { return .failure(.notFoundPath()) }
        let documents = OpenAPIDocuments(types: store.resourceTypes(), serverVersion: serverVersion.gitVersion)
        if rest.count == 1 { return .json(200, documents.root) }
        guard let document = documents.document(forPath: rest.dropFirst().joined(separator: "/")) else { return .failure(.notFoundPath()) }
        return .json(200, document)
    }

    private func adminResponse(_ request: APIRequest, _ rest: [String]) -> APIResponse {
        switch (request.method, rest) {
        case ("GET", ["faults"]):
            return .json(200, faults.report)
        case ("POST", ["faults"]), ("PUT", ["faults"]), ("PATCH", ["faults"]):
            let patch: JSONValue
            do { patch = try JSONValue.parse(request.body) } catch { return .failure(.badRequest("invalid fault configuration: \(error)")) }
            do { try faults.apply(patch) } catch { return .failure(error) }
            return .json(200, faults.report)
        case ("GET", ["stats"]):
            let stats = store.statistics
            return .json(200, [
                "objects": .int(Int64(stats.objectCount)), "bytes": .int(Int64(stats.bytesHeld)),
                "watchers": .int(Int64(stats.watchers)), "droppedWatchers": .int(Int64(stats.droppedWatchers)),
            ])
        default:
            return .failure(.notFoundPath())
        }
    }

    static func isHealth(_ segments: [String]) -> Bool {
        guard let first = segments.first else { return false }
        return ["healthz", "livez", "readyz"].contains(first) && segments.count <= 2
    }

    /// Paths the real server's `system:public-info-viewer` role opens to anonymous clients.
    static func isPublicInfo(_ segments: [String]) -> Bool {
        isHealth(segments) || segments == ["version"]
    }
}

/// What the connection knows about the client.
struct PeerInfo: Sendable {
    var isLoopback: Bool
    /// Common name of a verified client certificate, when TLS client auth succeeded.
    var certificateCommonName: String?
    /// Organizations of that certificate (Kubernetes groups).
    var certificateOrganizations: [String] = []
}

/// The `/version` document.
public struct ServerVersion: Sendable {
    public var gitVersion = "v1.32.4-medsearch-dev"
    public init() {}
    var json: JSONValue {
        [
            "major": "1", "minor": "32", "gitVersion": .string(gitVersion), "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "swift6", "compiler": "swiftc",
            "platform": "linux/amd64",
        ]
    }
}

/// Bearer-token and client-certificate authentication.
///
/// Guarantees: the configured token is compared in constant time and never logged.
struct RequestAuthenticator: Sendable {
    /// Nil means authentication is off: every request is treated as an administrator's.
    let token: String?
    let acceptsClientCertificates: Bool

    enum Outcome: Equatable { case authenticated(String, groups: [String]), anonymous, rejected }

    func authenticate(_ request: APIRequest, peer: PeerInfo) -> Outcome {
        if let header = request.headers["authorization"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", let token else { return .rejected }
            return Self.constantTimeEquals(Array(parts[1].utf8), Array(token.utf8)) ? .authenticated("dev-admin", groups: ["system:masters"]) : .rejected
        }
        if acceptsClientCertificates, let name = peer.certificateCommonName { return .authenticated(name, groups: peer.certificateOrganizations) }
        if token == nil && !acceptsClientCertificates { return .authenticated("dev-admin", groups: ["system:masters"]) }
        return .anonymous
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
