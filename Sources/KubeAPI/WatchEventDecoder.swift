import JSON

/// One event of a watch stream.
public struct WatchEvent: Sendable, Equatable {
    public enum EventType: String, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        /// The object is a `metav1.Status`.
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// The object's `metadata.resourceVersion` (bookmarks carry only this).
    public var resourceVersion: String? { object[path: ["metadata", "resourceVersion"]].stringValue }
}

/// Why a watch body could not be decoded.
public struct WatchDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "watch stream: \(message)" }
}

/// Turns the bytes of a watch response, in chunks split anywhere, into events.
///
/// Guarantees: an event is emitted exactly once, as soon as its closing brace arrives,
/// whatever the chunk boundaries (including inside a multi-byte UTF-8 sequence or an
/// escaped quote); objects may be separated by newlines or nothing at all. At most
/// `maxEventBytes` of one incomplete event are held.
///
/// Errors: a frame that is not JSON, lacks `type`/`object`, or exceeds the limit.
public struct WatchEventDecoder: Sendable {
    public let maxEventBytes: Int
    private var buffer: [UInt8] = []
    /// Scan position inside `buffer`; bytes before `frameStart` are already consumed.
    private var scanned = 0
    private var frameStart = 0
    private var depth = 0
    private var inString = false
    private var escaped = false

    public init(maxEventBytes: Int = 16 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Bytes held for an event not yet complete.
    public var pendingBytes: Int { buffer.count - frameStart }

    public mutating func feed(_ bytes: some Collection<UInt8>) throws(WatchDecodingError) -> [WatchEvent] {
        buffer.append(contentsOf: bytes)
        var frames: [Range<Int>] = []
        // The scan works on locals over a raw buffer: it touches every byte of the stream.
        var scanned = self.scanned
        var frameStart = self.frameStart
        var depth = self.depth
        var inString = self.inString
        var escaped = self.escaped
        let problem: String? = buffer.withUnsafeBufferPointer { buffer -> String? in
            let count = buffer.count
            while scanned < count {
                let byte = buffer[scanned]
                scanned += 1
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if depth == 0 { frameStart = scanned - 1 }
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth < 0 { return "unbalanced closing bracket" }
                    if depth == 0 {
                        frames.append(frameStart..<scanned)
                        frameStart = scanned
                    }
                case UInt8(ascii: "\""):
                    if depth == 0 { return "text outside an event object" }
                    inString = true
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                    if depth == 0 { frameStart = scanned }
                default:
                    if depth == 0 { return "text outside an event object" }
                }
            }
            return nil
        }
        self.scanned = scanned
        self.frameStart = frameStart
        self.depth = depth
        self.inString = inString
        self.escaped = escaped
        if let problem { throw WatchDecodingError(message: problem) }
        var events: [WatchEvent] = []
        events.reserveCapacity(frames.count)
        for frame in frames { events.append(try Self.event(from: buffer[frame])) }
        if depth == 0 { self.frameStart = self.scanned }
        // Drop consumed bytes so the buffer only ever holds the current event.
        if self.frameStart > 0 {
            buffer.removeFirst(self.frameStart)
            self.scanned -= self.frameStart
            self.frameStart = 0
        }
        if buffer.count > maxEventBytes {
            throw WatchDecodingError(message: "an event exceeds \(maxEventBytes) bytes")
        }
        return events
    }

    /// Call at the end of the body: fails if an event was cut off.
    public func finish() throws(WatchDecodingError) {
        if depth != 0 || pendingBytes > 0 {
            throw WatchDecodingError(message: "the stream ended inside an event (\(pendingBytes) bytes)")
        }
    }

    static func event(from frame: ArraySlice<UInt8>) throws(WatchDecodingError) -> WatchEvent {
        let value: JSONValue
        do {
            value = try JSONValue.parse(frame)
        } catch {
            throw WatchDecodingError(message: "invalid JSON: \(error)")
        }
        guard let typeName = value["type"].stringValue else {
            throw WatchDecodingError(message: "an event has no type")
        }
        guard let type = WatchEvent.EventType(rawValue: typeName) else {
            throw WatchDecodingError(message: "unknown event type \(typeName)")
        }
        guard case .object = value["object"] else {
            throw WatchDecodingError(message: "a \(typeName) event has no object")
        }
        return WatchEvent(type: type, object: value["object"])
    }
}
