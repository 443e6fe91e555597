/// Serialization of `JSONValue` to compact UTF-8 JSON with sorted object keys.
extension JSONValue {
    /// Compact JSON bytes; object keys sorted so equal values serialize identically.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// Appends the compact serialization to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): JSONValue.writeDouble(d, to: &out)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            // JSON has no NaN or infinity; null is what encoders that do not fail emit.
            out.append(contentsOf: "null".utf8)
            return
        }
        if d.rounded() == d && abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes as Go's encoding/json does by default, including <, > and & so that
    /// output is safe to embed in HTML, and U+2028/U+2029.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var i = 0
            let n = utf8.count
            while i < n {
                let b = utf8[i]
                switch b {
                case UInt8(ascii: "\""): out.append(0x5c); out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5c); out.append(0x5c)
                case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
                case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
                case 0x00..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                    out.append(contentsOf: [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigits[Int(b >> 4)])
                    out.append(hexDigits[Int(b & 0xf)])
                case 0xE2 where i + 2 < n && utf8[i + 1] == 0x80 && (utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9):
                    out.append(contentsOf: "\\u202".utf8)
                    out.append(utf8[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    i += 2
                default: out.append(b)
                }
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Indented JSON for humans (two spaces, sorted keys).
    public func prettySerialized(indent: String = "  ") -> String {
        var out = ""
        writePretty(to: &out, level: 0, indent: indent)
        return out
    }

    func writePretty(to out: inout String, level: Int, indent: String) {
        let pad = String(repeating: indent, count: level)
        let innerPad = pad + indent
        switch self {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (i, element) in a.enumerated() {
                out += innerPad
                element.writePretty(to: &out, level: level + 1, indent: indent)
                out += i == a.count - 1 ? "\n" : ",\n"
            }
            out += pad + "]"
        case .object(let o) where !o.isEmpty:
            out += "{\n"
            let keys = o.keys.sorted()
            for (i, key) in keys.enumerated() {
                out += innerPad
                out += JSONValue.string(key).serialized()
                out += ": "
                o[key]!.writePretty(to: &out, level: level + 1, indent: indent)
                out += i == keys.count - 1 ? "\n" : ",\n"
            }
            out += pad + "}"
        default:
            out += serialized()
        }
    }
}
