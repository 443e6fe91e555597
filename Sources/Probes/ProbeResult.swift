import Foundation

/// A data-plane health check the operator runs from its own pod: PostgreSQL, Redis, or an
/// adapter around another client (the S3 HeadBucket adapter lives with the AWS client).
///
/// Guarantees expected of conformers: `probe()` never throws and never outlives its own
/// deadline by more than scheduling slack; a cancelled task ends the probe promptly; the
/// result's messages never contain credentials.
public protocol DataPlaneProbe: Sendable {
    /// What is being checked, for status and logs.
    var target: ProbeTarget { get }
    /// Checks the target once.
    func probe() async -> ProbeResult
}

/// The data store a probe checks, as reported in status.
public struct ProbeTarget: Sendable, Hashable, CustomStringConvertible {
    /// The kind of store; a struct so adapters can add kinds without breaking callers.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let postgreSQL = Kind(rawValue: "postgresql")
        public static let redis = Kind(rawValue: "redis")
        public static let s3 = Kind(rawValue: "s3")
    }

    public var kind: Kind
    /// The endpoint as configured (before any `ProbeEndpointOverrides` mapping), e.g. an RDS
    /// hostname; for S3 the bucket endpoint host.
    public var host: String
    public var port: Int

    public init(kind: Kind, host: String, port: Int) {
        self.kind = kind
        self.host = host
        self.port = port
    }

    public var description: String { "\(kind) \(host):\(port)" }
}

/// A step of a probe, so a failure says where it happened and timings show where time went.
public struct ProbeStage: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Opening the TCP connection.
    public static let connect = ProbeStage(rawValue: "connect")
    /// Negotiating and completing TLS.
    public static let tls = ProbeStage(rawValue: "tls")
    /// Proving the credentials.
    public static let auth = ProbeStage(rawValue: "auth")
    /// Running the health query or command (SELECT 1, PING, HeadBucket).
    public static let query = ProbeStage(rawValue: "query")
}

/// How long one stage took.
public struct ProbeStageTiming: Sendable, Hashable {
    public var stage: ProbeStage
    public var duration: Duration

    public init(stage: ProbeStage, duration: Duration) {
        self.stage = stage
        self.duration = duration
    }
}

/// Why a probe failed: where, a short CamelCase reason for conditions, and a message for people.
public struct ProbeFailure: Sendable, Hashable, CustomStringConvertible {
    /// Reasons shared by every probe; conditions use them verbatim as their `reason`.
    public enum Reason {
        public static let connectionRefused = "ConnectionRefused"
        public static let connectionFailed = "ConnectionFailed"
        public static let nameResolutionFailed = "NameResolutionFailed"
        public static let timeout = "Timeout"
        public static let tlsNotSupported = "TLSNotSupported"
        public static let tlsHandshakeFailed = "TLSHandshakeFailed"
        public static let authenticationFailed = "AuthenticationFailed"
        public static let authenticationRequired = "AuthenticationRequired"
        public static let unsupportedAuthentication = "UnsupportedAuthentication"
        public static let serverAuthenticationFailed = "ServerAuthenticationFailed"
        public static let protocolViolation = "ProtocolViolation"
        public static let connectionClosed = "ConnectionClosed"
        public static let serverError = "ServerError"
        public static let queryFailed = "QueryFailed"
        public static let cancelled = "Cancelled"
        public static let configurationInvalid = "ConfigurationInvalid"
    }

    public var stage: ProbeStage
    /// Short CamelCase, e.g. "AuthenticationFailed" (see `Reason`).
    public var reason: String
    /// For people; never contains passwords or tokens.
    public var message: String
    /// The server's own error code when it sent one: a PostgreSQL SQLSTATE ("28P01") or a
    /// Redis error prefix ("WRONGPASS").
    public var serverCode: String?

    public init(stage: ProbeStage, reason: String, message: String, serverCode: String? = nil) {
        self.stage = stage
        self.reason = reason
        self.message = message
        self.serverCode = serverCode
    }

    public var description: String {
        "\(reason) during \(stage)\(serverCode.map { " (\($0))" } ?? ""): \(message)"
    }
}

/// The outcome of one probe run.
public struct ProbeResult: Sendable, Hashable {
    /// Healthy with the total time taken, or the failure.
    public enum Outcome: Sendable, Hashable {
        case healthy(latency: Duration)
        case unhealthy(ProbeFailure)
    }

    public var target: ProbeTarget
    public var outcome: Outcome
    /// Per-stage timings, in order, for the stages that were reached (the failing one included).
    public var stages: [ProbeStageTiming]
    /// When the probe finished (wall clock, for status `lastChecked` / `lastSuccess`).
    public var checkedAt: Date

    public init(target: ProbeTarget, outcome: Outcome, stages: [ProbeStageTiming] = [], checkedAt: Date = Date()) {
        self.target = target
        self.outcome = outcome
        self.stages = stages
        self.checkedAt = checkedAt
    }

    public var isHealthy: Bool {
        if case .healthy = outcome { return true }
        return false
    }

    /// The failure, if the probe failed.
    public var failure: ProbeFailure? {
        if case .unhealthy(let failure) = outcome { return failure }
        return nil
    }
}
