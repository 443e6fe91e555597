import JSON

/// What an untagged plain scalar means, following go-yaml v2 (which sigs.k8s.io/yaml uses).
///
/// Guarantees: the same function decides how the parser reads a scalar and whether the
/// emitter must quote a string, so the two cannot disagree.
/// Caveats: YAML 1.1 booleans are honoured as go-yaml v2 does (`y`, `yes`, `on`, `off`,
/// `n`, `no` in lower, capitalised and upper case); timestamps stay strings; `_` separators
/// in numbers are dropped; integers beyond Int64 become doubles; `.inf` and `.nan` are
/// reported as `.nonFinite` because JSON (and so Kubernetes) cannot hold them.
enum ScalarResolution: Equatable {
    case value(JSONValue)
    case nonFinite
    case mergeKey

    static let wellKnown: [String: ScalarResolution] = {
        var table: [String: ScalarResolution] = [:]
        for word in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            table[word] = .value(.bool(true))
        }
        for word in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            table[word] = .value(.bool(false))
        }
        for word in ["", "~", "null", "Null", "NULL"] { table[word] = .value(.null) }
        for word in [".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"] {
            table[word] = .nonFinite
        }
        table["<<"] = .mergeKey
        return table
    }()

    /// Resolves the text of a plain (unquoted, untagged) scalar.
    static func resolvePlain(_ text: String) -> ScalarResolution {
        guard let first = text.utf8.first else { return .value(.null) }
        // Like go-yaml's hint table: only these first characters can start a non-string.
        let hint: UInt8
        switch first {
        case UInt8(ascii: "+"), UInt8(ascii: "-"): hint = UInt8(ascii: "S")
        case UInt8(ascii: "0")...UInt8(ascii: "9"): hint = UInt8(ascii: "D")
        case UInt8(ascii: "."): hint = UInt8(ascii: ".")
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"),
            UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"),
            UInt8(ascii: "~"), UInt8(ascii: "<"):
            hint = UInt8(ascii: "M")
        default: return .value(.string(text))
        }
        // Long texts are never numbers or keywords worth the table lookup.
        if text.utf8.count > 64 { return .value(.string(text)) }
        if let known = wellKnown[text] { return known }
        switch hint {
        case UInt8(ascii: "."):
            let bytes = Array(text.utf8)
            if isFloatSyntax(bytes), let d = Double(text), d.isFinite { return .value(.double(d)) }
        case UInt8(ascii: "S"), UInt8(ascii: "D"):
            let bytes = Array(text.utf8).filter { $0 != UInt8(ascii: "_") }
            if let number = parseInteger(bytes) { return .value(number) }
            if isFloatSyntax(bytes), let d = Double(String(decoding: bytes, as: UTF8.self)), d.isFinite {
                return .value(.double(d))
            }
        default: break
        }
        return .value(.string(text))
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, go-yaml's float pattern.
    static func isFloatSyntax(_ b: [UInt8]) -> Bool {
        var i = 0
        let n = b.count
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < n, isDigit(b[i]) { i += 1 }
            if i == start { return false }
        } else {
            let start = i
            while i < n, isDigit(b[i]) { i += 1 }
            if i == start { return false }
            if i < n, b[i] == UInt8(ascii: ".") {
                i += 1
                while i < n, isDigit(b[i]) { i += 1 }
            }
        }
        if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < n, isDigit(b[i]) { i += 1 }
            if i == start { return false }
        }
        return i == n
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint`: optional sign, `0x`/`0o`/`0b`
    /// prefixes, a leading `0` meaning octal. Values beyond Int64 come back as doubles.
    static func parseInteger(_ b: [UInt8]) -> JSONValue? {
        var i = 0
        var negative = false
        var signed = false
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            negative = b[i] == UInt8(ascii: "-")
            signed = true
            i += 1
        }
        var radix: UInt64 = 10
        if i + 1 < b.count, b[i] == UInt8(ascii: "0") {
            switch b[i + 1] {
            case UInt8(ascii: "x"), UInt8(ascii: "X"): radix = 16; i += 2
            case UInt8(ascii: "o"), UInt8(ascii: "O"): radix = 8; i += 2
            case UInt8(ascii: "b"), UInt8(ascii: "B"): radix = 2; i += 2
            default: radix = 8; i += 1
            }
        }
        guard i < b.count else { return nil }
        var magnitude: UInt64 = 0
        var overflow = false
        while i < b.count {
            let c = b[i]
            let digit: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: radix)
            let (plus, o2) = times.addingReportingOverflow(digit)
            if o1 || o2 { overflow = true }
            magnitude = plus
            i += 1
        }
        if overflow { return nil }
        if negative {
            if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            return nil
        }
        if magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
        // ParseUint takes no sign; a uint64 is a JSON number that Int64 cannot hold.
        return signed ? nil : .double(Double(magnitude))
    }
}
