import JSON

/// Writes JSON values as block-style YAML shaped like `kubectl get -o yaml`.
///
/// Guarantees: `YAMLParser.parse(YAMLEmitter.emit(v)) == v` for every finite value; keys are
/// sorted; two-space indentation; sequences under a key start at the key's column; strings
/// are quoted only when a plain scalar would read back as something else (single quotes when
/// no escapes are needed, double quotes otherwise); multi-line strings use `|` blocks when
/// they survive one unchanged.
/// Caveats: doubles that are NaN or infinite are written as `null`, as the JSON serializer does.
public enum YAMLEmitter {
    /// One document, ending in a newline.
    public static func emit(_ value: JSONValue) -> String {
        var writer = BlockWriter()
        writer.writeDocument(value)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// Several documents separated by `---` lines.
    public static func emit(documents: [JSONValue]) -> String {
        var writer = BlockWriter()
        for (i, value) in documents.enumerated() {
            if i > 0 { writer.out.append(contentsOf: "---\n".utf8) }
            writer.writeDocument(value)
        }
        return String(decoding: writer.out, as: UTF8.self)
    }
}

struct BlockWriter {
    var out: [UInt8] = []

    /// libyaml refuses implicit keys longer than 1024 characters; longer ones use `? key`.
    static let longestImplicitKey = 1000

    init() { out.reserveCapacity(4096) }

    mutating func writeDocument(_ value: JSONValue) {
        switch value {
        case .object(let o) where !o.isEmpty: writeMapping(o, indent: 0, continuingLine: false)
        case .array(let a) where !a.isEmpty: writeSequence(a, indent: 0, continuingLine: false)
        default:
            writeScalar(value, blockIndent: 2)
            out.append(0x0A)
        }
    }

    private mutating func pad(_ n: Int) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: n))
    }

    /// `continuingLine`: the first key goes right after a `- ` already written.
    private mutating func writeMapping(_ object: [String: JSONValue], indent: Int, continuingLine: Bool) {
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 || !continuingLine { pad(indent) }
            let start = out.count
            writeString(key, allowBlock: false)
            if out.count - start > Self.longestImplicitKey {
                // Too long for an implicit key: rewrite it as an explicit `? key` entry.
                let keyBytes = Array(out[start...])
                out.removeSubrange(start...)
                out.append(contentsOf: "? ".utf8)
                out.append(contentsOf: keyBytes)
                out.append(0x0A)
                pad(indent)
            }
            writeMember(object[key]!, indent: indent)
        }
    }

    /// Everything after a key: `: scalar`, or `:` and a nested block.
    private mutating func writeMember(_ value: JSONValue, indent: Int) {
        switch value {
        case .object(let o) where !o.isEmpty:
            out.append(contentsOf: ":\n".utf8)
            writeMapping(o, indent: indent + 2, continuingLine: false)
        case .array(let a) where !a.isEmpty:
            out.append(contentsOf: ":\n".utf8)
            writeSequence(a, indent: indent, continuingLine: false)
        default:
            out.append(contentsOf: ": ".utf8)
            writeScalar(value, blockIndent: indent + 2)
            out.append(0x0A)
        }
    }

    private mutating func writeSequence(_ array: [JSONValue], indent: Int, continuingLine: Bool) {
        for (i, item) in array.enumerated() {
            if i > 0 || !continuingLine { pad(indent) }
            out.append(contentsOf: "- ".utf8)
            switch item {
            case .object(let o) where !o.isEmpty: writeMapping(o, indent: indent + 2, continuingLine: true)
            case .array(let a) where !a.isEmpty: writeSequence(a, indent: indent + 2, continuingLine: true)
            default:
                writeScalar(item, blockIndent: indent + 2)
                out.append(0x0A)
            }
        }
    }

    /// A scalar or empty collection on the current line; a `|` block's lines go at `blockIndent`.
    private mutating func writeScalar(_ value: JSONValue, blockIndent: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: (d.isFinite ? d.description : "null").utf8)
        case .string(let s): writeString(s, allowBlock: true, blockIndent: blockIndent)
        case .array: out.append(contentsOf: "[]".utf8)
        case .object: out.append(contentsOf: "{}".utf8)
        }
    }

    private mutating func writeString(_ s: String, allowBlock: Bool, blockIndent: Int = 0) {
        var text = s
        text.withUTF8 { bytes in
            let shape = StringShape(bytes)
            if shape.canBePlain, case .value(.string) = ScalarResolution.resolvePlain(s), !Self.looksLikeYAML11Scalar(bytes) {
                out.append(contentsOf: bytes)
            } else if allowBlock, shape.canBeLiteralBlock {
                writeLiteralBlock(bytes, indent: blockIndent)
            } else if shape.canBeSingleQuoted {
                out.append(UInt8(ascii: "'"))
                for b in bytes {
                    out.append(b)
                    if b == UInt8(ascii: "'") { out.append(b) }
                }
                out.append(UInt8(ascii: "'"))
            } else {
                writeDoubleQuoted(s)
            }
        }
    }

    /// Timestamps (`2001-12-14...`) and base-60 numbers (`12:30`) read as strings here, but
    /// other YAML 1.1 readers turn them into dates and integers; kubectl quotes them too.
    static func looksLikeYAML11Scalar(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        guard let first = b.first else { return false }
        if b.count >= 8, isDigit(b[0]), isDigit(b[1]), isDigit(b[2]), isDigit(b[3]), b[4] == UInt8(ascii: "-") {
            return true
        }
        guard isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-"), b.contains(UInt8(ascii: ":")) else {
            return false
        }
        // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
        var i = first == UInt8(ascii: "+") || first == UInt8(ascii: "-") ? 1 : 0
        guard i < b.count, isDigit(b[i]) else { return false }
        while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: "_") { i += 1 }
        var groups = 0
        while i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]), i - start < 2 { i += 1 }
            guard i > start, i - start == 1 || b[start] <= UInt8(ascii: "5") else { return false }
            groups += 1
        }
        guard groups > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: "_") { i += 1 }
        }
        return i == b.count
    }

    private mutating func writeLiteralBlock(_ bytes: UnsafeBufferPointer<UInt8>, indent: Int) {
        var trailingBreaks = 0
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A {
            trailingBreaks += 1
            end -= 1
        }
        out.append(contentsOf: (trailingBreaks == 0 ? "|-" : trailingBreaks == 1 ? "|" : "|+").utf8)
        out.append(0x0A)
        var lineStart = 0
        var i = 0
        while i <= end {
            if i == end || bytes[i] == 0x0A {
                if i > lineStart {
                    pad(indent)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<i]))
                }
                // The last line's break is supplied by the caller.
                if i < end { out.append(0x0A) }
                lineStart = i + 1
            }
            i += 1
        }
        // Kept breaks beyond the first become empty lines.
        if trailingBreaks > 1 {
            out.append(contentsOf: repeatElement(0x0A, count: trailingBreaks - 1))
        }
    }

    private mutating func writeDoubleQuoted(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: "\\\"".utf8)
            case 0x5C: out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x00: out.append(contentsOf: "\\0".utf8)
            case 0x2028: out.append(contentsOf: "\\L".utf8)
            case 0x2029: out.append(contentsOf: "\\P".utf8)
            case 0x01...0x1F, 0x7F...0x9F:
                out.append(contentsOf: "\\x".utf8)
                appendHex(scalar.value, digits: 2)
            case 0xFEFF, 0xFFFE, 0xFFFF:
                out.append(contentsOf: "\\u".utf8)
                appendHex(scalar.value, digits: 4)
            default:
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private mutating func appendHex(_ value: UInt32, digits: Int) {
        let hex = Array("0123456789ABCDEF".utf8)
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            out.append(hex[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}

/// What a string contains, decided in one pass, to pick the plainest style that reads back.
struct StringShape {
    var canBePlain = true
    var canBeSingleQuoted = true
    var canBeLiteralBlock = false

    init(_ b: UnsafeBufferPointer<UInt8>) {
        let n = b.count
        guard n > 0 else {
            canBePlain = false
            return
        }
        var hasBreak = false
        var printableForBlock = true
        // Characters that libyaml treats as indicators when they start a plain scalar.
        switch b[0] {
        case UInt8(ascii: "-"):
            // `-x` is fine, `- x`, `-` and `---` are not.
            if n == 1 || b[1] == 0x20 || b[1] == 0x09 { canBePlain = false }
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"),
            UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""),
            UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), 0x20, 0x09:
            canBePlain = false
        default: break
        }
        if n >= 3, (b[0] == UInt8(ascii: "-") && b[1] == UInt8(ascii: "-") && b[2] == UInt8(ascii: "-"))
            || (b[0] == UInt8(ascii: ".") && b[1] == UInt8(ascii: ".") && b[2] == UInt8(ascii: "."))
        {
            canBePlain = false
        }
        let last = b[n - 1]
        if last == 0x20 || last == 0x09 || last == UInt8(ascii: ":") { canBePlain = false }
        var i = 0
        while i < n {
            let c = b[i]
            switch c {
            case 0x0A:
                hasBreak = true
                canBePlain = false
                canBeSingleQuoted = false
            case 0x09:
                canBePlain = false
                canBeSingleQuoted = false
            case 0x00...0x1F, 0x7F:
                canBePlain = false
                canBeSingleQuoted = false
                printableForBlock = false
            case UInt8(ascii: ":"):
                if i + 1 < n, b[i + 1] == 0x20 || b[i + 1] == 0x09 { canBePlain = false }
            case UInt8(ascii: "#"):
                if i > 0, b[i - 1] == 0x20 || b[i - 1] == 0x09 { canBePlain = false }
            case 0xC2:
                // U+0080...U+009F: C1 controls, including NEL which YAML 1.1 reads as a line break.
                if i + 1 < n, b[i + 1] >= 0x80, b[i + 1] <= 0x9F {
                    canBePlain = false
                    canBeSingleQuoted = false
                    printableForBlock = false
                }
            case 0xE2:
                // U+2028, U+2029: line and paragraph separators.
                if i + 2 < n, b[i + 1] == 0x80, b[i + 2] == 0xA8 || b[i + 2] == 0xA9 {
                    canBePlain = false
                    canBeSingleQuoted = false
                    printableForBlock = false
                }
            case 0xEF:
                // U+FEFF (byte order mark) and the non-characters U+FFFE, U+FFFF.
                if i + 2 < n, (b[i + 1] == 0xBB && b[i + 2] == 0xBF) || (b[i + 1] == 0xBF && b[i + 2] >= 0xBE) {
                    canBePlain = false
                    canBeSingleQuoted = false
                    printableForBlock = false
                }
            default: break
            }
            i += 1
        }
        // A literal block keeps its text exactly when the first line does not begin with
        // whitespace (that would be read as indentation) and nothing needs escaping.
        if hasBreak, printableForBlock, b[0] != 0x20, b[0] != 0x09, b[0] != 0x0A {
            canBeLiteralBlock = true
        }
    }
}
