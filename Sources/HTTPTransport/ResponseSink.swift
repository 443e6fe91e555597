import Synchronization

/// The meeting point of the event-loop thread (which feeds a response in) and the task
/// that awaits it. Holds at most `highWater` buffered body bytes (plus one curl write)
/// in streaming mode; past that the write callback pauses the transfer.
final class ResponseSink: Sendable {
    enum Mode: Sendable {
        /// Keeps the whole body; more than `limit` bytes aborts the transfer.
        case collect(limit: Int?)
        case stream(highWater: Int, lowWater: Int)
    }

    /// What the write callback should tell curl.
    enum WriteVerdict {
        case accepted
        case pause
        case abort
    }

    struct State {
        var status = 0
        var headers = HTTPHeaders()
        var headComplete = false
        var headWaiter: CheckedContinuation<HTTPResponseHead, any Error>?
        var responseWaiter: CheckedContinuation<HTTPResponse, any Error>?
        var collected: [UInt8] = []
        var chunks: [[UInt8]] = []
        var firstChunk = 0
        var buffered = 0
        var paused = false
        var resumeRequested = false
        var bodyWaiter: CheckedContinuation<[UInt8]?, any Error>?
        var failure: (any Error)?
        var finished = false
        var exceededLimit = false
        var cancelledByConsumer = false
        var receivedAnything = false
    }

    let mode: Mode
    let state = Mutex(State())
    let gauge: BufferGauge

    init(mode: Mode, gauge: BufferGauge) {
        self.mode = mode
        self.gauge = gauge
    }

    // MARK: Loop-thread side

    /// One raw header line from curl, CRLF included.
    func receiveHeaderLine(_ line: String) {
        let trimmed = line.trimmingTrailingNewline()
        var headToDeliver: (CheckedContinuation<HTTPResponseHead, any Error>, HTTPResponseHead)?
        state.withLock { state in
            state.receivedAnything = true
            if trimmed.hasPrefix("HTTP/") {
                // A new status line starts a new header block (after 100 Continue, say).
                let parts = trimmed.split(separator: " ", maxSplits: 2)
                state.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                state.headers = HTTPHeaders()
            } else if trimmed.isEmpty {
                if state.status >= 200 || state.status == 101 {
                    state.headComplete = true
                    if let waiter = state.headWaiter {
                        state.headWaiter = nil
                        headToDeliver = (waiter, HTTPResponseHead(status: state.status, headers: state.headers))
                    }
                }
            } else if let colon = trimmed.firstIndex(of: ":") {
                let name = String(trimmed[..<colon])
                let value = trimmed[trimmed.index(after: colon)...].trimmingSpaces()
                state.headers.add(name: name, value: value)
            }
        }
        if let (waiter, head) = headToDeliver { waiter.resume(returning: head) }
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> WriteVerdict {
        switch mode {
        case .collect(let limit):
            return state.withLock { state in
                state.receivedAnything = true
                // Ended from the consumer's side (cancelled): refuse, which stops curl.
                if state.finished { return .abort }
                if let limit, state.collected.count + bytes.count > limit {
                    state.exceededLimit = true
                    return .abort
                }
                state.collected.append(contentsOf: bytes)
                return .accepted
            }
        case .stream(let highWater, _):
            var waiter: CheckedContinuation<[UInt8]?, any Error>?
            let verdict: WriteVerdict = state.withLock { state in
                state.receivedAnything = true
                if state.finished { return .abort }
                if let bodyWaiter = state.bodyWaiter {
                    state.bodyWaiter = nil
                    waiter = bodyWaiter
                    return .accepted
                }
                if state.buffered >= highWater {
                    state.paused = true
                    return .pause
                }
                state.chunks.append(Array(bytes))
                state.buffered += bytes.count
                gauge.add(bytes.count)
                return .accepted
            }
            if let waiter { waiter.resume(returning: Array(bytes)) }
            if verdict == .pause { gauge.recordPause() }
            return verdict
        }
    }

    /// Marks the transfer resumed; called on the loop thread just before unpausing curl.
    func markResumed() {
        state.withLock { state in
            state.paused = false
            state.resumeRequested = false
        }
    }

    /// Ends the response: `failure` nil means the body is complete.
    func finish(failure: (any Error)?) {
        var resumeHead: CheckedContinuation<HTTPResponseHead, any Error>?
        var resumeResponse: CheckedContinuation<HTTPResponse, any Error>?
        var resumeBody: CheckedContinuation<[UInt8]?, any Error>?
        var head = HTTPResponseHead(status: 0, headers: [:])
        var response = HTTPResponse(status: 0, headers: [:], body: [])
        let effectiveFailure: (any Error)? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.failure = failure
            state.headComplete = state.headComplete || failure == nil
            head = HTTPResponseHead(status: state.status, headers: state.headers)
            resumeHead = state.headWaiter
            state.headWaiter = nil
            resumeResponse = state.responseWaiter
            state.responseWaiter = nil
            if resumeResponse != nil {
                // Handed over now; otherwise `awaitResponse` picks the body up later.
                response = HTTPResponse(status: state.status, headers: state.headers, body: state.collected)
                state.collected = []
            }
            resumeBody = state.bodyWaiter
            state.bodyWaiter = nil
            if failure != nil {
                gauge.add(-state.buffered)
                state.buffered = 0
                state.chunks = []
                state.firstChunk = 0
            }
            return failure
        }
        if let failure = effectiveFailure {
            resumeHead?.resume(throwing: failure)
            resumeResponse?.resume(throwing: failure)
            resumeBody?.resume(throwing: failure)
        } else {
            resumeHead?.resume(returning: head)
            resumeResponse?.resume(returning: response)
            resumeBody?.resume(returning: nil)
        }
    }

    // MARK: Consumer side

    func awaitResponse() async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<HTTPResponse, any Error>? = state.withLock { state in
                if state.finished {
                    if let failure = state.failure { return .failure(failure) }
                    return .success(HTTPResponse(status: state.status, headers: state.headers, body: state.collected))
                }
                state.responseWaiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    func awaitHead() async throws -> HTTPResponseHead {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<HTTPResponseHead, any Error>? = state.withLock { state in
                if let failure = state.failure { return .failure(failure) }
                if state.headComplete { return .success(HTTPResponseHead(status: state.status, headers: state.headers)) }
                state.headWaiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Next body chunk, nil at the end. `requestResume` is called (outside the lock)
    /// when draining crossed the low-water mark of a paused transfer.
    func nextChunk(requestResume: () -> Void) async throws -> [UInt8]? {
        var needsResume = false
        let result: [UInt8]?? = try state.withLock { state -> [UInt8]?? in
            if state.firstChunk < state.chunks.count {
                let chunk = state.chunks[state.firstChunk]
                state.chunks[state.firstChunk] = []
                state.firstChunk += 1
                if state.firstChunk == state.chunks.count {
                    state.chunks.removeAll(keepingCapacity: true)
                    state.firstChunk = 0
                } else if state.firstChunk > 64 && state.firstChunk * 2 > state.chunks.count {
                    state.chunks.removeFirst(state.firstChunk)
                    state.firstChunk = 0
                }
                state.buffered -= chunk.count
                gauge.add(-chunk.count)
                if case .stream(_, let lowWater) = mode, state.paused, !state.resumeRequested,
                    state.buffered <= lowWater
                {
                    state.resumeRequested = true
                    needsResume = true
                }
                return .some(chunk)
            }
            if state.finished {
                if let failure = state.failure { throw failure }
                return .some(nil)
            }
            if state.paused && !state.resumeRequested {
                state.resumeRequested = true
                needsResume = true
            }
            return .none
        }
        if needsResume { requestResume() }
        if let result { return result }
        return try await withCheckedThrowingContinuation { continuation in
            let ready: Result<[UInt8]?, any Error>? = state.withLock { state in
                if state.firstChunk < state.chunks.count {
                    // Data arrived between the two lock sections; hand it over in order.
                    let chunk = state.chunks[state.firstChunk]
                    state.firstChunk += 1
                    if state.firstChunk == state.chunks.count {
                        state.chunks.removeAll(keepingCapacity: true)
                        state.firstChunk = 0
                    }
                    state.buffered -= chunk.count
                    gauge.add(-chunk.count)
                    return .success(chunk)
                }
                if state.finished {
                    if let failure = state.failure { return .failure(failure) }
                    return .success(nil)
                }
                state.bodyWaiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    var bufferedBytes: Int { state.withLock { $0.buffered } }

    var exceededLimit: Bool { state.withLock { $0.exceededLimit } }

    /// True once `cancelByConsumer` ran: however curl then ends the transfer (often a write
    /// error, because the sink refuses further bytes), it was a cancellation.
    var wasCancelledByConsumer: Bool { state.withLock { $0.cancelledByConsumer } }

    /// False until curl hands over the first header line or body byte; a transfer that fails
    /// before then left nothing half-delivered, so it can be retried on the same sink.
    var hasReceivedAnything: Bool { state.withLock { $0.receivedAnything } }

    var isStreaming: Bool {
        if case .stream = mode { return true }
        return false
    }

    /// The consumer gave up: whatever happened so far, reading now ends with
    /// `CancellationError` and unread bytes are dropped.
    func cancelByConsumer() {
        let waiters = state.withLock { state in
            state.finished = true
            state.cancelledByConsumer = true
            if state.failure == nil { state.failure = CancellationError() }
            gauge.add(-state.buffered)
            state.buffered = 0
            state.chunks = []
            state.firstChunk = 0
            let waiters = (state.headWaiter, state.responseWaiter, state.bodyWaiter)
            state.headWaiter = nil
            state.responseWaiter = nil
            state.bodyWaiter = nil
            return waiters
        }
        waiters.0?.resume(throwing: CancellationError())
        waiters.1?.resume(throwing: CancellationError())
        waiters.2?.resume(throwing: CancellationError())
    }

    /// Drops unread chunks when the consumer goes away, so the gauge does not keep
    /// counting bytes nobody will read.
    func discardUnread() {
        state.withLock { state in
            gauge.add(-state.buffered)
            state.buffered = 0
            state.chunks = []
            state.firstChunk = 0
        }
    }
}

/// Transport-wide count of streamed body bytes waiting for consumers, for tests and metrics.
final class BufferGauge: Sendable {
    let current = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    let pauses = Atomic<Int>(0)

    func add(_ delta: Int) {
        let now = current.add(delta, ordering: .relaxed).newValue
        if delta > 0 { _ = peak.max(now, ordering: .relaxed) }
    }

    func recordPause() { pauses.add(1, ordering: .relaxed) }
}

extension String {
    func trimmingTrailingNewline() -> String {
        var text = Substring(self)
        while let last = text.last, last == "\r\n" || last == "\n" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
