import Synchronization

/// An HTTP/1.1 and HTTP/2 client built on libcurl's multi interface, for Swift concurrency.
///
/// Guarantees:
/// - One event-loop thread per transport, whatever the number of requests; connections
///   are kept and reused across requests, and HTTP/2 is negotiated over TLS when offered.
/// - TLS verification is on unless `insecureSkipVerify` is set.
/// - Cancelling the awaiting task (or dropping a body stream) aborts the transfer: over
///   HTTP/1.1 by closing its connection, over HTTP/2 by resetting its stream only.
/// - A streamed body buffers at most `streamBufferLimit` bytes (plus one network read)
///   per response; beyond that the transfer is paused until the consumer catches up. Over
///   HTTP/2 only that stream pauses; the others on the connection carry on.
/// - An idempotent request (GET, HEAD, PUT, DELETE, OPTIONS) whose connection fails before a
///   byte of response arrives is sent once more, within what is left of its timeout: an
///   HTTP/2 GOAWAY from a restarting API server otherwise fails requests that raced it.
///   POST and PATCH are never repeated; callers that know better retry themselves.
///
/// Caveats: redirects are not followed. `shutdown()` (or releasing the transport) fails
/// in-flight transfers with `.transportShutDown`.
public final class HTTPTransport: Sendable {
    /// Settings for every request of this transport.
    public struct Configuration: Sendable {
        /// Default TLS settings; a request's own `tls` replaces them. Default: verify with system CAs.
        public var tls: TLSConfiguration
        /// Default 10 seconds.
        public var connectTimeout: Duration
        /// Streamed body bytes buffered per response before the transfer pauses. Default 1 MiB.
        public var streamBufferLimit: Int
        /// Connections kept in the pool. Default 32.
        public var maxConnections: Int
        /// Connections open at once to one host; further HTTP/1.1 requests queue until one is
        /// free (HTTP/2 multiplexes on one anyway). 0 means no limit. Default 0, because each
        /// HTTP/1.1 watch holds a connection for minutes: a limit below the number of watches
        /// would leave later requests queued behind them indefinitely.
        public var maxConnectionsPerHost: Int
        /// Told about every finished transfer. Default none.
        public var observer: (any HTTPTransportObserver)?
        /// Offer every compression curl supports (gzip, …) for `send` and decode transparently;
        /// the API server compresses large lists. Streams never ask for compression, which keeps
        /// pausing exact (watches are not compressed by the API server anyway). Default true.
        public var acceptsCompressedResponses: Bool

        public init(
            tls: TLSConfiguration = TLSConfiguration(),
            connectTimeout: Duration = .seconds(10),
            streamBufferLimit: Int = 1 << 20,
            maxConnections: Int = 32,
            maxConnectionsPerHost: Int = 0,
            observer: (any HTTPTransportObserver)? = nil,
            acceptsCompressedResponses: Bool = true
        ) {
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.streamBufferLimit = streamBufferLimit
            self.maxConnections = maxConnections
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.observer = observer
            self.acceptsCompressedResponses = acceptsCompressedResponses
        }
    }

    public let configuration: Configuration
    private let loop: CurlEventLoop
    private let nextID = Atomic<UInt64>(1)
    private let gauge = BufferGauge()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        loop = CurlEventLoop(
            maxConnections: configuration.maxConnections, maxConnectionsPerHost: configuration.maxConnectionsPerHost,
            observer: configuration.observer)
        loop.start(name: "HTTPTransport")
    }

    deinit { loop.shutdown() }

    /// Stops the event loop; in-flight and later requests fail with `.transportShutDown`.
    public func shutdown() { loop.shutdown() }

    /// Sends a request and receives the whole response body.
    ///
    /// Errors: `HTTPTransportError` when no complete response arrived; `CancellationError`
    /// when the task was cancelled. Non-2xx statuses are responses, not errors.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let sink = ResponseSink(mode: .collect(limit: request.maxResponseBodyBytes), gauge: gauge)
        let id = try start(request, sink: sink)
        let loop = self.loop
        return try await withTaskCancellationHandler {
            try await sink.awaitResponse()
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Sends a request and returns once the response head has arrived; the body follows
    /// through `body`, with back-pressure.
    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamingResponse {
        try Task.checkCancellation()
        let limit = max(1, configuration.streamBufferLimit)
        let sink = ResponseSink(mode: .stream(highWater: limit, lowWater: limit / 2), gauge: gauge)
        let id = try start(request, sink: sink)
        let lifetime = TransferLifetime(sink: sink, loop: loop, id: id, transport: self)
        let loop = self.loop
        let head = try await withTaskCancellationHandler {
            try await sink.awaitHead()
        } onCancel: {
            loop.cancel(id)
        }
        return HTTPStreamingResponse(status: head.status, headers: head.headers, body: HTTPBodyStream(lifetime: lifetime))
    }

    /// Streamed body bytes currently buffered across all responses of this transport.
    public var bufferedBodyBytes: Int { gauge.current.load(ordering: .relaxed) }
    /// Highest value `bufferedBodyBytes` has reached.
    public var peakBufferedBodyBytes: Int { gauge.peak.load(ordering: .relaxed) }
    /// How many times a streamed transfer was paused because its consumer lagged.
    public var pauseCount: Int { gauge.pauses.load(ordering: .relaxed) }

    private func start(_ request: HTTPRequest, sink: ResponseSink) throws(HTTPTransportError) -> UInt64 {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let transfer = try CurlTransfer(
            id: id, request: request, tls: request.tls ?? configuration.tls,
            connectTimeout: configuration.connectTimeout,
            acceptsCompressedResponses: configuration.acceptsCompressedResponses && !sink.isStreaming, sink: sink)
        guard loop.submit(transfer) else {
            transfer.release()
            throw HTTPTransportError(
                kind: .transportShutDown, message: "the HTTP transport was shut down",
                method: transfer.method, url: transfer.redactedURL)
        }
        return id
    }
}

/// Aborts the transfer when the last copy of its body stream (and iterator) is gone.
final class TransferLifetime: Sendable {
    let sink: ResponseSink
    let loop: CurlEventLoop
    let id: UInt64
    /// Keeps the transport (whose release shuts the loop down) alive while the body is read,
    /// so a stream outlives the client object that opened it.
    let transport: HTTPTransport

    init(sink: ResponseSink, loop: CurlEventLoop, id: UInt64, transport: HTTPTransport) {
        self.sink = sink
        self.loop = loop
        self.id = id
        self.transport = transport
    }

    deinit {
        loop.cancel(id)
        sink.discardUnread()
    }

    func next() async throws -> [UInt8]? {
        let loop = self.loop
        let id = self.id
        return try await withTaskCancellationHandler {
            try await sink.nextChunk { loop.resume(id) }
        } onCancel: {
            loop.cancel(id)
        }
    }
}

/// The body of a streamed response as chunks of bytes, in order.
///
/// Guarantees: the transfer pauses while the consumer lags (bounded memory); cancelling
/// the iterating task, calling `cancel()` or dropping every copy of the stream and its
/// iterator aborts the transfer. Errors: `HTTPTransportError` if the body breaks off.
public struct HTTPBodyStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let lifetime: TransferLifetime

    public struct AsyncIterator: AsyncIteratorProtocol {
        let lifetime: TransferLifetime

        public mutating func next() async throws -> [UInt8]? {
            try await lifetime.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(lifetime: lifetime) }

    /// Bytes received but not yet consumed.
    public var bufferedBytes: Int { lifetime.sink.bufferedBytes }

    /// Aborts the transfer and drops unread bytes; iteration then ends with `CancellationError`
    /// (even when the transfer had already completed).
    public func cancel() {
        lifetime.sink.cancelByConsumer()
        lifetime.loop.cancel(lifetime.id)
    }

    /// Reads the rest of the body into memory; for small bodies such as error responses.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self {
            bytes.append(contentsOf: chunk.prefix(Swift.max(0, limit - bytes.count)))
            if bytes.count >= limit { break }
        }
        return bytes
    }
}
