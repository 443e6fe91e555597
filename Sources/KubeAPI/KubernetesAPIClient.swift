import HTTPTransport
import JSON
import KubeConfig
import Logging

/// Which failed calls are tried again, and how long to wait.
///
/// Guarantees: only 429 (Too Many Requests) and 503 carrying a Retry-After are retried,
/// at most `maxRetries` times, waiting what the server asked (capped at `maxDelay`).
/// Everything else is the caller's decision.
public struct RetryPolicy: Sendable, Equatable {
    /// Default 3.
    public var maxRetries: Int
    /// Wait for a 429 without Retry-After. Default 1 second.
    public var defaultDelay: Duration
    /// Longest wait honoured. Default 30 seconds.
    public var maxDelay: Duration

    public init(maxRetries: Int = 3, defaultDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(30)) {
        self.maxRetries = maxRetries
        self.defaultDelay = defaultDelay
        self.maxDelay = maxDelay
    }

    public static let never = RetryPolicy(maxRetries: 0)

    /// How long to wait before retrying after `error`, or nil to give up.
    public func delay(after error: KubeAPIError, attempt: Int) -> Duration? {
        guard attempt < maxRetries else { return nil }
        switch error.kind {
        case .tooManyRequests: return min(error.retryAfter ?? defaultDelay, maxDelay)
        case .serviceUnavailable: return error.retryAfter.map { min($0, maxDelay) }
        default: return nil
        }
    }
}

/// The decisions for one request after each failed answer: refresh credentials once on
/// 401, then retry as `RetryPolicy` allows, else fail. A value type, tested without a server.
struct RequestAttempts: Sendable {
    enum Action: Equatable, Sendable {
        case refreshCredentialsAndResend
        case resend(after: Duration)
        case fail
    }

    let retry: RetryPolicy
    private(set) var refreshedCredentials = false
    private(set) var retries = 0

    init(retry: RetryPolicy) {
        self.retry = retry
    }

    mutating func decide(after error: KubeAPIError) -> Action {
        if error.kind == .unauthorized && !refreshedCredentials {
            refreshedCredentials = true
            return .refreshCredentialsAndResend
        }
        if let delay = retry.delay(after: error, attempt: retries) {
            retries += 1
            return .resend(after: delay)
        }
        return .fail
    }
}

/// `KubernetesClient` over HTTP(S) to a real API server (or the dev API server).
///
/// Guarantees: credentials are asked for on every request (the provider caches); after a
/// 401 they are invalidated and the request is sent once more, because exec-plugin and
/// projected tokens expire. Retries follow `RetryPolicy`. Secrets never reach logs or errors.
public final class KubernetesAPIClient: KubernetesClient {
    /// Settings with their defaults.
    public struct Configuration: Sendable {
        /// Field manager for writes that name none. Default "medsearch-operator".
        public var fieldManager: String
        /// Limit for each non-watch request. Default 30 seconds.
        public var requestTimeout: Duration
        public var retry: RetryPolicy
        /// Largest non-watch response accepted. Default 64 MiB.
        public var maxResponseBytes: Int

        public init(
            fieldManager: String = "medsearch-operator", requestTimeout: Duration = .seconds(30),
            retry: RetryPolicy = RetryPolicy(), maxResponseBytes: Int = 64 << 20
        ) {
            self.fieldManager = fieldManager
            self.requestTimeout = requestTimeout
            self.retry = retry
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let connection: ClusterConnection
    public let configuration: Configuration
    private let transport: HTTPTransport
    private let logger: Logger
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - transport: shared transport; default a new one for this client.
    ///   - sleep: waits between retries; injectable so tests run on virtual time.
    public init(
        connection: ClusterConnection,
        configuration: Configuration = Configuration(),
        transport: HTTPTransport? = nil,
        logger: Logger = Logger(label: "medsearch.kubeapi"),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.connection = connection
        self.configuration = configuration
        self.transport = transport ?? HTTPTransport()
        self.logger = logger
        self.sleep = sleep
    }

    // MARK: Verbs

    public func get(_ resource: APIResource, namespace: String?, name: String, subresource: String?) async throws -> JSONValue {
        try await object(from: .get(resource, namespace: namespace, name: name, subresource: subresource))
    }

    public func list(_ resource: APIResource, namespace: String?, options: ListOptions) async throws -> ObjectList {
        ObjectList(listObject: try await object(from: .list(resource, namespace: namespace, options: options)))
    }

    public func create(_ resource: APIResource, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        try await self.object(
            from: .create(
                resource, namespace: namespace, object: object, options: options,
                defaultFieldManager: configuration.fieldManager))
    }

    public func update(
        _ resource: APIResource, namespace: String?, object: JSONValue, subresource: String?, options: WriteOptions
    ) async throws -> JSONValue {
        try await self.object(
            from: .update(
                resource, namespace: namespace, object: object, subresource: subresource, options: options,
                defaultFieldManager: configuration.fieldManager))
    }

    public func patch(
        _ resource: APIResource, namespace: String?, name: String, patch: Patch, subresource: String?, options: WriteOptions
    ) async throws -> JSONValue {
        try await object(
            from: .patch(
                resource, namespace: namespace, name: name, patch: patch, subresource: subresource, options: options,
                defaultFieldManager: configuration.fieldManager))
    }

    public func delete(_ resource: APIResource, namespace: String?, name: String, options: DeleteOptions) async throws -> JSONValue {
        try await object(from: .delete(resource, namespace: namespace, name: name, options: options))
    }

    public func watch(_ resource: APIResource, namespace: String?, options: WatchOptions) async throws -> WatchEventStream {
        let request = APIRequest.watch(resource, namespace: namespace, options: options)
        var attempts = RequestAttempts(retry: configuration.retry)
        // The server ends a watch at timeoutSeconds; the transfer limit, a minute later, only
        // catches a connection that silently died. Without timeoutSeconds the watch has no
        // limit (the server picks its own end, typically 30-60 minutes).
        let transferTimeout = options.timeoutSeconds.map { Duration.seconds($0) + .seconds(60) }
        while true {
            let httpRequest = try await httpRequest(for: request, timeout: transferTimeout)
            let response: HTTPStreamingResponse
            do {
                response = try await transport.stream(httpRequest)
            } catch let error as HTTPTransportError {
                throw transportFailure(error, request)
            }
            if (200..<300).contains(response.status) {
                return WatchEventStream(body: response.body, target: request.target, resourceVersion: options.resourceVersion)
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            let error = KubeAPIError.from(
                status: response.status, headers: response.headers, body: body, verb: request.verb, target: request.target)
            try await prepareResend(after: error, attempts: &attempts)
        }
    }

    // MARK: Plumbing

    /// Sends `request` (with auth refresh and retries) and parses the 2xx body as JSON.
    func object(from request: APIRequest) async throws -> JSONValue {
        let response = try await execute(request)
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw KubeAPIError(
                kind: .malformedResponse, verb: request.verb, target: request.target, status: response.status,
                message: "response is not JSON (\(error)): \(KubeAPIError.excerpt(of: response.body))")
        }
    }

    /// Sends `request`; returns a 2xx response or throws `KubeAPIError`.
    public func execute(_ request: APIRequest) async throws -> HTTPResponse {
        var attempts = RequestAttempts(retry: configuration.retry)
        while true {
            let httpRequest = try await httpRequest(for: request, timeout: configuration.requestTimeout)
            let response: HTTPResponse
            do {
                response = try await transport.send(httpRequest)
            } catch let error as HTTPTransportError {
                throw transportFailure(error, request)
            }
            logger.trace(
                "api call", metadata: ["verb": "\(request.verb)", "object": "\(request.target)", "status": "\(response.status)"])
            if (200..<300).contains(response.status) {
                return response
            }
            let error = KubeAPIError.from(
                status: response.status, headers: response.headers, body: response.body, verb: request.verb,
                target: request.target)
            try await prepareResend(after: error, attempts: &attempts)
        }
    }

    /// Returns when the request should be sent again (after refreshing credentials or
    /// waiting); throws `error` when it should not.
    private func prepareResend(after error: KubeAPIError, attempts: inout RequestAttempts) async throws {
        switch attempts.decide(after: error) {
        case .refreshCredentialsAndResend:
            logger.debug("credentials rejected; refreshing them once", metadata: ["verb": "\(error.verb)", "object": "\(error.target)"])
            connection.credentials.invalidate()
        case .resend(let delay):
            logger.debug(
                "retrying after the server asked to wait",
                metadata: ["verb": "\(error.verb)", "object": "\(error.target)", "status": "\(error.status)", "delay": "\(delay)"])
            try await sleep(delay)
        case .fail:
            throw error
        }
    }

    private func httpRequest(for request: APIRequest, timeout: Duration?) async throws -> HTTPRequest {
        let credentials = try await connection.credentials.credentials()
        var headers = request.headers
        if let authorization = credentials.authorizationHeader { headers["Authorization"] = authorization }
        let tls = TLSConfiguration(
            certificateAuthorityPEM: connection.certificateAuthorityPEM,
            clientCertificatePEM: credentials.clientCertificatePEM,
            clientKeyPEM: credentials.clientKeyPEM,
            insecureSkipVerify: connection.insecureSkipTLSVerify,
            serverNameOverride: connection.tlsServerName)
        let base = connection.server.hasSuffix("/") ? String(connection.server.dropLast()) : connection.server
        return HTTPRequest(
            method: request.method, url: base + request.pathAndQuery, headers: headers, body: request.body, timeout: timeout,
            tls: tls, maxResponseBodyBytes: configuration.maxResponseBytes)
    }

    private func transportFailure(_ error: HTTPTransportError, _ request: APIRequest) -> KubeAPIError {
        KubeAPIError(
            kind: .transportFailure, verb: request.verb, target: request.target, status: 0,
            message: "\(error.kind.rawValue): \(error.message)", transportError: error)
    }
}
