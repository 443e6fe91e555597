import Foundation
import JSON

/// A small evaluator for the common forms of CRD `x-kubernetes-validations` rules
/// (Common Expression Language): field selection, `has()`, comparisons, arithmetic,
/// `&&`/`||`/`!`, `? :`, `in`, list and map literals, `size()`, string functions
/// (`startsWith`, `endsWith`, `contains`, `matches`) and the `all`/`exists`/`exists_one`/
/// `map`/`filter` macros.
///
/// Caveats:
/// - Anything outside that subset (quantities, durations, optionals, type conversions beyond
///   `int`/`double`/`string`) makes the rule *unsupported*, and the dev server does not enforce
///   it. The real API server enforces every rule, so passing here proves nothing about CEL.
/// - Transition rules (those mentioning `oldSelf`) are only checked when an old value is given.
public struct CELProgram: Sendable {
    let expression: CELExpression
    public let source: String
    public let usesOldSelf: Bool

    /// Parses a rule; throws `CELError.unsupported` for syntax outside the subset.
    public init(_ source: String) throws(CELError) {
        var parser = CELParser(tokens: try CELLexer.tokens(source))
        expression = try parser.parseExpression()
        guard parser.atEnd else { throw .unsupported("unexpected \(parser.currentDescription)") }
        if let unknown = expression.unsupportedFunction() { throw .unsupported("function \(unknown)") }
        self.source = source
        usesOldSelf = expression.mentions("oldSelf")
    }

    public func evaluate(self value: JSONValue, oldSelf: JSONValue? = nil) throws(CELError) -> JSONValue {
        var variables = ["self": value]
        if let oldSelf { variables["oldSelf"] = oldSelf }
        return try CELEvaluator.evaluate(expression, variables)
    }
}

/// Why a CEL rule could not be evaluated.
public enum CELError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Outside the subset this evaluator understands; the rule is skipped.
    case unsupported(String)
    /// A runtime error the real server reports too (e.g. `no such key: x`).
    case runtime(String)

    public var description: String {
        switch self {
        case .unsupported(let s): return "unsupported CEL: \(s)"
        case .runtime(let s): return s
        }
    }
}

indirect enum CELExpression: Sendable {
    case literal(JSONValue)
    case identifier(String)
    case select(CELExpression, String)
    case index(CELExpression, CELExpression)
    case call(target: CELExpression?, name: String, arguments: [CELExpression])
    case list([CELExpression])
    case map([(CELExpression, CELExpression)])
    case not(CELExpression)
    case negate(CELExpression)
    case binary(String, CELExpression, CELExpression)
    case conditional(CELExpression, CELExpression, CELExpression)
    case has(CELExpression, String)
    case comprehension(kind: String, range: CELExpression, variable: String, body: CELExpression)

    static let supportedFunctions: Set<String> = [
        "size", "startsWith", "endsWith", "contains", "matches", "lowerAscii", "upperAscii", "int", "double", "string",
    ]

    /// The first function the evaluator does not implement, found before evaluation so an
    /// unsupported rule is skipped instead of failing on one of its arguments.
    func unsupportedFunction() -> String? {
        switch self {
        case .literal, .identifier: return nil
        case .select(let e, _), .not(let e), .negate(let e), .has(let e, _): return e.unsupportedFunction()
        case .index(let a, let b), .binary(_, let a, let b): return a.unsupportedFunction() ?? b.unsupportedFunction()
        case .call(let target, let name, let args):
            if !Self.supportedFunctions.contains(name) { return name }
            return target?.unsupportedFunction() ?? args.lazy.compactMap { $0.unsupportedFunction() }.first
        case .list(let items): return items.lazy.compactMap { $0.unsupportedFunction() }.first
        case .map(let entries): return entries.lazy.compactMap { $0.0.unsupportedFunction() ?? $0.1.unsupportedFunction() }.first
        case .conditional(let a, let b, let c): return a.unsupportedFunction() ?? b.unsupportedFunction() ?? c.unsupportedFunction()
        case .comprehension(_, let range, _, let body): return range.unsupportedFunction() ?? body.unsupportedFunction()
        }
    }

    func mentions(_ name: String) -> Bool {
        switch self {
        case .literal: return false
        case .identifier(let n): return n == name
        case .select(let e, _), .not(let e), .negate(let e), .has(let e, _): return e.mentions(name)
        case .index(let a, let b): return a.mentions(name) || b.mentions(name)
        case .call(let target, _, let args): return (target?.mentions(name) ?? false) || args.contains { $0.mentions(name) }
        case .list(let items): return items.contains { $0.mentions(name) }
        case .map(let entries): return entries.contains { $0.0.mentions(name) || $0.1.mentions(name) }
        case .binary(_, let a, let b): return a.mentions(name) || b.mentions(name)
        case .conditional(let a, let b, let c): return a.mentions(name) || b.mentions(name) || c.mentions(name)
        case .comprehension(_, let range, _, let body): return range.mentions(name) || body.mentions(name)
        }
    }
}

enum CELToken: Equatable {
    case identifier(String)
    case int(Int64)
    case double(Double)
    case string(String)
    case punct(String)
    case end
}

enum CELLexer {
    static func tokens(_ source: String) throws(CELError) -> [CELToken] {
        let chars = Array(source.unicodeScalars)
        var i = 0
        var out: [CELToken] = []
        let twoChar: Set<String> = ["==", "!=", "<=", ">=", "&&", "||"]
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace { i += 1; continue }
            if c == "_" || c.properties.isAlphabetic {
                var word = ""
                while i < chars.count && (chars[i] == "_" || chars[i].properties.isAlphabetic || ("0"..."9").contains(chars[i])) {
                    word.unicodeScalars.append(chars[i])
                    i += 1
                }
                // r'...' raw strings and b'...' bytes are outside the subset, except plain r-strings.
                if (word == "r" || word == "R") && i < chars.count && (chars[i] == "'" || chars[i] == "\"") {
                    let quote = chars[i]
                    i += 1
                    var s = ""
                    while i < chars.count && chars[i] != quote { s.unicodeScalars.append(chars[i]); i += 1 }
                    guard i < chars.count else { throw .unsupported("unterminated string") }
                    i += 1
                    out.append(.string(s))
                    continue
                }
                out.append(.identifier(word))
                continue
            }
            if ("0"..."9").contains(c) {
                var text = ""
                var isDouble = false
                while i < chars.count && (("0"..."9").contains(chars[i]) || chars[i] == "." || chars[i] == "e" || chars[i] == "E") {
                    if chars[i] == "." {
                        // "1.foo()" is not a double.
                        guard i + 1 < chars.count, ("0"..."9").contains(chars[i + 1]) else { break }
                        isDouble = true
                    }
                    if chars[i] == "e" || chars[i] == "E" { isDouble = true }
                    text.unicodeScalars.append(chars[i])
                    i += 1
                }
                if i < chars.count && (chars[i] == "u" || chars[i] == "U") { i += 1 }
                if isDouble {
                    guard let d = Double(text) else { throw .unsupported("number \(text)") }
                    out.append(.double(d))
                } else {
                    guard let n = Int64(text) else { throw .unsupported("number \(text)") }
                    out.append(.int(n))
                }
                continue
            }
            if c == "'" || c == "\"" {
                if i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c { throw .unsupported("triple-quoted strings") }
                let quote = c
                i += 1
                var s = ""
                while i < chars.count && chars[i] != quote {
                    if chars[i] == "\\" {
                        i += 1
                        guard i < chars.count else { break }
                        switch chars[i] {
                        case "n": s += "\n"
                        case "t": s += "\t"
                        case "r": s += "\r"
                        case "\\": s += "\\"
                        case "'": s += "'"
                        case "\"": s += "\""
                        default: throw .unsupported("escape \\\(chars[i])")
                        }
                    } else {
                        s.unicodeScalars.append(chars[i])
                    }
                    i += 1
                }
                guard i < chars.count else { throw .unsupported("unterminated string") }
                i += 1
                out.append(.string(s))
                continue
            }
            if i + 1 < chars.count {
                let pair = String(String.UnicodeScalarView([c, chars[i + 1]]))
                if twoChar.contains(pair) {
                    out.append(.punct(pair))
                    i += 2
                    continue
                }
            }
            let single = String(c)
            guard "+-*/%<>!?:.,()[]{}".contains(single) else { throw .unsupported("character \(single)") }
            out.append(.punct(single))
            i += 1
        }
        out.append(.end)
        return out
    }
}

struct CELParser {
    var tokens: [CELToken]
    var position = 0

    var current: CELToken { tokens[position] }
    var atEnd: Bool { current == .end }
    var currentDescription: String {
        switch current {
        case .identifier(let s): return s
        case .int(let n): return String(n)
        case .double(let d): return String(d)
        case .string(let s): return "'\(s)'"
        case .punct(let p): return p
        case .end: return "end of expression"
        }
    }

    mutating func accept(_ p: String) -> Bool {
        if current == .punct(p) { position += 1; return true }
        return false
    }

    mutating func expect(_ p: String) throws(CELError) {
        guard accept(p) else { throw .unsupported("expected '\(p)' at \(currentDescription)") }
    }

    mutating func parseExpression() throws(CELError) -> CELExpression {
        let condition = try parseOr()
        if accept("?") {
            let a = try parseOr()
            try expect(":")
            let b = try parseExpression()
            return .conditional(condition, a, b)
        }
        return condition
    }

    mutating func parseOr() throws(CELError) -> CELExpression {
        var left = try parseAnd()
        while accept("||") { left = .binary("||", left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws(CELError) -> CELExpression {
        var left = try parseRelation()
        while accept("&&") { left = .binary("&&", left, try parseRelation()) }
        return left
    }

    mutating func parseRelation() throws(CELError) -> CELExpression {
        let left = try parseAdditive()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where accept(op) {
            return .binary(op, left, try parseAdditive())
        }
        if current == .identifier("in") {
            position += 1
            return .binary("in", left, try parseAdditive())
        }
        return left
    }

    mutating func parseAdditive() throws(CELError) -> CELExpression {
        var left = try parseMultiplicative()
        while true {
            if accept("+") { left = .binary("+", left, try parseMultiplicative()) }
            else if accept("-") { left = .binary("-", left, try parseMultiplicative()) }
            else { return left }
        }
    }

    mutating func parseMultiplicative() throws(CELError) -> CELExpression {
        var left = try parseUnary()
        while true {
            if accept("*") { left = .binary("*", left, try parseUnary()) }
            else if accept("/") { left = .binary("/", left, try parseUnary()) }
            else if accept("%") { left = .binary("%", left, try parseUnary()) }
            else { return left }
        }
    }

    mutating func parseUnary() throws(CELError) -> CELExpression {
        if accept("!") { return .not(try parseUnary()) }
        if accept("-") { return .negate(try parseUnary()) }
        return try parseMember()
    }

    static let macros: Set<String> = ["all", "exists", "exists_one", "map", "filter"]

    mutating func parseMember() throws(CELError) -> CELExpression {
        var expression = try parsePrimary()
        while true {
            if accept(".") {
                guard case .identifier(let name) = current else { throw .unsupported("expected a field name after '.'") }
                position += 1
                if accept("(") {
                    if Self.macros.contains(name) {
                        guard case .identifier(let variable) = current else { throw .unsupported("macro \(name) needs a variable") }
                        position += 1
                        try expect(",")
                        let body = try parseExpression()
                        try expect(")")
                        expression = .comprehension(kind: name, range: expression, variable: variable, body: body)
                    } else {
                        expression = .call(target: expression, name: name, arguments: try parseArguments())
                    }
                } else {
                    expression = .select(expression, name)
                }
            } else if accept("[") {
                let index = try parseExpression()
                try expect("]")
                expression = .index(expression, index)
            } else {
                return expression
            }
        }
    }

    /// Parses arguments after an opening parenthesis, through the closing one.
    mutating func parseArguments() throws(CELError) -> [CELExpression] {
        var arguments: [CELExpression] = []
        if accept(")") { return arguments }
        repeat { arguments.append(try parseExpression()) } while accept(",")
        try expect(")")
        return arguments
    }

    mutating func parsePrimary() throws(CELError) -> CELExpression {
        let token = current
        position += 1
        switch token {
        case .int(let n): return .literal(.int(n))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"): return .literal(.null)
        case .identifier("has"):
            try expect("(")
            let argument = try parseExpression()
            try expect(")")
            guard case .select(let target, let field) = argument else { throw .unsupported("has() needs a field selection") }
            return .has(target, field)
        case .identifier(let name):
            if accept("(") { return .call(target: nil, name: name, arguments: try parseArguments()) }
            return .identifier(name)
        case .punct("("):
            let inner = try parseExpression()
            try expect(")")
            return inner
        case .punct("["):
            var items: [CELExpression] = []
            if !accept("]") {
                repeat { items.append(try parseExpression()) } while accept(",")
                try expect("]")
            }
            return .list(items)
        case .punct("{"):
            var entries: [(CELExpression, CELExpression)] = []
            if !accept("}") {
                repeat {
                    let key = try parseExpression()
                    try expect(":")
                    entries.append((key, try parseExpression()))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        default:
            position -= 1
            throw .unsupported("unexpected \(currentDescription)")
        }
    }
}

enum CELEvaluator {
    static func evaluate(_ e: CELExpression, _ variables: [String: JSONValue]) throws(CELError) -> JSONValue {
        switch e {
        case .literal(let v): return v
        case .identifier(let name):
            guard let v = variables[name] else { throw .unsupported("undeclared reference to '\(name)'") }
            return v
        case .select(let target, let field):
            let value = try evaluate(target, variables)
            guard case .object(let members) = value else { throw .runtime("no such key: \(field)") }
            guard let member = members[field] else { throw .runtime("no such key: \(field)") }
            return member
        case .has(let target, let field):
            let value = try evaluate(target, variables)
            guard case .object(let members) = value else { throw .runtime("invalid type for field selection") }
            return .bool(members[field] != nil)
        case .index(let target, let indexExpression):
            let value = try evaluate(target, variables)
            let index = try evaluate(indexExpression, variables)
            switch (value, index) {
            case (.array(let items), .int(let i)):
                guard i >= 0 && Int(i) < items.count else { throw .runtime("index out of bounds: \(i)") }
                return items[Int(i)]
            case (.object(let members), .string(let key)):
                guard let member = members[key] else { throw .runtime("no such key: \(key)") }
                return member
            default: throw .runtime("no such overload for index")
            }
        case .list(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try evaluate(item, variables)) }
            return .array(values)
        case .map(let entries):
            var members: [String: JSONValue] = [:]
            for (k, v) in entries {
                guard case .string(let key) = try evaluate(k, variables) else { throw .unsupported("non-string map keys") }
                members[key] = try evaluate(v, variables)
            }
            return .object(members)
        case .not(let inner):
            guard case .bool(let b) = try evaluate(inner, variables) else { throw .runtime("no such overload for !") }
            return .bool(!b)
        case .negate(let inner):
            switch try evaluate(inner, variables) {
            case .int(let n): return .int(-n)
            case .double(let d): return .double(-d)
            default: throw .runtime("no such overload for -")
            }
        case .conditional(let condition, let a, let b):
            guard case .bool(let c) = try evaluate(condition, variables) else { throw .runtime("no such overload for ?:") }
            return try evaluate(c ? a : b, variables)
        case .binary(let op, let a, let b):
            return try binary(op, a, b, variables)
        case .call(let target, let name, let arguments):
            return try call(target, name, arguments, variables)
        case .comprehension(let kind, let rangeExpression, let variable, let body):
            let range: [JSONValue]
            switch try evaluate(rangeExpression, variables) {
            case .array(let items): range = items
            case .object(let members): range = members.keys.sorted().map(JSONValue.string)
            default: throw .runtime("no such overload for \(kind)")
            }
            var scope = variables
            func test(_ item: JSONValue) throws(CELError) -> JSONValue {
                scope[variable] = item
                return try evaluate(body, scope)
            }
            switch kind {
            case "all", "exists", "exists_one", "filter":
                var count = 0
                var kept: [JSONValue] = []
                for item in range {
                    guard case .bool(let ok) = try test(item) else { throw .runtime("no such overload for \(kind)") }
                    if ok { count += 1; kept.append(item) }
                    if kind == "all" && !ok { return false }
                    if kind == "exists" && ok { return true }
                }
                switch kind {
                case "all": return true
                case "exists": return false
                case "exists_one": return .bool(count == 1)
                default: return .array(kept)
                }
            default:
                var mapped: [JSONValue] = []
                for item in range { mapped.append(try test(item)) }
                return .array(mapped)
            }
        }
    }

    static func binary(_ op: String, _ a: CELExpression, _ b: CELExpression, _ variables: [String: JSONValue]) throws(CELError) -> JSONValue {
        if op == "&&" || op == "||" {
            // CEL's logical operators are commutative over errors: a decisive side wins.
            let decisive = op == "||"
            var leftError: CELError?
            do throws(CELError) {
                let left = try evaluate(a, variables)
                guard case .bool(let l) = left else { throw CELError.runtime("no such overload for \(op)") }
                if l == decisive { return .bool(decisive) }
            } catch {
                if case .unsupported = error { throw error }
                leftError = error
            }
            let right = try evaluate(b, variables)
            guard case .bool(let r) = right else { throw .runtime("no such overload for \(op)") }
            if r == decisive { return .bool(decisive) }
            if let leftError { throw leftError }
            return .bool(!decisive)
        }
        let l = try evaluate(a, variables)
        let r = try evaluate(b, variables)
        switch op {
        case "==": return .bool(l.semanticallyEquals(r))
        case "!=": return .bool(!l.semanticallyEquals(r))
        case "<", "<=", ">", ">=":
            let order: Int
            switch (l, r) {
            case (.string(let x), .string(let y)): order = x < y ? -1 : (x == y ? 0 : 1)
            case (.bool(let x), .bool(let y)): order = x == y ? 0 : (!x ? -1 : 1)
            default:
                guard let x = l.doubleValue, let y = r.doubleValue else { throw .runtime("no such overload for \(op)") }
                order = x < y ? -1 : (x == y ? 0 : 1)
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in":
            switch r {
            case .array(let items): return .bool(items.contains { $0.semanticallyEquals(l) })
            case .object(let members):
                guard case .string(let key) = l else { return false }
                return .bool(members[key] != nil)
            default: throw .runtime("no such overload for in")
            }
        case "+":
            switch (l, r) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.array(let x), .array(let y)): return .array(x + y)
            case (.int(let x), .int(let y)):
                let (sum, overflow) = x.addingReportingOverflow(y)
                if overflow { throw .runtime("integer overflow") }
                return .int(sum)
            default: break
            }
        default: break
        }
        switch (l, r) {
        case (.int(let x), .int(let y)):
            switch op {
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "/": if y == 0 { throw .runtime("division by zero") }; return .int(x / y)
            case "%": if y == 0 { throw .runtime("modulus by zero") }; return .int(x % y)
            default: break
            }
        case (.double(let x), .double(let y)):
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/": return .double(x / y)
            default: break
            }
        default: break
        }
        throw .runtime("no such overload for \(op)")
    }

    static func call(_ target: CELExpression?, _ name: String, _ arguments: [CELExpression], _ variables: [String: JSONValue]) throws(CELError) -> JSONValue {
        var values: [JSONValue] = []
        if let target { values.append(try evaluate(target, variables)) }
        for argument in arguments { values.append(try evaluate(argument, variables)) }
        switch (name, values.count) {
        case ("size", 1):
            switch values[0] {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            default: throw .runtime("no such overload for size")
            }
        case ("startsWith", 2), ("endsWith", 2), ("contains", 2), ("matches", 2):
            guard case .string(let s) = values[0], case .string(let t) = values[1] else { throw .runtime("no such overload for \(name)") }
            switch name {
            case "startsWith": return .bool(s.hasPrefix(t))
            case "endsWith": return .bool(s.hasSuffix(t))
            case "contains": return .bool(t.isEmpty || s.contains(t))
            default:
                guard let pattern = CompiledPattern(t) else { throw .runtime("invalid regular expression: \(t)") }
                return .bool(pattern.matches(s))
            }
        case ("lowerAscii", 1), ("upperAscii", 1):
            guard case .string(let s) = values[0] else { throw .runtime("no such overload for \(name)") }
            return .string(name == "lowerAscii" ? s.lowercased() : s.uppercased())
        case ("int", 1):
            switch values[0] {
            case .int: return values[0]
            case .double(let d): return .int(Int64(d))
            case .string(let s):
                guard let n = Int64(s) else { throw .runtime("cannot convert \(FieldError.quoted(s)) to int") }
                return .int(n)
            default: throw .runtime("no such overload for int")
            }
        case ("double", 1):
            guard let d = values[0].doubleValue else { throw .runtime("no such overload for double") }
            return .double(d)
        case ("string", 1):
            switch values[0] {
            case .string: return values[0]
            case .int(let n): return .string(String(n))
            case .bool(let b): return .string(b ? "true" : "false")
            case .double(let d): return .string(String(d))
            default: throw .runtime("no such overload for string")
            }
        default:
            throw .unsupported("function \(name)")
        }
    }
}
