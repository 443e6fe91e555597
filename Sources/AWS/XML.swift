/// An XML element as AWS sends and accepts it: name, attributes, child elements and text.
///
/// Guarantees: `children` holds elements only, in document order; `text` is the element's
/// character data (entities decoded, CDATA included) with child elements' text excluded.
/// Lookups go by local name, so `<Error>` and `<aws:Error xmlns:aws="…">` match alike.
/// Caveats: no DTDs (rejected), no external entities, no processing instructions other than
/// the XML declaration; AWS never sends them, and refusing them keeps the parser small and safe.
public struct XMLElement: Sendable, Equatable {
    /// The name as written, with any prefix ("aws:Error").
    public var name: String
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String

    public init(
        _ name: String, attributes: [(name: String, value: String)] = [], children: [XMLElement] = [],
        text: String = ""
    ) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// Shorthand for a leaf element holding `text`.
    public init(_ name: String, _ text: String) { self.init(name, text: text) }

    public static func == (lhs: XMLElement, rhs: XMLElement) -> Bool {
        lhs.name == rhs.name && lhs.text == rhs.text && lhs.children == rhs.children
            && lhs.attributes.map(\.name) == rhs.attributes.map(\.name)
            && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }

    /// The name without its namespace prefix.
    public var localName: String {
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return name
    }

    public func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }

    /// First child element with this local name.
    public func child(_ localName: String) -> XMLElement? { children.first { $0.localName == localName } }

    /// All child elements with this local name.
    public func children(_ localName: String) -> [XMLElement] { children.filter { $0.localName == localName } }

    /// Follows child elements by local name, e.g. `element(at: ["Error", "Code"])`.
    public func element(at path: [String]) -> XMLElement? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current
    }

    /// First element with this local name anywhere below (depth first), or self.
    public func firstDescendant(_ localName: String) -> XMLElement? {
        if self.localName == localName { return self }
        for child in children {
            if let found = child.firstDescendant(localName) { return found }
        }
        return nil
    }

    /// Text of the first child with this local name.
    public func string(_ localName: String) -> String? { child(localName)?.text }

    public func int(_ localName: String) -> Int? {
        string(localName).flatMap { Int($0.trimmingXMLWhitespace()) }
    }

    public func double(_ localName: String) -> Double? {
        string(localName).flatMap { Double($0.trimmingXMLWhitespace()) }
    }

    public func bool(_ localName: String) -> Bool? {
        switch string(localName)?.trimmingXMLWhitespace().lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// Texts of the children of the list element `listName`, each named `memberName`.
    public func strings(_ listName: String, member memberName: String = "member") -> [String] {
        child(listName)?.children(memberName).map(\.text) ?? []
    }
}

/// Why a document is not XML we accept; `offset` is the byte position.
public struct XMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "invalid XML at byte \(offset): \(message)" }
}

extension XMLElement {
    /// Parses a whole document and returns its root element.
    public static func parse(_ bytes: some Collection<UInt8>) throws(XMLParseError) -> XMLElement {
        var parser = XMLByteParser(bytes: Array(bytes))
        return try parser.document()
    }

    public static func parse(_ text: String) throws(XMLParseError) -> XMLElement {
        try parse(Array(text.utf8))
    }
}

extension String {
    func trimmingXMLWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isXMLWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isXMLWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

extension Character {
    fileprivate var isXMLWhitespace: Bool { self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\r\n" }
}

private struct XMLByteParser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> XMLParseError { XMLParseError(message: message, offset: position) }

    func peek(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard position + utf8.count <= bytes.count else { return false }
        return bytes[position..<position + utf8.count].elementsEqual(utf8)
    }

    mutating func expect(_ literal: String) throws(XMLParseError) {
        guard peek(literal) else { throw fail("expected \"\(literal)\"") }
        position += literal.utf8.count
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Skips the declaration, comments and whitespace that may surround the root element.
    mutating func skipMisc() throws(XMLParseError) {
        while true {
            skipWhitespace()
            if peek("<?") {
                guard let end = find("?>") else { throw fail("unterminated processing instruction") }
                position = end + 2
            } else if peek("<!--") {
                try comment()
            } else if peek("<!") {
                throw fail("DTDs are not accepted")
            } else {
                return
            }
        }
    }

    func find(_ literal: String) -> Int? {
        let utf8 = Array(literal.utf8)
        var i = position
        while i + utf8.count <= bytes.count {
            if bytes[i] == utf8[0], bytes[i..<i + utf8.count].elementsEqual(utf8) { return i }
            i += 1
        }
        return nil
    }

    mutating func comment() throws(XMLParseError) {
        guard let end = find("-->") else { throw fail("unterminated comment") }
        position = end + 3
    }

    mutating func document() throws(XMLParseError) -> XMLElement {
        // A UTF-8 byte order mark is legal before the declaration.
        if peek("\u{FEFF}") { position += 3 }
        try skipMisc()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "<") else { throw fail("no root element") }
        let root = try element(depth: 0)
        try skipMisc()
        guard position == bytes.count else { throw fail("content after the root element") }
        return root
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: ":"):
            true
        default: b >= 0x80
        }
    }

    mutating func name() throws(XMLParseError) -> String {
        let start = position
        while position < bytes.count, Self.isNameByte(bytes[position]) { position += 1 }
        guard position > start else { throw fail("expected a name") }
        let first = bytes[start]
        if first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39) {
            throw XMLParseError(message: "a name cannot start with that character", offset: start)
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    mutating func element(depth: Int) throws(XMLParseError) -> XMLElement {
        // Deep nesting is never legitimate in AWS responses and would exhaust the stack.
        guard depth < 256 else { throw fail("elements nested too deeply") }
        try expect("<")
        let tag = try name()
        var element = XMLElement(tag)
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated start tag <\(tag)>") }
            if peek("/>") {
                position += 2
                return element
            }
            if bytes[position] == UInt8(ascii: ">") {
                position += 1
                break
            }
            let attributeName = try name()
            skipWhitespace()
            try expect("=")
            skipWhitespace()
            guard position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x27 else {
                throw fail("attribute value must be quoted")
            }
            let quote = bytes[position]
            position += 1
            let value = try characterData(until: quote)
            position += 1
            if element.attributes.contains(where: { $0.name == attributeName }) {
                throw fail("duplicate attribute \(attributeName)")
            }
            element.attributes.append((name: attributeName, value: value))
        }
        var text = ""
        while true {
            guard position < bytes.count else { throw fail("unterminated element <\(tag)>") }
            if peek("</") {
                position += 2
                let closing = try name()
                guard closing == tag else { throw fail("</\(closing)> closes <\(tag)>") }
                skipWhitespace()
                try expect(">")
                break
            } else if peek("<![CDATA[") {
                position += 9
                guard let end = find("]]>") else { throw fail("unterminated CDATA section") }
                text += String(decoding: bytes[position..<end], as: UTF8.self)
                position = end + 3
            } else if peek("<!--") {
                try comment()
            } else if peek("<?") || peek("<!") {
                throw fail("unexpected markup inside <\(tag)>")
            } else if bytes[position] == UInt8(ascii: "<") {
                element.children.append(try self.element(depth: depth + 1))
            } else {
                text += try characterData(until: UInt8(ascii: "<"))
            }
        }
        // Whitespace between child elements is layout, not content.
        if !element.children.isEmpty, text.allSatisfy(\.isXMLWhitespace) { text = "" }
        element.text = text
        return element
    }

    /// Reads text up to (not including) `terminator`, decoding entity and character references.
    mutating func characterData(until terminator: UInt8) throws(XMLParseError) -> String {
        var out: [UInt8] = []
        while position < bytes.count, bytes[position] != terminator {
            let b = bytes[position]
            if b == UInt8(ascii: "&") {
                guard let semicolon = bytes[position...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                    throw fail("unterminated entity reference")
                }
                let entity = String(decoding: bytes[(position + 1)..<semicolon], as: UTF8.self)
                out += try decode(entity: entity)
                position = semicolon + 1
            } else if b == UInt8(ascii: "<") {
                throw fail("\"<\" inside an attribute value")
            } else {
                out.append(b)
                position += 1
            }
        }
        guard position < bytes.count else { throw fail("unexpected end of document") }
        return String(decoding: out, as: UTF8.self)
    }

    func decode(entity: String) throws(XMLParseError) -> [UInt8] {
        switch entity {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [0x22]
        case "apos": return [0x27]
        default:
            var code: UInt32?
            if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                code = UInt32(entity.dropFirst(2), radix: 16)
            } else if entity.hasPrefix("#") {
                code = UInt32(entity.dropFirst(), radix: 10)
            }
            guard let code, code != 0, let scalar = Unicode.Scalar(code) else {
                throw fail("unknown entity &\(entity);")
            }
            return Array(String(Character(scalar)).utf8)
        }
    }
}

// MARK: - Writing

extension XMLElement {
    /// The element as compact XML, escaping text and attribute values.
    ///
    /// With `declaration`, an `<?xml version="1.0" encoding="UTF-8"?>` line comes first.
    public func serialized(declaration: Bool = false) -> String {
        var out = declaration ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" : ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        out += "<" + name
        for attribute in attributes {
            out += " \(attribute.name)=\"\(Self.escape(attribute.value, quotes: true))\""
        }
        if children.isEmpty && text.isEmpty {
            out += "/>"
            return
        }
        out += ">"
        out += Self.escape(text, quotes: false)
        for child in children { child.write(to: &out) }
        out += "</\(name)>"
    }

    static func escape(_ text: String, quotes: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "\r": out += "&#13;"
            default: out.append(character)
            }
        }
        return out
    }
}
