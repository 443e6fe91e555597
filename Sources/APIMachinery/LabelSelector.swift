import JSON

/// Why a label or field selector could not be parsed or built.
public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed label selector with the semantics of k8s.io/apimachinery/pkg/labels.
///
/// Guarantees:
/// - Keys and values are validated as the API server validates them (qualified names,
///   63-character values), so a selector accepted here is accepted by a real cluster.
/// - `description` is canonical: requirements sorted by key, set values sorted.
/// Caveats:
/// - An empty selector matches everything; "match nothing" (a nil `metav1.LabelSelector`)
///   is the caller's decision.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// The operators of a label requirement.
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One `key op values` term; every term must hold for the selector to match.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var `operator`: Operator
        /// Sorted; one value for the equality and comparison operators.
        public var values: [String]

        public init(key: String, operator op: Operator, values: [String]) throws(SelectorError) {
            try LabelSelector.validateKey(key)
            switch op {
            case .in, .notIn:
                if values.isEmpty { throw SelectorError("for 'in', 'notin' operators, values set can't be empty") }
            case .equals, .doubleEquals, .notEquals:
                if values.count != 1 { throw SelectorError("exact-match compatibility requires one single value") }
            case .exists, .doesNotExist:
                if !values.isEmpty { throw SelectorError("values set must be empty for exists and does not exist") }
            case .greaterThan, .lessThan:
                if values.count != 1 { throw SelectorError("for 'Gt', 'Lt' operators, exactly one value is required") }
                if Int64(values[0]) == nil {
                    throw SelectorError("for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            if op != .greaterThan && op != .lessThan {
                for v in values { try LabelSelector.validateValue(v) }
            }
            self.key = key
            self.operator = op
            self.values = Array(Set(values)).sorted()
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch self.operator {
            case .equals, .doubleEquals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let have = Int64(value), let limit = Int64(values[0]) else { return false }
                return self.operator == .greaterThan ? have > limit : have < limit
            }
        }

        public var description: String {
            switch self.operator {
            case .equals, .doubleEquals, .notEquals: return key + self.operator.rawValue + values[0]
            case .in: return "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: return "\(key) notin (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .greaterThan: return key + ">" + values[0]
            case .lessThan: return key + "<" + values[0]
            }
        }
    }

    public private(set) var requirements: [Requirement]

    public init(requirements: [Requirement]) {
        // Stable sort keeps the order of several requirements on one key, as Go's does.
        self.requirements = requirements.enumerated()
            .sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
            .map(\.element)
    }

    /// A selector that matches every object.
    public static let everything = LabelSelector(requirements: [])

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// Builds the selector a `metav1.LabelSelector` denotes (`matchLabels` and `matchExpressions`
    /// with operators In, NotIn, Exists, DoesNotExist).
    public init(matchLabels: [String: String], matchExpressions: [JSONValue]) throws(SelectorError) {
        var requirements: [Requirement] = []
        for (key, value) in matchLabels.sorted(by: { $0.key < $1.key }) {
            requirements.append(try Requirement(key: key, operator: .equals, values: [value]))
        }
        for expression in matchExpressions {
            guard let key = expression["key"].stringValue else { throw SelectorError("matchExpressions: key is required") }
            let values = (expression["values"].arrayValue ?? []).compactMap(\.stringValue)
            let op: Operator
            switch expression["operator"].stringValue ?? "" {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            case let other: throw SelectorError("\(FieldError.quoted(other)) is not a valid label selector operator")
            }
            requirements.append(try Requirement(key: key, operator: op, values: values))
        }
        self.init(requirements: requirements)
    }

    /// Builds from a `metav1.LabelSelector` JSON object; `null` or `{}` match everything.
    public init(json: JSONValue) throws(SelectorError) {
        var labels: [String: String] = [:]
        for (k, v) in json["matchLabels"].objectValue ?? [:] {
            guard let s = v.stringValue else { throw SelectorError("matchLabels values must be strings") }
            labels[k] = s
        }
        try self.init(matchLabels: labels, matchExpressions: json["matchExpressions"].arrayValue ?? [])
    }

    /// Parses the string syntax of `?labelSelector=` (`a=b,c!=d,e in (f,g),!h`).
    public static func parse(_ text: String) throws(SelectorError) -> LabelSelector {
        var parser = LabelSelectorParser(tokens: try LabelSelectorParser.lex(text))
        return LabelSelector(requirements: try parser.parse())
    }

    // MARK: validation as in k8s.io/apimachinery/pkg/util/validation

    static func validateKey(_ key: String) throws(SelectorError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            let prefix = parts[0]
            if prefix.isEmpty { throw SelectorError("invalid label key \(FieldError.quoted(key)): prefix part must be non-empty") }
            if prefix.utf8.count > 253 || !isDNSSubdomain(prefix) {
                throw SelectorError("invalid label key \(FieldError.quoted(key)): prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
            }
            name = parts[1]
        default:
            throw SelectorError("invalid label key \(FieldError.quoted(key)): a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'")
        }
        if name.isEmpty { throw SelectorError("invalid label key \(FieldError.quoted(key)): name part must be non-empty") }
        if name.utf8.count > 63 { throw SelectorError("invalid label key \(FieldError.quoted(key)): name part must be no more than 63 characters") }
        if !isQualifiedNamePart(name) {
            throw SelectorError("invalid label key \(FieldError.quoted(key)): name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
    }

    static func validateValue(_ value: String) throws(SelectorError) {
        if value.isEmpty { return }
        if value.utf8.count > 63 { throw SelectorError("invalid label value \(FieldError.quoted(value)): must be no more than 63 characters") }
        if !isQualifiedNamePart(Substring(value)) {
            throw SelectorError("invalid label value \(FieldError.quoted(value)): a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
    }

    static func isQualifiedNamePart(_ s: Substring) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func isDNSSubdomain(_ s: Substring) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let bytes = Array(label.utf8)
            guard let first = bytes.first, let last = bytes.last else { return false }
            let lowerAlnum = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) }
            return lowerAlnum(first) && lowerAlnum(last) && bytes.allSatisfy { lowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }
}

/// Recursive-descent parser for the label selector grammar of k8s.io/apimachinery/pkg/labels.
struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case inKeyword, notInKeyword
        case equals, doubleEquals, notEquals, bang, greater, less
        case open, close, comma
        case end
    }

    var tokens: [Token]
    var position = 0

    static func lex(_ text: String) throws(SelectorError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        let special: Set<Unicode.Scalar> = ["=", "!", "(", ")", ",", ">", "<"]
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace { i += 1; continue }
            switch c {
            case "=":
                if i + 1 < chars.count && chars[i + 1] == "=" { tokens.append(.doubleEquals); i += 2 } else { tokens.append(.equals); i += 1 }
            case "!":
                if i + 1 < chars.count && chars[i + 1] == "=" { tokens.append(.notEquals); i += 2 } else { tokens.append(.bang); i += 1 }
            case "(": tokens.append(.open); i += 1
            case ")": tokens.append(.close); i += 1
            case ",": tokens.append(.comma); i += 1
            case ">": tokens.append(.greater); i += 1
            case "<": tokens.append(.less); i += 1
            default:
                var word = String.UnicodeScalarView()
                while i < chars.count && !chars[i].properties.isWhitespace && !special.contains(chars[i]) {
                    word.append(chars[i])
                    i += 1
                }
                let s = String(word)
                tokens.append(s == "in" ? .inKeyword : s == "notin" ? .notInKeyword : .identifier(s))
            }
        }
        tokens.append(.end)
        return tokens
    }

    var current: Token { tokens[position] }

    mutating func parse() throws(SelectorError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        if current == .end { return [] }
        while true {
            requirements.append(try parseRequirement())
            switch current {
            case .end: return requirements
            case .comma:
                position += 1
                if current == .end { throw SelectorError("found '', expected: identifier after ','") }
            default: throw SelectorError("found '\(describe(current))', expected: ',' or 'end of string'")
            }
        }
    }

    mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        var negated = false
        if current == .bang { negated = true; position += 1 }
        guard case .identifier(let key) = current else {
            throw SelectorError("found '\(describe(current))', expected: identifier")
        }
        position += 1
        if negated {
            return try LabelSelector.Requirement(key: key, operator: .doesNotExist, values: [])
        }
        let op: LabelSelector.Operator
        switch current {
        case .end, .comma: return try LabelSelector.Requirement(key: key, operator: .exists, values: [])
        case .equals: op = .equals
        case .doubleEquals: op = .doubleEquals
        case .notEquals: op = .notEquals
        case .inKeyword: op = .in
        case .notInKeyword: op = .notIn
        case .greater: op = .greaterThan
        case .less: op = .lessThan
        default:
            throw SelectorError("found '\(describe(current))', expected: '=', '!=', '==', 'in', notin'")
        }
        position += 1
        if op == .in || op == .notIn {
            guard current == .open else { throw SelectorError("found '\(describe(current))', expected: '('") }
            position += 1
            var values: [String] = []
            if current == .close {
                position += 1
            } else {
                while true {
                    if case .identifier(let v) = current {
                        values.append(v)
                        position += 1
                    } else {
                        // An empty element ("(a,,b)") stands for the empty value, as in Go.
                        values.append("")
                    }
                    if current == .comma { position += 1; continue }
                    if current == .close { position += 1; break }
                    throw SelectorError("found '\(describe(current))', expected: ',' or ')'")
                }
            }
            return try LabelSelector.Requirement(key: key, operator: op, values: values)
        }
        if case .identifier(let v) = current {
            position += 1
            return try LabelSelector.Requirement(key: key, operator: op, values: [v])
        }
        // "a=" selects the empty value.
        if op == .greaterThan || op == .lessThan {
            throw SelectorError("found '\(describe(current))', expected: identifier")
        }
        return try LabelSelector.Requirement(key: key, operator: op, values: [""])
    }

    func describe(_ token: Token) -> String {
        switch token {
        case .identifier(let s): return s
        case .inKeyword: return "in"
        case .notInKeyword: return "notin"
        case .equals: return "="
        case .doubleEquals: return "=="
        case .notEquals: return "!="
        case .bang: return "!"
        case .greater: return ">"
        case .less: return "<"
        case .open: return "("
        case .close: return ")"
        case .comma: return ","
        case .end: return ""
        }
    }
}
