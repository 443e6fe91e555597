import JSON
import Synchronization

/// Which faults the dev server injects; all off by default.
public struct FaultConfiguration: Sendable, Equatable {
    /// Share of API requests (0...1) answered 500 InternalError.
    public var errorRate: Double = 0
    /// Share of API requests (0...1) answered 429 TooManyRequests with Retry-After.
    public var throttleRate: Double = 0
    public var retryAfterSeconds: Int = 1
    /// Added before every API request is handled.
    public var latency: Duration = .zero
    /// When set, every watch stream is cut (connection closed mid-stream) after this long.
    public var cutWatchesAfter: Duration?
    /// How many upcoming watches get a 410 Expired ERROR event instead of events.
    public var forcedGoneWatches: Int = 0

    public init() {}

    var json: JSONValue {
        var value: JSONValue = [
            "errorRate": .double(errorRate), "throttleRate": .double(throttleRate),
            "retryAfterSeconds": .int(Int64(retryAfterSeconds)),
            "latencyMilliseconds": .int(Self.milliseconds(latency)),
            "forcedGoneWatches": .int(Int64(forcedGoneWatches)),
        ]
        if let cut = cutWatchesAfter { value["cutWatchesAfterSeconds"] = .double(Double(Self.milliseconds(cut)) / 1000) }
        return value
    }

    /// Applies the members present in `patch`; absent members keep their value.
    mutating func apply(_ patch: JSONValue) throws(APIError) {
        func number(_ key: String) throws(APIError) -> Double? {
            let value = patch[key]
            if value.isNull { return nil }
            guard let number = value.doubleValue, number >= 0 else { throw .badRequest("\(key) must be a non-negative number") }
            return number
        }
        if let rate = try number("errorRate") { errorRate = min(rate, 1) }
        if let rate = try number("throttleRate") { throttleRate = min(rate, 1) }
        if let seconds = try number("retryAfterSeconds") { retryAfterSeconds = Int(seconds) }
        if let ms = try number("latencyMilliseconds") { latency = .milliseconds(Int64(ms)) }
        if let seconds = try number("cutWatchesAfterSeconds") { cutWatchesAfter = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil }
        if let count = try number("forcedGoneWatches") { forcedGoneWatches = Int(count) }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}

/// How often each fault fired since the server started.
public struct FaultCounts: Sendable, Equatable {
    public var internalErrors = 0
    public var throttled = 0
    public var delayed = 0
    public var watchesCut = 0
    public var forcedGone = 0

    public init() {}

    var json: JSONValue {
        [
            "internalErrors": .int(Int64(internalErrors)), "throttled": .int(Int64(throttled)),
            "delayed": .int(Int64(delayed)), "watchesCut": .int(Int64(watchesCut)), "forcedGone": .int(Int64(forcedGone)),
        ]
    }
}

/// Decides per request which fault (if any) to inject and counts what it injected.
///
/// Guarantees: with a seed, the sequence of decisions is reproducible for a given request order.
public final class FaultInjector: Sendable {
    private struct State {
        var configuration: FaultConfiguration
        var counts = FaultCounts()
        var random: SplitMix64
    }
    private let state: Mutex<State>

    public init(configuration: FaultConfiguration = FaultConfiguration(), seed: UInt64 = 0x5EED) {
        state = Mutex(State(configuration: configuration, random: SplitMix64(seed: seed)))
    }

    public var configuration: FaultConfiguration {
        get { state.withLock { $0.configuration } }
        set { state.withLock { $0.configuration = newValue } }
    }

    public var counts: FaultCounts { state.withLock { $0.counts } }

    enum Decision: Sendable, Equatable { case none, internalError, throttle(retryAfter: Int) }

    /// The latency to add and the error to answer (if any) for one API request.
    func decide() -> (latency: Duration, decision: Decision) {
        state.withLock { s in
            let latency = s.configuration.latency
            if latency > .zero { s.counts.delayed += 1 }
            let roll = Double(s.random.next() >> 11) / Double(1 << 53)
            if roll < s.configuration.errorRate {
                s.counts.internalErrors += 1
                return (latency, .internalError)
            }
            if roll < s.configuration.errorRate + s.configuration.throttleRate {
                s.counts.throttled += 1
                return (latency, .throttle(retryAfter: s.configuration.retryAfterSeconds))
            }
            return (latency, .none)
        }
    }

    /// True (and consumes one) when the next watch must be answered with 410.
    func takeForcedGone() -> Bool {
        state.withLock { s in
            guard s.configuration.forcedGoneWatches > 0 else { return false }
            s.configuration.forcedGoneWatches -= 1
            s.counts.forcedGone += 1
            return true
        }
    }

    var watchCut: Duration? { state.withLock { $0.configuration.cutWatchesAfter } }

    func recordWatchCut() { state.withLock { $0.counts.watchesCut += 1 } }

    func apply(_ patch: JSONValue) throws(APIError) {
        try state.withLock { (s: inout State) throws(APIError) in try s.configuration.apply(patch) }
    }

    var report: JSONValue {
        state.withLock { ["configuration": $0.configuration.json, "counts": $0.counts.json] }
    }
}

/// A tiny, fast, seedable generator so fault decisions can be replayed.
struct SplitMix64: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
