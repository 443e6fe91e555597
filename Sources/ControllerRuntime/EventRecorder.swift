import Foundation
import JSON
import KubeAPI
import Logging
import ServiceLifecycle
import Synchronization

/// The object an Event is about.
public struct EventSubject: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var namespace: String
    public var name: String
    public var uid: String

    public init(apiVersion: String, kind: String, namespace: String, name: String, uid: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    var json: JSONValue {
        var value: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if !namespace.isEmpty { value["namespace"] = .string(namespace) }
        return value
    }
}

/// One thing worth telling a human about, before aggregation.
public struct EventOccurrence: Sendable, Hashable {
    public enum Severity: String, Sendable { case normal = "Normal", warning = "Warning" }

    public var subject: EventSubject
    public var severity: Severity
    /// CamelCase, machine-readable: `ProvisioningDatabase`, `ApplyFailed`.
    public var reason: String
    /// What the controller did or failed to do: `Apply`, `Provision`.
    public var action: String
    /// Human-readable; no secrets. Truncated to the API's 1 kB limit.
    public var note: String

    public init(subject: EventSubject, severity: Severity, reason: String, action: String, note: String) {
        self.subject = subject
        self.severity = severity
        self.reason = reason
        self.action = action
        self.note = String(note.utf8.prefix(1024)) ?? String(note.prefix(256))
    }
}

/// Decides, for each occurrence, whether to create an Event, bump an existing one's series,
/// or drop it: the pure part of the event recorder.
///
/// Guarantees: the same subject+reason+note+severity within `window` of its last sighting
/// updates one Event (series count) instead of creating another; each subject may cause at
/// most `burst` writes, refilled at one per `refill` (client-go's 25 and 5 minutes), so a
/// hot loop cannot flood the API server.
public struct EventAggregator: Sendable {
    public enum Action: Sendable, Equatable {
        case create(name: String)
        case increment(name: String, count: Int)
        case drop
    }

    private struct Entry {
        var name: String
        var count: Int
        var lastSeen: RuntimeInstant
    }

    public let window: Duration
    public let burst: Int
    public let refill: Duration
    public let capacity: Int
    private var entries: [EventOccurrence: Entry] = [:]
    private var budgets: [String: TokenBucket] = [:]

    public init(window: Duration = .seconds(600), burst: Int = 25, refill: Duration = .seconds(300), capacity: Int = 4096) {
        self.window = window
        self.burst = burst
        self.refill = refill
        self.capacity = capacity
    }

    /// `uniqueSuffix` makes a new Event's name unique (client-go uses the time in hex).
    public mutating func record(_ occurrence: EventOccurrence, at now: RuntimeInstant, uniqueSuffix: String) -> Action {
        let subjectKey = occurrence.subject.uid.isEmpty ? "\(occurrence.subject.kind)/\(occurrence.subject.namespace)/\(occurrence.subject.name)" : occurrence.subject.uid
        var budget = budgets[subjectKey] ?? TokenBucket(tokensPerSecond: 1 / refill.seconds, burst: burst)
        let allowed = budget.tryTake(at: now)
        budgets[subjectKey] = budget
        guard allowed else { return .drop }

        if var entry = entries[occurrence], now - entry.lastSeen < window {
            entry.count += 1
            entry.lastSeen = now
            entries[occurrence] = entry
            return .increment(name: entry.name, count: entry.count)
        }
        if entries.count >= capacity { evictOldest() }
        let name = "\(occurrence.subject.name).\(uniqueSuffix)"
        entries[occurrence] = Entry(name: name, count: 1, lastSeen: now)
        return .create(name: name)
    }

    private mutating func evictOldest() {
        let cutoff = entries.values.map(\.lastSeen).sorted()[entries.count / 4]
        entries = entries.filter { $0.value.lastSeen > cutoff }
    }
}

/// Writes `events.k8s.io/v1` Events in the background, aggregated and rate-limited.
///
/// Guarantees: `record` never blocks or throws: occurrences go into a bounded buffer
/// (oldest dropped when full) that `run()` drains; a failed write is logged at debug and
/// forgotten, because Events are best-effort by design.
public final class EventRecorder: ServiceLifecycle.Service, Sendable {
    private let client: any ResourceClient
    private let controllerName: String
    private let instance: String
    private let clock: any RuntimeClock
    private let logger: Logger
    private let stream: AsyncStream<EventOccurrence>
    private let continuation: AsyncStream<EventOccurrence>.Continuation
    private let aggregator: Mutex<EventAggregator>
    /// Added to the name suffix so two Events created in the same nanosecond (or on a virtual
    /// clock) still get distinct names.
    private let sequence = Atomic<UInt64>(0)

    /// - Parameters:
    ///   - controllerName: `reportingController`, e.g. `platform.medsearch.io/medsearch-operator`.
    ///   - instance: `reportingInstance`, usually the pod name.
    public init(client: any ResourceClient, controllerName: String, instance: String, aggregator: EventAggregator = EventAggregator(), bufferSize: Int = 1024, clock: any RuntimeClock = SystemRuntimeClock(), logger: Logger) {
        self.client = client
        self.controllerName = controllerName
        self.instance = instance
        self.clock = clock
        self.logger = logger
        self.aggregator = Mutex(aggregator)
        (stream, continuation) = AsyncStream.makeStream(of: EventOccurrence.self, bufferingPolicy: .bufferingNewest(bufferSize))
    }

    /// Queues an occurrence; returns at once.
    public func record(_ occurrence: EventOccurrence) {
        continuation.yield(occurrence)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await occurrence in self.stream {
                await self.write(occurrence)
            }
        }
    }

    /// Stops accepting occurrences; `run()` ends once the buffer is drained.
    public func finish() { continuation.finish() }

    func write(_ occurrence: EventOccurrence) async {
        let wallNow = clock.wallNow
        let serial = sequence.add(1, ordering: .relaxed).newValue
        let suffix = String(UInt64(max(0, wallNow.timeIntervalSince1970 * 1e9)) &+ serial, radix: 16)
        let action = aggregator.withLock { $0.record(occurrence, at: clock.now, uniqueSuffix: suffix) }
        let namespace = occurrence.subject.namespace.isEmpty ? "default" : occurrence.subject.namespace
        do {
            switch action {
            case .drop:
                logger.debug("event dropped by rate limit", metadata: ["reason": "\(occurrence.reason)"])
            case .create(let name):
                _ = try await client.create(.events, namespace: namespace, object: eventObject(occurrence, name: name, namespace: namespace, at: wallNow))
            case .increment(let name, let count):
                let patch: JSONValue = ["series": ["count": .int(Int64(count)), "lastObservedTime": .string(KubernetesTime.micro(wallNow))]]
                do {
                    _ = try await client.mergePatch(.events, namespace: namespace, name: name, patch: patch)
                } catch let error as ResourceClientError where error.isNotFound {
                    // The Event expired (TTL) while we were still counting: start a new one.
                    var object = eventObject(occurrence, name: name, namespace: namespace, at: wallNow)
                    object["series"] = patch["series"]
                    _ = try await client.create(.events, namespace: namespace, object: object)
                }
            }
        } catch {
            logger.debug("writing an event failed", metadata: ["reason": "\(occurrence.reason)", "error": "\(error)"])
        }
    }

    func eventObject(_ occurrence: EventOccurrence, name: String, namespace: String, at wallNow: Date) -> JSONValue {
        [
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "eventTime": .string(KubernetesTime.micro(wallNow)),
            "reportingController": .string(controllerName),
            "reportingInstance": .string(instance),
            "action": .string(occurrence.action),
            "reason": .string(occurrence.reason),
            "note": .string(occurrence.note),
            "type": .string(occurrence.severity.rawValue),
            "regarding": occurrence.subject.json,
        ]
    }
}
