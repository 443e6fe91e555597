import AWSSigning
import Foundation
import HTTPTransport
import JSON
import Logging
import Synchronization

/// A request in wire form, before endpoint, signature and retries are applied.
public struct AWSRequest: Sendable {
    public var service: AWSService
    public var operation: String
    public var method: String
    /// Percent-encoded path after the endpoint's base path, starting with "/".
    public var path: String
    /// Percent-encoded query string without "?".
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Overrides the service endpoint (S3 virtual-hosted buckets).
    public var endpoint: AWSEndpoint?
    /// Sent without a signature (STS AssumeRoleWithWebIdentity).
    public var unsigned: Bool

    public init(
        service: AWSService, operation: String, method: String = "POST", path: String = "/", query: String = "",
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], endpoint: AWSEndpoint? = nil,
        unsigned: Bool = false
    ) {
        self.service = service
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.endpoint = endpoint
        self.unsigned = unsigned
    }
}

/// Sends signed AWS requests with the standard retry mode; shared by every service client.
///
/// Guarantees: each attempt is signed afresh (new date, current credentials); failures are
/// retried only as `RetryStrategy` allows, with one retry quota per client; errors come out
/// as `AWSError`, whose text never includes credentials or request bodies. Log lines (debug
/// level) name service, operation, attempt, status and request ID, nothing more.
/// Caveats: responses are buffered whole (limit `maxResponseBytes`), which suits the
/// control-plane calls this client makes.
public final class AWSClient: Sendable {
    public let region: String
    public let endpoints: EndpointResolver
    public let credentials: any CredentialsProvider
    public let transport: HTTPTransport
    public let retryStrategy: RetryStrategy
    /// Per-attempt limit for the whole transfer. Default 30 seconds.
    public let attemptTimeout: Duration
    public let maxResponseBytes: Int
    private let quota: Mutex<RetryQuota>
    private let random: @Sendable () -> Double
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> Date
    private let logger: Logger

    public init(
        region: String,
        endpoints: EndpointResolver? = nil,
        credentials: any CredentialsProvider,
        transport: HTTPTransport,
        retryStrategy: RetryStrategy = .standard,
        attemptTimeout: Duration = .seconds(30),
        maxResponseBytes: Int = 16 << 20,
        logger: Logger = Logger(label: "medsearch.aws"),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.region = region
        self.endpoints = endpoints ?? EndpointResolver(region: region)
        self.credentials = credentials
        self.transport = transport
        self.retryStrategy = retryStrategy
        self.attemptTimeout = attemptTimeout
        self.maxResponseBytes = maxResponseBytes
        quota = Mutex(RetryQuota(capacity: retryStrategy.initialQuota))
        self.random = random
        self.sleep = sleep
        self.now = now
        self.logger = logger
    }

    /// A client configured as the SDKs configure themselves: region from `region` (a flag),
    /// `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile; endpoints from `AWS_ENDPOINT_URL*`
    /// or the profile; credentials from the standard chain, cached and refreshed early.
    public static func fromEnvironment(
        region: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: HTTPTransport,
        logger: Logger = Logger(label: "medsearch.aws")
    ) throws(AWSError) -> AWSClient {
        let shared = SharedConfig.load(environment: environment)
        guard let region = AWSRegionResolver.resolve(explicit: region, environment: environment, sharedConfig: shared)
        else {
            throw AWSError(
                origin: .credentials, service: "-", operation: "configure", code: "MissingRegion",
                message: "no region: pass one, or set AWS_REGION or the profile's region")
        }
        let endpoints = EndpointResolver(
            region: region, environment: environment, profileEndpointURL: shared.endpointURL)
        let chain = CredentialsChain.standard(
            environment: environment, sharedConfig: shared, stsEndpoint: endpoints.endpoint(for: .sts),
            transport: transport)
        return AWSClient(
            region: region, endpoints: endpoints, credentials: RefreshingCredentialsProvider(chain),
            transport: transport, logger: logger)
    }

    /// Tokens left in the retry quota (for metrics and tests).
    public var availableRetryTokens: Int { quota.withLock { $0.available } }

    /// Sends `request`, retrying as the strategy allows; returns the 2xx response.
    public func send(_ request: AWSRequest) async throws(AWSError) -> HTTPResponse {
        var state = RetryState(strategy: retryStrategy)
        while true {
            let outcome = await attempt(request, number: state.attempts)
            switch outcome {
            case .success(let response):
                quota.withLock { state.succeeded(quota: &$0) }
                return response
            case .failure(let error):
                let failureClass = RetryStrategy.classify(error)
                let jitter = random()
                let decision = quota.withLock { state.failed(failureClass, quota: &$0, random: jitter) }
                switch decision {
                case .fail(let reason):
                    if reason != .notRetryable {
                        logger.debug(
                            "AWS call failed, not retrying",
                            metadata: ["service": "\(request.service)", "operation": "\(request.operation)",
                                "code": "\(error.code)", "reason": "\(reason)", "attempts": "\(state.attempts)"])
                    }
                    throw error
                case .retry(let delay):
                    logger.debug(
                        "AWS call failed, retrying",
                        metadata: ["service": "\(request.service)", "operation": "\(request.operation)",
                            "code": "\(error.code)", "attempt": "\(state.attempts)", "delay": "\(delay)"])
                    do { try await sleep(delay) } catch {
                        throw AWSError(
                            origin: .transport, service: request.service.endpointPrefix, operation: request.operation,
                            code: "Cancelled", message: "cancelled while waiting to retry")
                    }
                }
            }
        }
    }

    private func attempt(_ request: AWSRequest, number: Int) async -> Result<HTTPResponse, AWSError> {
        let service = request.service.endpointPrefix
        let endpoint = request.endpoint ?? endpoints.endpoint(for: request.service)
        let path = endpoint.basePath + (request.path.isEmpty ? "/" : request.path)
        var headers = request.headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }) {
            headers.insert((name: "Host", value: endpoint.hostAndPort), at: 0)
        }
        if !request.unsigned {
            let resolved: ExpiringCredentials
            do {
                resolved = try await credentials.credentials()
            } catch {
                return .failure(
                    AWSError(
                        origin: .credentials, service: service, operation: request.operation, code: "NoCredentials",
                        message: "\(error)"))
            }
            let signer = SigV4Signer(
                credentials: resolved.credentials, region: region, service: request.service.signingName)
            let signed = signer.sign(
                SignableRequest(
                    method: request.method, path: path, query: request.query, headers: headers,
                    payload: .bytes(request.body)),
                date: now())
            headers = signed.headers
        }
        var httpHeaders = HTTPHeaders()
        for header in headers where header.name.lowercased() != "host" || endpoint.hostAndPort != header.value {
            httpHeaders.add(name: header.name, value: header.value)
        }
        let url = "\(endpoint.scheme)://\(endpoint.hostAndPort)\(path)" + (request.query.isEmpty ? "" : "?\(request.query)")
        let httpRequest = HTTPRequest(
            method: request.method, url: url, headers: httpHeaders,
            body: request.method == "GET" || request.method == "HEAD" ? nil : request.body,
            timeout: attemptTimeout, maxResponseBodyBytes: maxResponseBytes)
        do {
            let response = try await transport.send(httpRequest)
            logger.trace(
                "AWS response",
                metadata: ["service": "\(service)", "operation": "\(request.operation)", "attempt": "\(number)",
                    "status": "\(response.status)"])
            if (200..<300).contains(response.status) { return .success(response) }
            return .failure(AWSErrorResponse.parse(response, service: service, operation: request.operation))
        } catch let error as HTTPTransportError {
            return .failure(AWSError.transport(error, service: service, operation: request.operation))
        } catch {
            return .failure(
                AWSError(
                    origin: .transport, service: service, operation: request.operation, code: "Cancelled",
                    message: "\(type(of: error))"))
        }
    }
}

// MARK: - Protocol helpers shared by the service clients

/// A resource tag, as every service here spells it (Key/Value).
public struct AWSTag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// Form parameters of an AWS Query request, flattened per the service model.
///
/// Lists are `Name.<member>.N` (1-based) where `<member>` is the list member's
/// `locationName` in the model, or "member" when it has none; structures are `Name.Field`.
/// Order is insertion order: Action, Version, then members, as botocore sends them.
public struct QueryParameters: Sendable, Equatable {
    public private(set) var pairs: [(String, String)] = []

    public init(action: String, version: String) {
        pairs = [("Action", action), ("Version", version)]
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.map(\.0) == rhs.pairs.map(\.0) && lhs.pairs.map(\.1) == rhs.pairs.map(\.1)
    }

    public mutating func add(_ name: String, _ value: String?) {
        if let value { pairs.append((name, value)) }
    }

    public mutating func add(_ name: String, _ value: Int?) { add(name, value.map(String.init)) }
    public mutating func add(_ name: String, _ value: Bool?) { add(name, value.map { $0 ? "true" : "false" }) }
    public mutating func add(_ name: String, _ value: Double?) {
        add(name, value.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) })
    }

    /// A list of strings; an empty list sends nothing (Query cannot express "empty").
    public mutating func add(_ name: String, list: [String]?, member: String = "member") {
        for (index, value) in (list ?? []).enumerated() { pairs.append(("\(name).\(member).\(index + 1)", value)) }
    }

    public mutating func add(_ name: String, tags: [AWSTag]?, member: String) {
        for (index, tag) in (tags ?? []).enumerated() {
            pairs.append(("\(name).\(member).\(index + 1).Key", tag.key))
            pairs.append(("\(name).\(member).\(index + 1).Value", tag.value))
        }
    }

    public var encoded: String { AWSPercentEncoding.form(pairs) }
}

extension AWSClient {
    /// Sends a Query-protocol call and returns its `<Operation>Result` element (or the root
    /// for operations without output).
    public func query(_ service: AWSService, _ parameters: QueryParameters) async throws(AWSError) -> XMLElement {
        let action = parameters.pairs[0].1
        let response = try await send(
            AWSRequest(
                service: service, operation: action, method: "POST", path: "/",
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")],
                body: Array(parameters.encoded.utf8)))
        let root: XMLElement
        do {
            root = try XMLElement.parse(response.body)
        } catch {
            throw AWSError(
                origin: .invalidResponse, service: service.endpointPrefix, operation: action, code: "InvalidResponse",
                message: "response is not XML: \(error.message)", status: response.status)
        }
        return root.child("\(action)Result") ?? root
    }

    /// Sends an AWS JSON 1.1 call (`X-Amz-Target: <prefix>.<Operation>`) and returns the body.
    func json(
        _ service: AWSService, targetPrefix: String, _ operation: String, _ body: JSONValue
    ) async throws(AWSError) -> JSONValue {
        let response = try await send(
            AWSRequest(
                service: service, operation: operation, method: "POST", path: "/",
                headers: [
                    (name: "Content-Type", value: "application/x-amz-json-1.1"),
                    (name: "X-Amz-Target", value: "\(targetPrefix).\(operation)"),
                ], body: body.serializedBytes()))
        if response.body.isEmpty { return .emptyObject }
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw AWSError(
                origin: .invalidResponse, service: service.endpointPrefix, operation: operation, code: "InvalidResponse",
                message: "response is not JSON: \(error)", status: response.status)
        }
    }
}
