import JSON

/// Converts a YAML node tree to JSON the way sigs.k8s.io/yaml does (YAML → JSON).
///
/// Guarantees: mapping keys become strings (`1` → "1", `true` → "true", `null` → "null");
/// quoted and block scalars are strings; `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`
/// are honoured; other tags leave the text a string; `<<` merges apply with explicit keys
/// winning over merged ones and earlier merge sources over later ones.
/// Errors: duplicate keys, collection keys, `.inf`/`.nan` (not representable in JSON), a
/// tagged value that does not fit its tag, and alias expansion beyond the node budget.
struct JSONConversion {
    static let tagPrefix = "tag:yaml.org,2002:"

    let file: String?
    var remainingNodes: Int

    init(file: String?, nodeBudget: Int) {
        self.file = file
        self.remainingNodes = nodeBudget
    }

    mutating func convert(_ node: YAMLNode) throws(YAMLError) -> JSONValue {
        remainingNodes -= 1
        if remainingNodes < 0 {
            throw YAMLError(file: file, mark: node.start, problem: "aliases expand to too many nodes (a YAML alias bomb?)")
        }
        switch node.kind {
        case .scalar(let scalar):
            return try Self.scalarValue(scalar, tag: node.tag, at: node.start, file: file)
        case .alias(_, let target):
            return try convert(target)
        case .sequence(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try convert(item)) }
            return .array(out)
        case .mapping(let entries):
            return .object(try convertMapping(entries, at: node.start))
        }
    }

    private mutating func convertMapping(_ entries: [YAMLMappingEntry], at mark: YAMLMark) throws(YAMLError) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        object.reserveCapacity(entries.count)
        var keyMarks: [String: YAMLMark] = [:]
        var mergeSources: [YAMLNode] = []
        for entry in entries {
            let key = entry.key.dereferenced
            if Self.isMergeKey(key) {
                mergeSources.append(entry.value)
                continue
            }
            let name = try Self.keyString(key, file: file, at: entry.key.start)
            if let first = keyMarks[name] {
                throw YAMLError(file: file, mark: entry.key.start,
                                problem: "duplicate key \"\(name)\" (first defined at line \(first.line), column \(first.column))")
            }
            keyMarks[name] = entry.key.start
            object[name] = try convert(entry.value)
        }
        for source in mergeSources {
            let resolved = source.dereferenced
            let mappings: [YAMLNode]
            switch resolved.kind {
            case .mapping: mappings = [resolved]
            case .sequence(let items): mappings = items
            default:
                throw YAMLError(file: file, mark: source.start, problem: "expected a mapping or a sequence of mappings after the merge key <<")
            }
            for candidate in mappings {
                guard case .object(let merged) = try convert(candidate) else {
                    throw YAMLError(file: file, mark: candidate.start, problem: "expected a mapping to merge into the mapping at line \(mark.line)")
                }
                for (key, value) in merged where object[key] == nil {
                    object[key] = value
                }
            }
        }
        return object
    }

    static func isMergeKey(_ key: YAMLNode) -> Bool {
        guard case .scalar(let scalar) = key.kind else { return false }
        if key.tag == tagPrefix + "merge" { return true }
        return key.tag == nil && scalar.style == .plain && scalar.text == "<<"
    }

    /// The JSON object key for a scalar mapping key, e.g. `1` → "1", `on` → "true".
    static func keyString(_ key: YAMLNode, file: String?, at mark: YAMLMark? = nil) throws(YAMLError) -> String {
        guard case .scalar(let scalar) = key.kind else {
            throw YAMLError(file: file, mark: mark ?? key.start, problem: "expected a scalar mapping key, found a sequence or mapping")
        }
        switch try scalarValue(scalar, tag: key.tag, at: mark ?? key.start, file: file) {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return formatFloatKey(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array, .object: return scalar.text
        }
    }

    /// Like Go's `strconv.FormatFloat(f, 'g', -1, 64)` for the common cases.
    static func formatFloatKey(_ d: Double) -> String {
        if d.rounded() == d, abs(d) < 1e6 { return String(Int64(d)) }
        return d.description
    }

    static func scalarValue(_ scalar: YAMLScalar, tag: String?, at mark: YAMLMark, file: String?) throws(YAMLError) -> JSONValue {
        guard let tag else {
            guard scalar.style == .plain else { return .string(scalar.text) }
            switch ScalarResolution.resolvePlain(scalar.text) {
            case .value(let v): return v
            case .mergeKey: return .string(scalar.text)
            case .nonFinite:
                throw YAMLError(file: file, mark: mark, problem: "\(scalar.text) is not representable in JSON; quote it to mean the string")
            }
        }
        guard tag.hasPrefix(tagPrefix) else { return .string(scalar.text) }
        let resolved = ScalarResolution.resolvePlain(scalar.text)
        func mismatch(_ expected: String) -> YAMLError {
            // The text is left out: a mistyped tag on a secret must not print the secret.
            YAMLError(file: file, mark: mark, problem: "expected \(expected) for tag !!\(tag.dropFirst(tagPrefix.count))")
        }
        switch tag.dropFirst(tagPrefix.count) {
        case "str", "binary", "timestamp", "merge":
            return .string(scalar.text)
        case "int":
            if case .value(let v) = resolved, case .int = v { return v }
            if case .value(let v) = resolved, case .double(let d) = v, d.rounded() == d,
                ScalarResolution.isFloatSyntax(Array(scalar.text.utf8)) == false
            {
                return v  // an integer beyond Int64
            }
            throw mismatch("an integer")
        case "float":
            if case .value(let v) = resolved {
                if case .int(let i) = v { return .double(Double(i)) }
                if case .double = v { return v }
            }
            if resolved == .nonFinite {
                throw YAMLError(file: file, mark: mark, problem: "\(scalar.text) is not representable in JSON")
            }
            throw mismatch("a number")
        case "bool":
            if case .value(let v) = resolved, case .bool = v { return v }
            throw mismatch("a boolean")
        case "null":
            if case .value(.null) = resolved { return .null }
            throw mismatch("null")
        default:
            return .string(scalar.text)
        }
    }
}
