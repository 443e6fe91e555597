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
/// Stored as the FieldsV1 tree itself, keyed by the FieldsV1 spellings (`f:name`,
/// `k:{"name":"a"}`), so reading and writing managedFields costs a walk, not a parse.
/// Caveats:
/// - A path and its descendants are independent members, as in structured-merge-diff
///   (`.` in FieldsV1 marks a node that is itself a member).
/// - `k:` and `v:` spellings compare as text; the ones this module writes are canonical
///   (compact JSON, sorted keys).
public struct FieldSet: Sendable, Hashable, CustomStringConvertible {
    struct Node: Sendable, Hashable {
        var isMember = false
        var children: [String: Node] = [:]

        var isEmpty: Bool { !isMember && children.isEmpty }

        func union(_ other: Node) -> Node {
            var result = self
            result.isMember = isMember || other.isMember
            for (key, child) in other.children {
                result.children[key] = result.children[key].map { $0.union(child) } ?? child
            }
            return result
        }

        func subtracting(_ other: Node) -> Node {
            var result = self
            if other.isMember { result.isMember = false }
            for (key, child) in other.children {
                guard let mine = result.children[key] else { continue }
                let rest = mine.subtracting(child)
                result.children[key] = rest.isEmpty ? nil : rest
            }
            return result
        }

        func intersection(_ other: Node) -> Node {
            var result = Node(isMember: isMember && other.isMember)
            for (key, child) in children {
                guard let theirs = other.children[key] else { continue }
                let common = child.intersection(theirs)
                if !common.isEmpty { result.children[key] = common }
            }
            return result
        }

        func forEachMember(_ prefix: inout [String], _ body: ([String]) -> Void) {
            if isMember && !prefix.isEmpty { body(prefix) }
            for (key, child) in children {
                prefix.append(key)
                child.forEachMember(&prefix, body)
                prefix.removeLast()
            }
        }

        func node(at path: ArraySlice<String>) -> Node? {
            guard let first = path.first else { return self }
            return children[first]?.node(at: path.dropFirst())
        }

        mutating func insert(_ path: ArraySlice<String>) {
            guard let first = path.first else {
                isMember = true
                return
            }
            children[first, default: Node()].insert(path.dropFirst())
        }

        var json: JSONValue {
            var members: [String: JSONValue] = [:]
            for (key, child) in children {
                var value = child.json
                if child.isMember && !child.children.isEmpty { value["."] = .emptyObject }
                members[key] = value
            }
            return .object(members)
        }

        init(isMember: Bool = false, children: [String: Node] = [:]) {
            self.isMember = isMember
            self.children = children
        }

        init(fieldsV1: JSONValue) {
            for (key, child) in fieldsV1.objectValue ?? [:] {
                if key == "." {
                    isMember = true
                    continue
                }
                var node = Node(fieldsV1: child)
                if child.objectValue?.isEmpty ?? true { node.isMember = true }
                children[key] = node
            }
        }
    }

    var root: Node

    init(root: Node) { self.root = root }

    public init() { root = Node() }

    public init(_ paths: Set<[PathElement]>) {
        root = Node()
        for path in paths { insert(path) }
    }

    /// Reads a FieldsV1 object.
    public init(fieldsV1: JSONValue) { root = Node(fieldsV1: fieldsV1) }

    /// The FieldsV1 JSON object.
    public var fieldsV1: JSONValue { root.json }

    public var isEmpty: Bool { root.children.isEmpty }

    /// Every member path; spellings this module cannot read are left out.
    public var paths: Set<[PathElement]> {
        var result: Set<[PathElement]> = []
        for keys in memberKeyPaths {
            let elements = keys.compactMap(PathElement.init(fieldsV1Key:))
            if elements.count == keys.count { result.insert(elements) }
        }
        return result
    }

    /// Member paths in FieldsV1 spelling, e.g. `["f:spec", "f:replicas"]`.
    public var memberKeyPaths: [[String]] {
        var out: [[String]] = []
        var prefix: [String] = []
        root.forEachMember(&prefix) { out.append($0) }
        return out
    }

    public func contains(_ path: [PathElement]) -> Bool {
        root.node(at: path.map(\.fieldsV1Key)[...])?.isMember ?? false
    }

    /// True when the set has `path` or any path below it.
    public func containsPrefix(_ path: [PathElement]) -> Bool {
        containsPrefix(keys: path.map(\.fieldsV1Key))
    }

    func containsPrefix(keys: [String]) -> Bool {
        guard let node = root.node(at: keys[...]) else { return false }
        return !node.isEmpty
    }

    public mutating func insert(_ path: [PathElement]) {
        guard !path.isEmpty else { return }
        root.insert(path.map(\.fieldsV1Key)[...])
    }

    public func union(_ other: FieldSet) -> FieldSet { FieldSet(root: root.union(other.root)) }
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(root: root.subtracting(other.root)) }
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(root: root.intersection(other.root)) }

    /// Members rendered as in conflict messages and sorted: `.spec.replicas`, `.data.key`.
    public var renderedPaths: [String] {
        memberKeyPaths.map(FieldSet.render(keys:)).sorted()
    }

    public static func render(_ path: [PathElement]) -> String { path.map(\.description).joined() }

    static func render(keys: [String]) -> String {
        keys.map { PathElement(fieldsV1Key: $0)?.description ?? $0 }.joined()
    }

    public var description: String { renderedPaths.joined(separator: ", ") }
}
