import JSON
import Testing
@testable import YAML

/// SplitMix64: tiny, seedable, and good enough to explore value shapes reproducibly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds random JSON values biased towards strings that are hard to write as YAML.
struct JSONValueGenerator {
    var rng: SeededGenerator

    static let trickyPieces = [
        "true", "no", "On", "null", "~", "", " ", "  ", "-", "- ", "--", "---", "...", "?", ":", ": ", " #", "#", "'", "\"",
        "\\", "\n", "\n\n", "\r", "\t", "0x1F", "017", "1e3", ".5", "-1", "+1", "1_0", ".inf", ".nan", "<<", "&a", "*a", "!x",
        "|", ">", "%", "@", "`", "[", "]", "{", "}", ",", "é", "日本", "😀", "\u{85}", "\u{2028}", "\u{FEFF}", "\u{7F}",
        "\u{01}", "\u{0}", "\u{A0}", "abc", "key", "x y", "2001-12-14", "12:30", "=", "y", "N",
    ]

    mutating func string() -> String {
        let count = Int.random(in: 0...4, using: &rng)
        var s = ""
        for _ in 0..<count { s += Self.trickyPieces.randomElement(using: &rng)! }
        return s
    }

    mutating func value(depth: Int) -> JSONValue {
        let choice = Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng)
        switch choice {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng))
        case 3:
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            return .double(d.isFinite ? d : Double(Int.random(in: -1000...1000, using: &rng)) / 8)
        case 4, 5: return .string(string())
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) { object[string()] = value(depth: depth + 1) }
            return .object(object)
        }
    }
}

@Suite struct RoundTripPropertyTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func parsingEmittedYAML_givesBackTheSameValue(seed: UInt64) throws {
        var generator = JSONValueGenerator(rng: SeededGenerator(state: seed))
        for iteration in 0..<300 {
            let value = generator.value(depth: 0)
            let emitted = YAMLEmitter.emit(value)
            let parsed: JSONValue
            do {
                parsed = try YAMLParser.parseDocuments(emitted).first?.value ?? .null
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): \(error)\nvalue: \(value)\nyaml:\n\(emitted)")
                return
            }
            #expect(parsed == value, "seed \(seed) iteration \(iteration)\nyaml:\n\(emitted)")
            if parsed != value { return }
        }
    }

    @Test func largeManifest_roundTrips() throws {
        var generator = JSONValueGenerator(rng: SeededGenerator(state: 99))
        let documents = (0..<200).map { _ in JSONValue.object(["spec": generator.value(depth: 0), "kind": "X"]) }
        let emitted = YAMLEmitter.emit(documents: documents)
        #expect(try YAMLParser.parseValues(emitted) == documents)
    }
}
