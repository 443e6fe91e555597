import JSON
@testable import KubeAPI
import Testing

/// A watch body with multi-byte UTF-8 (2, 3 and 4 bytes), escaped quotes and braces
/// inside strings, a bookmark and an error event.
private let events: [WatchEvent] = [
    WatchEvent(type: .added, object: [
        "kind": "ConfigMap", "metadata": ["name": "café-☕", "resourceVersion": "11"],
        "data": ["note": "ünïcode 名前 🩺", "tricky": "brace } and { quote \" backslash \\ end"],
    ]),
    WatchEvent(type: .modified, object: ["kind": "ConfigMap", "metadata": ["name": "b", "resourceVersion": "12"], "data": ["k": "[]{}"]]),
    WatchEvent(type: .bookmark, object: ["kind": "ConfigMap", "metadata": ["resourceVersion": "20"]]),
    WatchEvent(type: .deleted, object: ["kind": "ConfigMap", "metadata": ["name": "b", "resourceVersion": "21"]]),
    WatchEvent(type: .error, object: ["kind": "Status", "code": 410, "reason": "Expired", "message": "too old"]),
]

private func frame(_ event: WatchEvent) -> [UInt8] {
    JSONValue.object(["type": .string(event.type.rawValue), "object": event.object]).serializedBytes() + [0x0A]
}

private let body: [UInt8] = events.flatMap(frame)

struct WatchEventDecoderTests {
    @Test func feed_wholeBody_emitsEveryEventInOrder() throws {
        var decoder = WatchEventDecoder()
        #expect(try decoder.feed(body) == events)
        try decoder.finish()
    }

    @Test func feed_splitAtEveryByteOffset_emitsEachEventExactlyOnce() throws {
        #expect(body.count > 300)
        for split in 0...body.count {
            var decoder = WatchEventDecoder()
            var decoded = try decoder.feed(body[..<split])
            decoded += try decoder.feed(body[split...])
            #expect(decoded == events, "split at \(split)")
            try decoder.finish()
        }
    }

    @Test func feed_splitAtEveryPairOfOffsets_emitsEachEventExactlyOnce() throws {
        // Three chunks: covers boundaries on both sides of every multi-byte sequence.
        let stride = 7
        for first in Swift.stride(from: 0, through: body.count, by: stride) {
            for second in first...body.count {
                var decoder = WatchEventDecoder()
                var decoded = try decoder.feed(body[..<first])
                decoded += try decoder.feed(body[first..<second])
                decoded += try decoder.feed(body[second...])
                #expect(decoded == events)
            }
        }
    }

    @Test func feed_oneByteAtATime_emitsEachEventWhenItsLastByteArrives() throws {
        var decoder = WatchEventDecoder()
        var decoded: [WatchEvent] = []
        var completionOffsets: [Int] = []
        for (offset, byte) in body.enumerated() {
            let new = try decoder.feed([byte])
            if !new.isEmpty { completionOffsets.append(offset) }
            decoded += new
        }
        #expect(decoded == events)
        // Each event completes on its closing brace, the byte before its newline.
        var expected: [Int] = []
        var end = 0
        for event in events {
            end += frame(event).count
            expected.append(end - 2)
        }
        #expect(completionOffsets == expected)
    }

    @Test func feed_objectsWithoutNewlinesOrWithCRLF_areStillSeparated() throws {
        var decoder = WatchEventDecoder()
        let joined = frame(events[0]).dropLast() + Array("\r\n \t".utf8) + frame(events[1]).dropLast() + frame(events[2]).dropLast()
        #expect(try decoder.feed(joined) == Array(events[0...2]))
    }

    @Test func pendingBytes_holdOnlyTheIncompleteEvent() throws {
        var decoder = WatchEventDecoder()
        let first = frame(events[0])
        let second = frame(events[1])
        _ = try decoder.feed(first + second.prefix(10))
        #expect(decoder.pendingBytes == 10)
        #expect(throws: WatchDecodingError.self) { try decoder.finish() }
    }

    @Test func feed_eventLargerThanLimit_fails() throws {
        var decoder = WatchEventDecoder(maxEventBytes: 64)
        let big = frame(WatchEvent(type: .added, object: ["data": .string(String(repeating: "x", count: 200))]))
        #expect(throws: WatchDecodingError.self) { _ = try decoder.feed(big.prefix(100)) }
    }

    @Test(arguments: [
        "not json\n",
        "{\"type\":\"ADDED\"}\n",
        "{\"type\":\"EXPLODED\",\"object\":{}}\n",
        "{\"object\":{}}\n",
        "{\"type\":\"ADDED\",\"object\":{} ]}\n",
        "}\n",
    ])
    func feed_malformedFrame_fails(text: String) {
        var decoder = WatchEventDecoder()
        #expect(throws: WatchDecodingError.self) { _ = try decoder.feed(Array(text.utf8)) }
    }

    @Test func event_resourceVersion_readsMetadata() {
        #expect(events[2].resourceVersion == "20")
        #expect(events[4].resourceVersion == nil)
    }
}
