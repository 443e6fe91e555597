import JSON

/// One step of a field path, as sigs.k8s.io/structured-merge-diff names them.
public enum PathElement: Sendable, Hashable, CustomStringConvertible {
    /// A struct field or map key (`f:name`).
    case field(String)
    /// An item of an associative list, by its key fields (`k:{"name":"app"}`).
    case key(JSONValue)
    /// An item of a set list, by its value (`v:"x"`).
    case value(JSONValue)
    /// An item of a list addressed by position (`i:0`).
    case index(Int)

    /// The FieldsV1 spelling of the element.
    public var fieldsV1Key: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let key): return "k:" + key.serialized()
        case .value(let value): return "v:" + value.serialized()
        case .index(let i): return "i:\(i)"
        }
    }

    /// The spelling of `Path.String()` used in conflict messages:
    /// `.spec`, `[name="app"]`, `[="x"]`, `[0]`.
    public var description: String {
        switch self {
        case .field(let name): return "." + name
        case .key(let key):
            let members = (key.objectValue ?? [:]).sorted { $0.key < $1.key }
            return "[" + members.map { "\($0.key)=\($0.value.serialized())" }.joined(separator: ",") + "]"
        case .value(let value): return "[=\(value.serialized())]"
        case .index(let i): return "[\(i)]"
        }
    }

    init?(fieldsV1Key text: String) {
        guard text.count >= 2 else { return nil }
        let body = String(text.dropFirst(2))
        switch text.prefix(2) {
        case "f:": self = .field(body)
        case "k:":
            guard let key = try? JSONValue.parse(body), case .object = key else { return nil }
            self = .key(key)
        case "v:":
            guard let value = try? JSONValue.parse(body) else { return nil }
            self = .value(value)
        case "i:":
            guard let i = Int(body) else { return nil }
            self = .index(i)
        default: return nil
        }
    }
}

/// A set of field paths: what one manager owns, in the `FieldsV1` format of
/// `metadata.managedFields[].fieldsV1`.
///
/// Caveats:
/// - Paths are stored flat; a path and its descendants are independent members, as in
///   structured-merge-diff (`.` in FieldsV1 marks a node that is itself a member).
public struct FieldSet: Sendable, Hashable, CustomStringConvertible {
    public private(set) var paths: Set<[PathElement]>

    public init(_ paths: Set<[PathElement]> = []) { self.paths = paths }

    public var isEmpty: Bool { paths.isEmpty }

    public func contains(_ path: [PathElement]) -> Bool { paths.contains(path) }

    /// True when the set has `path` or any path below it.
    public func containsPrefix(_ path: [PathElement]) -> Bool {
        paths.contains { $0.count >= path.count && Array($0.prefix(path.count)) == path }
    }

    public mutating func insert(_ path: [PathElement]) { paths.insert(path) }
    public func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }

    /// Members sorted for stable messages: `.spec.replicas`, `.spec.template.spec.containers[name="a"]`.
    public var sortedPaths: [[PathElement]] {
        paths.sorted { FieldSet.render($0) < FieldSet.render($1) }
    }

    public static func render(_ path: [PathElement]) -> String { path.map(\.description).joined() }

    public var description: String { sortedPaths.map(FieldSet.render).joined(separator: ", ") }

    /// The FieldsV1 JSON object.
    public var fieldsV1: JSONValue {
        var root = FieldsV1Node()
        for path in paths { root.insert(path[...]) }
        return root.json
    }

    /// Reads a FieldsV1 object; unknown key spellings are skipped rather than failing the
    /// whole object, since the server must not reject objects because of old managedFields.
    public init(fieldsV1: JSONValue) {
        var paths: Set<[PathElement]> = []
        func walk(_ node: JSONValue, prefix: [PathElement]) {
            for (key, child) in node.objectValue ?? [:] {
                if key == "." {
                    if !prefix.isEmpty { paths.insert(prefix) }
                    continue
                }
                guard let element = PathElement(fieldsV1Key: key) else { continue }
                let path = prefix + [element]
                if let members = child.objectValue, !members.isEmpty {
                    walk(child, prefix: path)
                } else {
                    paths.insert(path)
                }
            }
        }
        walk(fieldsV1, prefix: [])
        self.paths = paths
    }
}

/// The tree form of a FieldSet used only to render FieldsV1.
private struct FieldsV1Node {
    var isMember = false
    var children: [PathElement: FieldsV1Node] = [:]

    mutating func insert(_ path: ArraySlice<PathElement>) {
        guard let first = path.first else {
            isMember = true
            return
        }
        children[first, default: FieldsV1Node()].insert(path.dropFirst())
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [:]
        for (element, child) in children {
            var value = child.json
            if child.isMember && !child.children.isEmpty { value["."] = .emptyObject }
            members[element.fieldsV1Key] = value
        }
        return .object(members)
    }
}
