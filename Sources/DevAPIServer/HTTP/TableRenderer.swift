import Foundation
import JSON

/// Renders objects as a `meta.k8s.io/v1` Table: Name, the type's printer columns, Age.
///
/// Caveats: rows carry the object as `PartialObjectMetadata` (the server's default
/// `includeObject=Metadata`), which is what kubectl needs to print names and namespaces.
struct TableRenderer: Sendable {
    let type: ResourceType
    var now: @Sendable () -> Date = { Date() }

    /// Parsed once per table, not once per row.
    private let queries: [JSONPathQuery]

    init(type: ResourceType) {
        self.type = type
        self.queries = type.printerColumns.map { JSONPathQuery($0.jsonPath) }
    }

    var columnDefinitions: JSONValue {
        var columns: [JSONValue] = [[
            "name": "Name", "type": "string", "format": "name", "priority": 0,
            "description": "Name must be unique within a namespace. Cannot be updated.",
        ]]
        var hasAge = false
        for column in type.printerColumns {
            if column.name == "Age" { hasAge = true }
            columns.append([
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .int(Int64(column.priority)),
            ])
        }
        if !hasAge {
            columns.append([
                "name": "Age", "type": "string", "format": "", "priority": 0,
                "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
            ])
        }
        return .array(columns)
    }

    func table(for objects: [JSONValue], resourceVersion: String?, continueToken: String?, remaining: Int?, includeColumns: Bool = true) -> JSONValue {
        var metadata = JSONValue.emptyObject
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken, !continueToken.isEmpty { metadata["continue"] = .string(continueToken) }
        if let remaining { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": includeColumns ? columnDefinitions : .array([]),
            "rows": .array(objects.map(row)),
        ]
    }

    func row(_ object: JSONValue) -> JSONValue {
        var cells: [JSONValue] = [object[path: ["metadata", "name"]]]
        var hasAge = false
        for (column, query) in zip(type.printerColumns, queries) {
            if column.name == "Age" { hasAge = true }
            let value = query.evaluate(on: object)
            cells.append(cell(value, type: column.type))
        }
        if !hasAge { cells.append(cell(object[path: ["metadata", "creationTimestamp"]], type: "date")) }
        let partial: JSONValue = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]]
        return ["cells": .array(cells), "object": partial]
    }

    private func cell(_ values: [JSONValue], type columnType: String) -> JSONValue {
        guard let first = values.first, !first.isNull else { return columnType == "date" ? "<unknown>" : .null }
        if columnType == "date", let text = first.stringValue { return .string(Self.age(since: text, now: now())) }
        if values.count > 1 {
            return .string(values.map(Self.plainText).joined(separator: ","))
        }
        switch first {
        case .object, .array: return .string(Self.plainText(first))
        default: return first
        }
    }

    private func cell(_ value: JSONValue, type columnType: String) -> JSONValue { cell([value], type: columnType) }

    static func plainText(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .null: return ""
        default: return value.serialized()
        }
    }

    /// kubectl's short human duration (`5s`, `3m`, `2d4h`), which the real server puts in Age cells.
    static func age(since timestamp: String, now: Date) -> String {
        guard let created = epochSeconds(rfc3339: timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince1970) - created)
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { let s = seconds % 60; return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { let m = minutes % 60; return m == 0 ? "\(hours)h" : "\(hours)h\(m)m" }
        if hours < 48 { return "\(hours)h" }
        let days = hours / 24
        if days < 8 { let h = hours % 24; return h == 0 ? "\(days)d" : "\(days)d\(h)h" }
        if days < 365 * 2 { return "\(days)d" }
        return "\(days / 365)y"
    }
}

/// Seconds since 1970 of a `YYYY-MM-DDTHH:MM:SSZ` timestamp (the only form the server writes).
/// Hand-parsed because a formatter per row made 50,000-row tables take seconds.
func epochSeconds(rfc3339 text: String) -> Int? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") else { return nil }
    func number(_ range: Range<Int>) -> Int? {
        var value = 0
        for index in range {
            let digit = Int(bytes[index]) - 48
            guard (0...9).contains(digit) else { return nil }
            value = value * 10 + digit
        }
        return value
    }
    guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
          let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
          (1...12).contains(month), (1...31).contains(day) else { return nil }
    // Days from civil date (proleptic Gregorian), Howard Hinnant's well-known algorithm.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return days * 86_400 + hour * 3_600 + minute * 60 + second
}

/// The subset of kubectl JSONPath that printer columns use: `.a.b`, `.a[0]`, `.a[*].b`,
/// and `.a[?(@.k=="v")].b` filters.
struct JSONPathQuery: Sendable {
    enum Step: Sendable { case key(String), index(Int), all, filter(key: [String], value: String) }
    let steps: [Step]

    init(_ expression: String) {
        var text = Substring(expression.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("{") && text.hasSuffix("}") { text = text.dropFirst().dropLast() }
        var steps: [Step] = []
        while !text.isEmpty {
            if text.hasPrefix(".") {
                text = text.dropFirst()
                let end = text.firstIndex(where: { $0 == "." || $0 == "[" }) ?? text.endIndex
                if end > text.startIndex { steps.append(.key(String(text[..<end]))) }
                text = text[end...]
            } else if text.hasPrefix("[") {
                guard let close = Self.closingBracket(in: text) else { break }
                let inner = text[text.index(after: text.startIndex)..<close]
                text = text[text.index(after: close)...]
                if inner == "*" {
                    steps.append(.all)
                } else if let index = Int(inner) {
                    steps.append(.index(index))
                } else if inner.hasPrefix("?(@.") && inner.hasSuffix(")") {
                    let condition = inner.dropFirst(4).dropLast()
                    let parts = condition.components(separatedBy: "==")
                    if parts.count == 2 {
                        let key = parts[0].trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init)
                        let value = parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                        steps.append(.filter(key: key, value: value))
                    }
                } else {
                    steps.append(.key(inner.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))))
                }
            } else {
                let end = text.firstIndex(where: { $0 == "." || $0 == "[" }) ?? text.endIndex
                steps.append(.key(String(text[..<end])))
                text = text[end...]
            }
        }
        self.steps = steps
    }

    private static func closingBracket(in text: Substring) -> Substring.Index? {
        var depth = 0
        for index in text.indices {
            if text[index] == "[" { depth += 1 }
            if text[index] == "]" { depth -= 1; if depth == 0 { return index } }
        }
        return nil
    }

    func evaluate(on root: JSONValue) -> [JSONValue] {
        var current: [JSONValue] = [root]
        for step in steps {
            var next: [JSONValue] = []
            for value in current {
                switch step {
                case .key(let key): let v = value[key]; if !v.isNull { next.append(v) }
                case .index(let i):
                    if let a = value.arrayValue { let idx = i < 0 ? a.count + i : i; if a.indices.contains(idx) { next.append(a[idx]) } }
                case .all: next.append(contentsOf: value.arrayValue ?? [])
                case .filter(let key, let expected):
                    for element in value.arrayValue ?? [] where TableRenderer.plainText(element[path: key]) == expected {
                        next.append(element)
                    }
                }
            }
            current = next
        }
        return current
    }
}
