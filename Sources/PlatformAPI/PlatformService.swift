/// The six microservices a platform runs, in the order the seed guide lists them.
public enum PlatformService: String, CaseIterable, Sendable, Hashable, Comparable {
    case user, search, content, ai, analytics, notification

    public static func < (a: PlatformService, b: PlatformService) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The HTTP port every service listens on; probes and `/metrics` share it so one
    /// NetworkPolicy port covers traffic, kubelet probes and scraping.
    public var port: Int64 { 8080 }

    /// The ECR repository name of the service's image (`user-service`, …), as in the seed.
    public var repositoryName: String { "\(rawValue)-service" }

    /// Whether the ingress controller routes outside traffic to this service: the seed's
    /// load balancer reaches user (auth), search and content (upload); the rest are internal.
    public var isPublic: Bool {
        switch self {
        case .user, .search, .content: return true
        case .ai, .analytics, .notification: return false
        }
    }

    /// Services this one calls, from the seed's service descriptions: search and content
    /// send documents to AI, everything that touches users checks them with the user
    /// service, usage events go to analytics, and mail goes out through notification.
    public var callees: [PlatformService] {
        switch self {
        case .user: return [.analytics, .notification]
        case .search: return [.user, .ai, .analytics]
        case .content: return [.user, .ai, .analytics, .notification]
        case .ai: return []
        case .analytics: return [.user, .notification]
        case .notification: return []
        }
    }

    /// Services that call this one (the inverse of `callees`).
    public var callers: [PlatformService] {
        PlatformService.allCases.filter { $0.callees.contains(self) }
    }

    /// Data stores the service talks to, per the seed (PostgreSQL, Redis, S3).
    public var usesDatabase: Bool { self != .notification && self != .ai }
    public var usesCache: Bool { self != .analytics }
    public var usesObjectStorage: Bool { self == .content || self == .ai || self == .analytics }
}
