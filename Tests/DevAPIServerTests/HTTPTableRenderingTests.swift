@testable import DevAPIServer
import Foundation
import JSON
import Testing

@Suite("Table rendering helpers")
struct HTTPTableRenderingTests {
    @Test(arguments: ["1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2026-11-25T21:40:00Z", "1999-12-31T23:59:59Z", "2100-03-01T00:00:01Z"])
    func epochSeconds_agreesWithFoundationsISO8601Parser(_ timestamp: String) throws {
        let expected = try #require(ISO8601DateFormatter().date(from: timestamp))
        #expect(epochSeconds(rfc3339: timestamp) == Int(expected.timeIntervalSince1970))
    }

    @Test func epochSeconds_whenTextIsNotATimestamp_returnsNil() {
        #expect(epochSeconds(rfc3339: "yesterday") == nil)
        #expect(epochSeconds(rfc3339: "2026-13-01T00:00:00Z") == nil)
    }

    @Test(arguments: [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (3 * 3600 + 60, "3h1m"), (30 * 3600, "30h"), (3 * 86400 + 3600, "3d1h"), (400 * 86400, "400d"), (800 * 86400, "2y")])
    func age_formatsDurationsLikeKubectl(_ seconds: Int, _ expected: String) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let created = Date(timeIntervalSince1970: 1_800_000_000 - Double(seconds))
        let formatter = ISO8601DateFormatter()
        #expect(TableRenderer.age(since: formatter.string(from: created), now: now) == expected)
    }

    @Test func jsonPath_filterExpression_selectsTheMatchingCondition() {
        let object: JSONValue = ["status": ["conditions": [["type": "Progressing", "status": "False"], ["type": "Ready", "status": "True"]]]]
        #expect(JSONPathQuery(#".status.conditions[?(@.type=="Ready")].status"#).evaluate(on: object) == ["True"])
        #expect(JSONPathQuery(".status.conditions[*].type").evaluate(on: object) == ["Progressing", "Ready"])
        #expect(JSONPathQuery(".status.conditions[0].status").evaluate(on: object) == ["False"])
        #expect(JSONPathQuery(".spec.missing").evaluate(on: object).isEmpty)
    }
}
