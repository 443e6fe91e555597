import JSON
import Synchronization

/// The byte form `CompactJSON` keeps: a tagged binary JSON in which member names and
/// strings that repeat across objects are numbers into one process-wide table, and a string
/// repeated inside one object is a back-reference to its first occurrence.
///
/// Why: 40,000 cached children of a few kinds spell the same keys ("apiVersion",
/// "app.kubernetes.io/managed-by", "terminationMessagePolicy"…) and values (images, owner
/// kind, label values) tens of thousands of times; JSON text keeps every copy.
///
/// Guarantees:
/// - `decode(encode(v))` equals `v` for every value (object member order is not kept).
/// - Table ids never change meaning (the table only grows), so bytes decode the same for the
///   life of the process. Equal values may still differ in bytes (a value string is shared
///   from its second sighting on), so `CompactJSON` compares decoded values when bytes differ.
///
/// Caveats: table ids are only meaningful inside this process; never persist or send the bytes.
enum PackedJSON {
    private enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, double, literal, shared, repeated, array, object
    }

    static func encode(_ value: JSONValue, table: SharedStringTable = .shared) -> [UInt8] {
        var writer = Writer(table: table)
        writer.write(value, shareable: true)
        let written = writer.bytes
        // Exact-size copy: the writer's buffer grew by doubling, and tens of thousands of
        // these live as long as the cache.
        return [UInt8](unsafeUninitializedCapacity: written.count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: written)
        }
    }

    static func decode(_ bytes: [UInt8], table: SharedStringTable = .shared) -> JSONValue? {
        table.withStrings { strings in
            var reader = Reader(bytes: bytes, strings: strings)
            guard let value = reader.read(), reader.offset == bytes.count else { return nil }
            return value
        }
    }

    /// Members whose values are unique per object (sharing them would only grow the table)
    /// or may be confidential (Secret and ConfigMap payloads stay in their own object).
    private static let unshared: Set<String> = [
        "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "lastTransitionTime",
        "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime", "startTime", "clusterIP", "clusterIPs",
        "data", "stringData", "binaryData", "token", "password", "generateName",
    ]

    private struct Writer {
        let table: SharedStringTable
        var bytes: [UInt8] = []
        var literals: [String: Int] = [:]

        init(table: SharedStringTable) {
            self.table = table
            bytes.reserveCapacity(512)
        }

        mutating func write(_ value: JSONValue, shareable: Bool) {
            switch value {
            case .null: bytes.append(Tag.null.rawValue)
            case .bool(let flag): bytes.append(flag ? Tag.true.rawValue : Tag.false.rawValue)
            case .int(let number):
                bytes.append(Tag.int.rawValue)
                writeVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)))
            case .double(let number):
                bytes.append(Tag.double.rawValue)
                withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            case .string(let text): write(text, shareable: shareable)
            case .array(let elements):
                bytes.append(Tag.array.rawValue)
                writeVarint(UInt64(elements.count))
                for element in elements { write(element, shareable: shareable) }
            case .object(let members):
                bytes.append(Tag.object.rawValue)
                writeVarint(UInt64(members.count))
                for key in members.keys.sorted() {
                    write(key, shareable: true, isMemberName: true)
                    write(members[key]!, shareable: shareable && !PackedJSON.unshared.contains(key))
                }
            }
        }

        mutating func write(_ text: String, shareable: Bool, isMemberName: Bool = false) {
            // A value seen a second time inside this object is a back-reference, and must
            // not count as a second sighting for the table.
            if !isMemberName, let earlier = literals[text] {
                bytes.append(Tag.repeated.rawValue)
                writeVarint(UInt64(earlier))
            } else if shareable, let id = table.id(for: text, admitAtFirstSight: isMemberName) {
                bytes.append(Tag.shared.rawValue)
                writeVarint(UInt64(id))
            } else if let earlier = literals[text] {
                bytes.append(Tag.repeated.rawValue)
                writeVarint(UInt64(earlier))
            } else {
                literals[text] = literals.count
                bytes.append(Tag.literal.rawValue)
                writeVarint(UInt64(text.utf8.count))
                bytes.append(contentsOf: text.utf8)
            }
        }

        mutating func writeVarint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        let strings: [String]
        var offset = 0
        var literals: [String] = []

        init(bytes: [UInt8], strings: [String]) {
            self.bytes = bytes
            self.strings = strings
        }

        mutating func read() -> JSONValue? {
            guard offset < bytes.count, let tag = Tag(rawValue: bytes[offset]) else { return nil }
            offset += 1
            switch tag {
            case .null: return .null
            case .false: return .bool(false)
            case .true: return .bool(true)
            case .int:
                guard let raw = readVarint() else { return nil }
                return .int(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1))
            case .double:
                guard offset + 8 <= bytes.count else { return nil }
                var pattern: UInt64 = 0
                for shift in 0..<8 { pattern |= UInt64(bytes[offset + shift]) << (8 * shift) }
                offset += 8
                return .double(Double(bitPattern: pattern))
            case .literal, .shared, .repeated:
                offset -= 1
                return readString().map(JSONValue.string)
            case .array:
                guard let count = readVarint(), count <= bytes.count else { return nil }
                var elements: [JSONValue] = []
                elements.reserveCapacity(Int(count))
                for _ in 0..<count {
                    guard let element = read() else { return nil }
                    elements.append(element)
                }
                return .array(elements)
            case .object:
                guard let count = readVarint(), count <= bytes.count else { return nil }
                var members: [String: JSONValue] = [:]
                members.reserveCapacity(Int(count))
                for _ in 0..<count {
                    guard let key = readString(), let value = read() else { return nil }
                    members[key] = value
                }
                return .object(members)
            }
        }

        mutating func readString() -> String? {
            guard offset < bytes.count else { return nil }
            let tag = bytes[offset]
            offset += 1
            switch Tag(rawValue: tag) {
            case .shared:
                guard let id = readVarint(), id < strings.count else { return nil }
                return strings[Int(id)]
            case .repeated:
                guard let index = readVarint(), index < literals.count else { return nil }
                return literals[Int(index)]
            case .literal:
                guard let length = readVarint(), length <= bytes.count - offset else { return nil }
                let text = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
                offset += Int(length)
                literals.append(text)
                return text
            default: return nil
            }
        }

        mutating func readVarint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
    }
}

/// An append-only, bounded table of strings shared by every `CompactJSON` in the process.
///
/// Guarantees: an id, once given, names the same string for the life of the process (entries
/// are never removed), so bytes encoded earlier always decode. Once full, new strings are
/// simply not shared; the bound keeps high-cardinality input from growing it without limit.
///
/// Member names enter at first sight (there are few). Values enter at their second sighting
/// in different objects, remembered by a small doorkeeper set that is emptied when full:
/// otherwise strings that occur once (an object's own name) would fill the table first and
/// leave no room for the ones repeated across thousands of objects.
final class SharedStringTable: Sendable {
    static let shared = SharedStringTable()

    private struct Contents {
        var ids: [String: UInt32] = [:]
        var strings: [String] = []
        var utf8Bytes = 0
        var seenOnce: Set<String> = []
    }

    private let contents = Mutex(Contents())
    let capacity: Int
    let byteCapacity: Int
    /// Longer strings are rare repeats (certificates, scripts) and are kept in their object.
    let longest: Int

    let doorkeeperCapacity: Int

    init(capacity: Int = 65_536, byteCapacity: Int = 2 << 20, longest: Int = 160, doorkeeperCapacity: Int = 4_096) {
        self.capacity = capacity
        self.doorkeeperCapacity = doorkeeperCapacity
        self.byteCapacity = byteCapacity
        self.longest = longest
    }

    /// The id of `text`, adding it when there is room; nil when it is not shared.
    func id(for text: String, admitAtFirstSight: Bool = true) -> UInt32? {
        let length = text.utf8.count
        // One-byte strings cost as much as their id; long ones are not worth a table slot.
        guard length >= 2, length <= longest else { return nil }
        return contents.withLock { c in
            if let id = c.ids[text] { return id }
            guard c.strings.count < capacity, c.utf8Bytes + length <= byteCapacity else { return nil }
            if !admitAtFirstSight && c.seenOnce.remove(text) == nil {
                if c.seenOnce.count >= doorkeeperCapacity { c.seenOnce.removeAll(keepingCapacity: true) }
                c.seenOnce.insert(text)
                return nil
            }
            let id = UInt32(c.strings.count)
            c.ids[text] = id
            c.strings.append(text)
            c.utf8Bytes += length
            return id
        }
    }

    /// Runs `body` with the table's strings, indexed by id.
    func withStrings<Result>(_ body: ([String]) -> Result) -> Result {
        contents.withLock { body($0.strings) }
    }

    var count: Int { contents.withLock { $0.strings.count } }
}
