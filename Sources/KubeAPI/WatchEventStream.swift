import HTTPTransport
import JSON
import Synchronization

/// The events of one watch, decoded as the body arrives.
///
/// Guarantees: the next body chunk is read only when the decoded events are consumed,
/// so a slow consumer pauses the transfer instead of growing memory. `lastResourceVersion`
/// follows every event, bookmarks included, for resuming after the watch ends.
///
/// Errors: an ERROR event or HTTP 410 throws `KubeAPIError` with kind
/// `.resourceVersionTooOld` (relist, then watch from the list's version); other ERROR
/// events throw their decoded Status; a broken body throws `.transportFailure` or
/// `.malformedResponse`. A normal end (server timeout) just ends the sequence.
public struct WatchEventStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent

    enum Source: Sendable {
        case body(HTTPBodyStream)
        case events(AsyncThrowingStream<WatchEvent, any Error>)
    }

    let source: Source
    let verb: String
    let target: ObjectTarget
    private let progress: Progress

    final class Progress: Sendable {
        let resourceVersion: Mutex<String?>
        init(_ initial: String?) { resourceVersion = Mutex(initial) }
    }

    init(body: HTTPBodyStream, target: ObjectTarget, resourceVersion: String?) {
        source = .body(body)
        verb = "watch"
        self.target = target
        progress = Progress(resourceVersion)
    }

    /// A stream fed by `events`, for fakes of `KubernetesClient`; ERROR events are
    /// interpreted as for a real watch.
    public init(events: AsyncThrowingStream<WatchEvent, any Error>, target: ObjectTarget, resourceVersion: String? = nil) {
        source = .events(events)
        verb = "watch"
        self.target = target
        progress = Progress(resourceVersion)
    }

    /// Resource version of the latest event seen, or the one the watch started from.
    public var lastResourceVersion: String? { progress.resourceVersion.withLock { $0 } }

    /// Aborts the underlying request.
    public func cancel() {
        if case .body(let body) = source { body.cancel() }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .body(let body):
            AsyncIterator(kind: .body(body.makeAsyncIterator(), WatchEventDecoder()), stream: self)
        case .events(let events):
            AsyncIterator(kind: .events(events.makeAsyncIterator()), stream: self)
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum Kind {
            case body(HTTPBodyStream.AsyncIterator, WatchEventDecoder)
            case events(AsyncThrowingStream<WatchEvent, any Error>.AsyncIterator)
        }

        var kind: Kind
        let stream: WatchEventStream
        var pending: [WatchEvent] = []
        var nextPending = 0
        var ended = false

        init(kind: Kind, stream: WatchEventStream) {
            self.kind = kind
            self.stream = stream
        }

        public mutating func next() async throws -> WatchEvent? {
            guard !ended else { return nil }
            guard let event = try await nextRaw() else {
                ended = true
                return nil
            }
            if event.type == .error {
                ended = true
                throw KubeAPIError.fromWatchStatus(event.object, verb: stream.verb, target: stream.target)
            }
            if let version = event.resourceVersion {
                stream.progress.resourceVersion.withLock { $0 = version }
            }
            return event
        }

        private mutating func nextRaw() async throws -> WatchEvent? {
            switch kind {
            case .events(var iterator):
                let event = try await iterator.next()
                kind = .events(iterator)
                return event
            case .body(var body, var decoder):
                defer { kind = .body(body, decoder) }
                while nextPending >= pending.count {
                    let chunk: [UInt8]?
                    do {
                        chunk = try await body.next()
                    } catch let error as HTTPTransportError {
                        throw KubeAPIError(
                            kind: .transportFailure, verb: stream.verb, target: stream.target, status: 0,
                            message: error.message, transportError: error)
                    }
                    do {
                        guard let chunk else {
                            try decoder.finish()
                            return nil
                        }
                        pending = try decoder.feed(chunk)
                        nextPending = 0
                    } catch {
                        throw KubeAPIError(
                            kind: .malformedResponse, verb: stream.verb, target: stream.target, status: 200,
                            message: error.description)
                    }
                }
                let event = pending[nextPending]
                nextPending += 1
                if nextPending == pending.count {
                    pending = []
                    nextPending = 0
                }
                return event
            }
        }
    }
}
