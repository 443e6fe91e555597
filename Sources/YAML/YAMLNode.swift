import JSON

/// A position in YAML source text (1-based line and column).
public struct YAMLMark: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One node of a parsed YAML document, before conversion to JSON, with its source position.
///
/// The tree keeps what JSON loses (styles, tags, anchors, positions) so that later stages
/// can point users at the line that holds a bad field.
public struct YAMLNode: Sendable {
    /// What the node is; aliases keep their target so the tree stays a faithful view of the source.
    public indirect enum Kind: Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLMappingEntry])
        /// `*name`; `target` is the anchored node it stands for.
        case alias(name: String, target: YAMLNode)
    }

    public var kind: Kind
    /// Full tag as libyaml resolves it (`tag:yaml.org,2002:str` for `!!str`), or nil.
    public var tag: String?
    public var anchor: String?
    public var start: YAMLMark

    public init(kind: Kind, tag: String? = nil, anchor: String? = nil, start: YAMLMark) {
        self.kind = kind
        self.tag = tag
        self.anchor = anchor
        self.start = start
    }

    /// The node itself, or what an alias points at.
    public var dereferenced: YAMLNode {
        if case .alias(_, let target) = kind { return target.dereferenced }
        return self
    }
}

/// A scalar's text as written (after unescaping) and how it was written.
public struct YAMLScalar: Sendable, Hashable {
    /// How the scalar was written; only `.plain` scalars are resolved to non-strings.
    public enum Style: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var text: String
    public var style: Style

    public init(text: String, style: Style) {
        self.text = text
        self.style = style
    }
}

/// One `key: value` pair of a mapping, in source order.
public struct YAMLMappingEntry: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// One document of a YAML stream: its node tree, its JSON value and where it came from.
public struct YAMLDocument: Sendable {
    public let root: YAMLNode
    /// The document as JSON, converted the way sigs.k8s.io/yaml does.
    public let value: JSONValue
    public let file: String?
    /// Position of the document in its stream, counting skipped empty documents too (0-based).
    public let index: Int

    init(root: YAMLNode, value: JSONValue, file: String?, index: Int) {
        self.root = root
        self.value = value
        self.file = file
        self.index = index
    }

    /// Where the field at `path` is written: the key's position for a mapping member, the
    /// element's position for a sequence index (path components that are decimal numbers
    /// index sequences). Keys brought in through `<<` merges are found too.
    public func mark(of path: [String]) -> YAMLMark? {
        var node = root
        var mark = root.start
        for component in path {
            guard let (next, at) = YAMLDocument.child(of: node.dereferenced, named: component) else { return nil }
            node = next
            mark = at
        }
        return mark
    }

    /// Line of the field at `path` (see `mark(of:)`), for messages like `file:12: field spec.x: ...`.
    public func line(of path: [String]) -> Int? {
        mark(of: path)?.line
    }

    private static func child(of node: YAMLNode, named component: String) -> (YAMLNode, YAMLMark)? {
        switch node.kind {
        case .sequence(let items):
            guard let index = Int(component), items.indices.contains(index) else { return nil }
            return (items[index], items[index].start)
        case .mapping(let entries):
            var mergeSources: [YAMLNode] = []
            for entry in entries {
                let key = entry.key.dereferenced
                if JSONConversion.isMergeKey(key) {
                    mergeSources.append(entry.value)
                    continue
                }
                if case .scalar = key.kind, let text = try? JSONConversion.keyString(key, file: nil), text == component {
                    return (entry.value, entry.key.start)
                }
            }
            for source in mergeSources {
                let resolved = source.dereferenced
                if case .sequence(let items) = resolved.kind {
                    for item in items {
                        if let found = child(of: item.dereferenced, named: component) { return found }
                    }
                } else if let found = child(of: resolved, named: component) {
                    return found
                }
            }
            return nil
        case .scalar, .alias:
            return nil
        }
    }
}
