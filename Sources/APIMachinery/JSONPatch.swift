import JSON

/// Why a patch could not be applied; `statusCode` says which HTTP answer the API server gives.
public struct PatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 for a patch document that cannot be decoded, 422 for a well-formed patch that
    /// does not apply to the object (the API server's split for JSON patches).
    public var statusCode: Int
    public var message: String

    public init(statusCode: Int, message: String) {
        self.statusCode = statusCode
        self.message = message
    }

    public static func badRequest(_ message: String) -> PatchError { PatchError(statusCode: 400, message: message) }
    public static func unprocessable(_ message: String) -> PatchError { PatchError(statusCode: 422, message: message) }

    public var isBadRequest: Bool { statusCode == 400 }
    public var description: String { message }
}

/// JSON patch (RFC 6902), the `application/json-patch+json` patch type, with JSON pointers
/// (RFC 6901) including `~0`/`~1` escapes and `-` for appending to an array.
public enum JSONPatch {
    public static func apply(_ operations: JSONValue, to document: JSONValue) throws(PatchError) -> JSONValue {
        guard case .array(let ops) = operations else {
            throw .badRequest("json: cannot unmarshal \(typeName(operations)) into Go value of type jsonpatch.Patch")
        }
        var doc = document
        for op in ops {
            guard case .object = op else {
                throw .badRequest("json: cannot unmarshal \(typeName(op)) into Go value of type jsonpatch.Operation")
            }
            guard let name = op["op"].stringValue else { throw .badRequest("Unexpected kind: unknown") }
            guard let pathText = op["path"].stringValue else {
                throw .unprocessable("\(name) operation missing path")
            }
            let path = try pointer(pathText)
            switch name {
            case "add":
                guard let value = member(op, "value") else { throw .unprocessable("add operation missing value") }
                doc = try add(value, at: path, in: doc, describing: pathText, operation: "add")
            case "remove":
                doc = try remove(at: path, in: doc, describing: pathText, operation: "remove").document
            case "replace":
                guard let value = member(op, "value") else { throw .unprocessable("replace operation missing value") }
                guard get(path, in: doc) != nil else {
                    throw .unprocessable("replace operation does not apply: doc is missing key: \(pathText): missing value")
                }
                if path.isEmpty { doc = value; continue }
                doc = try set(value, at: path, in: doc)
            case "move":
                guard let fromText = op["from"].stringValue else { throw .unprocessable("move operation missing from") }
                let from = try pointer(fromText)
                if path.count > from.count && Array(path.prefix(from.count)) == from {
                    throw .unprocessable("move operation does not apply: cannot move \(fromText) into its own child \(pathText)")
                }
                let removed = try remove(at: from, in: doc, describing: fromText, operation: "move")
                doc = try add(removed.value, at: path, in: removed.document, describing: pathText, operation: "move")
            case "copy":
                guard let fromText = op["from"].stringValue else { throw .unprocessable("copy operation missing from") }
                guard let value = get(try pointer(fromText), in: doc) else {
                    throw .unprocessable("copy operation does not apply: doc is missing from path: \(fromText): missing value")
                }
                doc = try add(value, at: path, in: doc, describing: pathText, operation: "copy")
            case "test":
                let expected = member(op, "value") ?? .null
                guard let actual = get(path, in: doc), actual.semanticallyEquals(expected) else {
                    throw .unprocessable("testing value \(pathText) failed: test failed")
                }
            default:
                throw .unprocessable("Unexpected kind: \(name)")
            }
        }
        return doc
    }

    /// Decodes a JSON pointer into reference tokens.
    public static func pointer(_ text: String) throws(PatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw .unprocessable("JSON pointer must be empty or start with a \"/\": \(text)") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences("~1", with: "/").replacingOccurrences("~0", with: "~")
        }
    }

    static func member(_ op: JSONValue, _ key: String) -> JSONValue? {
        if case .object(let o) = op { return o[key] }
        return nil
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The value at `path`, or nil when any step is missing.
    static func get(_ path: [String], in doc: JSONValue) -> JSONValue? {
        var current = doc
        for token in path {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let i = arrayIndex(token), i < a.count else { return nil }
                current = a[i]
            default: return nil
            }
        }
        return current
    }

    static func arrayIndex(_ token: String) -> Int? {
        // Leading zeros and signs are not valid array indices in RFC 6901.
        guard !token.isEmpty, token.allSatisfy(\.isASCIIDigitCharacter), token == "0" || !token.hasPrefix("0") else { return nil }
        return Int(token)
    }

    static func add(_ value: JSONValue, at path: [String], in doc: JSONValue, describing: String, operation: String) throws(PatchError) -> JSONValue {
        guard let last = path.last else { return value }
        let parentPath = Array(path.dropLast())
        guard let parent = get(parentPath, in: doc) else {
            throw .unprocessable("\(operation) operation does not apply: doc is missing path: \"\(describing)\": missing value")
        }
        switch parent {
        case .object(var o):
            o[last] = value
            return try set(.object(o), at: parentPath, in: doc)
        case .array(var a):
            if last == "-" {
                a.append(value)
            } else {
                guard let i = arrayIndex(last), i <= a.count else {
                    throw .unprocessable("\(operation) operation does not apply: doc is missing path: \"\(describing)\": missing value")
                }
                a.insert(value, at: i)
            }
            return try set(.array(a), at: parentPath, in: doc)
        default:
            throw .unprocessable("\(operation) operation does not apply: doc is missing path: \"\(describing)\": missing value")
        }
    }

    static func remove(at path: [String], in doc: JSONValue, describing: String, operation: String) throws(PatchError) -> (document: JSONValue, value: JSONValue) {
        guard let last = path.last else {
            throw .unprocessable("\(operation) operation does not apply: cannot remove the root")
        }
        let parentPath = Array(path.dropLast())
        let missing = PatchError.unprocessable("\(operation) operation does not apply: doc is missing path: \"\(describing)\": missing value")
        guard let parent = get(parentPath, in: doc) else { throw missing }
        switch parent {
        case .object(var o):
            guard let value = o.removeValue(forKey: last) else { throw missing }
            return (try set(.object(o), at: parentPath, in: doc), value)
        case .array(var a):
            guard let i = arrayIndex(last), i < a.count else { throw missing }
            let value = a.remove(at: i)
            return (try set(.array(a), at: parentPath, in: doc), value)
        default: throw missing
        }
    }

    /// Replaces an existing location (or adds an object member) without the `add` array-insert rule.
    static func set(_ value: JSONValue, at path: [String], in doc: JSONValue) throws(PatchError) -> JSONValue {
        guard let first = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            o[first] = try set(value, at: rest, in: o[first] ?? .null)
            return .object(o)
        case .array(var a):
            guard let i = arrayIndex(first), i < a.count else {
                throw .unprocessable("replace operation does not apply: doc is missing key: /\(path.joined(separator: "/")): missing value")
            }
            a[i] = try set(value, at: rest, in: a[i])
            return .array(a)
        default:
            throw .unprocessable("doc is missing path: /\(path.joined(separator: "/"))")
        }
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

extension Substring {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        String(self).replacingOccurrences(target, with: replacement)
    }
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
