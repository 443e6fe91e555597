/// A parsed field selector with the semantics of k8s.io/apimachinery/pkg/fields:
/// comma-separated `field=value`, `field==value`, `field!=value` terms, all of which must hold.
///
/// Values may escape `\`, `,` and `=` with a backslash. An empty selector matches everything.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    /// One term of a field selector.
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable {
            case equals = "="
            case doubleEquals = "=="
            case notEquals = "!="
        }

        public var field: String
        public var `operator`: Operator
        public var value: String

        public init(field: String, operator op: Operator, value: String) {
            self.field = field
            self.operator = op
            self.value = value
        }

        /// A missing field counts as the empty string, as the server's field sets do.
        public func matches(_ fields: (String) -> String?) -> Bool {
            let have = fields(field) ?? ""
            return self.operator == .notEquals ? have != value : have == value
        }
    }

    public private(set) var requirements: [Requirement]

    public init(requirements: [Requirement]) { self.requirements = requirements }

    public static let everything = FieldSelector(requirements: [])

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ fields: (String) -> String?) -> Bool {
        requirements.allSatisfy { $0.matches(fields) }
    }

    /// The selector as text, terms in the order parsed and values escaped, as Go's
    /// `fields.Selector.String()` renders a parsed selector.
    public var description: String {
        requirements
            .map { $0.field + $0.operator.rawValue + FieldSelector.escape($0.value) }
            .joined(separator: ",")
    }

    public static func parse(_ text: String) throws(SelectorError) -> FieldSelector {
        var requirements: [Requirement] = []
        for term in try splitTerms(text) where !term.isEmpty {
            requirements.append(try parseTerm(term))
        }
        return FieldSelector(requirements: requirements)
    }

    public static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            if c == "\\" || c == "," || c == "=" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Splits on commas that are not escaped; escapes are kept for `parseTerm`.
    static func splitTerms(_ text: String) throws(SelectorError) -> [String] {
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { current.append(c); escaped = true; continue }
            if c == "," { terms.append(current); current = ""; continue }
            current.append(c)
        }
        terms.append(current)
        return terms
    }

    static func parseTerm(_ term: String) throws(SelectorError) -> Requirement {
        // The field part never contains escapes, so the first operator found splits the term.
        let chars = Array(term)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\" { i += 2; continue }
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            var op: Requirement.Operator?
            var width = 1
            if chars[i] == "!" && next == "=" { op = .notEquals; width = 2 }
            else if chars[i] == "=" && next == "=" { op = .doubleEquals; width = 2 }
            else if chars[i] == "=" { op = .equals }
            if let op {
                let field = String(chars[..<i]).trimmingSpaces()
                let value = try unescape(String(chars[(i + width)...]))
                return Requirement(field: field, operator: op, value: value)
            }
            i += 1
        }
        throw SelectorError("invalid selector: '\(term)'; can't understand '\(term)'")
    }

    static func unescape(_ value: String) throws(SelectorError) -> String {
        var out = ""
        var escaped = false
        for c in value {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," || c == "=" {
                throw SelectorError("invalid field selector: unescaped \(c) in value")
            } else {
                out.append(c)
            }
        }
        if escaped { throw SelectorError("invalid field selector: unterminated escape sequence") }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
