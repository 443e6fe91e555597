import CYAML
import JSON

/// Reads YAML streams with libyaml into node trees and JSON values.
///
/// Guarantees: each document is converted as sigs.k8s.io/yaml does (see `JSONConversion`);
/// documents that are empty or hold only `null` are skipped, as kubectl skips them.
/// Errors: every failure is a `YAMLError` with file, line and column.
public enum YAMLParser {
    /// All non-empty documents of a stream, in order.
    public static func parseDocuments(_ text: String, file: String? = nil, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLDocument]
    {
        try parseDocuments(bytes: Array(text.utf8), file: file, limits: limits)
    }

    public static func parseDocuments(bytes: [UInt8], file: String? = nil, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLDocument]
    {
        let trees = try EventReader.readDocuments(bytes, file: file, limits: limits)
        var documents: [YAMLDocument] = []
        for (index, tree) in trees.enumerated() {
            var conversion = JSONConversion(file: file, nodeBudget: max(
                limits.minimumExpandedNodeBudget, tree.sourceNodeCount * limits.aliasExpansionFactor))
            let value = try conversion.convert(tree.root)
            if value.isNull { continue }
            documents.append(YAMLDocument(root: tree.root, value: value, file: file, index: index))
        }
        return documents
    }

    /// The JSON values of all non-empty documents of a stream.
    public static func parseValues(_ text: String, file: String? = nil) throws(YAMLError) -> [JSONValue] {
        try parseDocuments(text, file: file).map(\.value)
    }

    /// The single document of `text` (`.null` when there is none); more than one is an error.
    public static func parse(_ text: String, file: String? = nil) throws(YAMLError) -> JSONValue {
        let documents = try parseDocuments(text, file: file)
        if documents.count > 1 {
            let second = documents[1].root.start
            throw YAMLError(file: file, mark: second, problem: "expected a single document but found another one here")
        }
        return documents.first?.value ?? .null
    }
}

/// Turns libyaml's event stream into one node tree per document.
struct EventReader {
    struct DocumentTree {
        var root: YAMLNode
        var sourceNodeCount: Int
    }

    /// An open collection; mutated in place on the stack so appends stay amortised O(1).
    private struct Frame {
        var node: YAMLNode
        var isMapping: Bool
        var items: [YAMLNode] = []
        var entries: [YAMLMappingEntry] = []
        var pendingKey: YAMLNode?
    }

    let file: String?
    let limits: YAMLLimits
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var root: YAMLNode?
    private var nodeCount = 0
    private var documents: [DocumentTree] = []

    private init(file: String?, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    static func readDocuments(_ bytes: [UInt8], file: String?, limits: YAMLLimits) throws(YAMLError) -> [DocumentTree] {
        var reader = EventReader(file: file, limits: limits)
        let outcome: Result<Void, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(YAMLError) in try reader.run(buffer) }
        }
        try outcome.get()
        return reader.documents
    }

    private mutating func run(_ buffer: UnsafeBufferPointer<UInt8>) throws(YAMLError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw YAMLError(file: file, line: 1, column: 1, problem: "libyaml could not allocate a parser")
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml reads from a pointer; an empty buffer may have none, so give it a valid one.
        let empty: [UInt8] = [0]
        try empty.withUnsafeBufferPointer { (emptyBuffer) throws(YAMLError) in
            let base = buffer.baseAddress ?? emptyBuffer.baseAddress!
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    throw parserError(parser, buffer)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                try handle(event)
            }
        }
    }

    private func parserError(_ parser: yaml_parser_t, _ buffer: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        var message = problem
        if problem.hasPrefix("mapping values are not allowed") {
            // libyaml's wording hides the usual causes; say what a valid document needed.
            message += "; expected the key to line up with the keys above it, or a value containing \": \" to be quoted"
        }
        if parser.error == YAML_READER_ERROR {
            // Reader errors (bad encoding, control characters) have an offset, not a mark.
            if parser.problem_value >= 0 {
                message += " (byte 0x\(String(parser.problem_value, radix: 16, uppercase: true)) at offset \(parser.problem_offset))"
            }
        }
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " \(context) that started at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1)"
        }
        var at = Self.mark(parser.problem_mark)
        if parser.error == YAML_READER_ERROR {
            at = Self.mark(offset: parser.problem_offset, in: buffer)
        }
        return YAMLError(file: file, mark: at, problem: message)
    }

    static func mark(offset: Int, in buffer: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1
        var column = 1
        for byte in buffer.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return YAMLMark(line: line, column: column)
    }

    static func mark(_ mark: yaml_mark_t) -> YAMLMark {
        YAMLMark(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private mutating func handle(_ event: yaml_event_t) throws(YAMLError) {
        let start = Self.mark(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            anchors = [:]
            root = nil
            nodeCount = 0
        case YAML_DOCUMENT_END_EVENT:
            let tree = root ?? YAMLNode(kind: .scalar(YAMLScalar(text: "", style: .plain)), start: start)
            documents.append(DocumentTree(root: tree, sourceNodeCount: nodeCount))
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let style: YAMLScalar.Style
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            nodeCount += 1
            try complete(YAMLNode(
                kind: .scalar(YAMLScalar(text: text, style: style)),
                tag: Self.string(s.tag), anchor: Self.string(s.anchor), start: start))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(file: file, mark: start, problem: "alias *\(name) refers to an anchor &\(name) that is not defined before it")
            }
            try complete(YAMLNode(kind: .alias(name: name, target: target), start: start))
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            try push(Frame(node: YAMLNode(kind: .sequence([]), tag: Self.string(s.tag), anchor: Self.string(s.anchor), start: start), isMapping: false), at: start)
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            try push(Frame(node: YAMLNode(kind: .mapping([]), tag: Self.string(m.tag), anchor: Self.string(m.anchor), start: start), isMapping: true), at: start)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            var node = frame.node
            node.kind = frame.isMapping ? .mapping(frame.entries) : .sequence(frame.items)
            try complete(node)
        default:
            break
        }
    }

    private mutating func push(_ frame: Frame, at mark: YAMLMark) throws(YAMLError) {
        guard stack.count < limits.maximumDepth else {
            throw YAMLError(file: file, mark: mark, problem: "nesting deeper than \(limits.maximumDepth) levels")
        }
        nodeCount += 1
        stack.append(frame)
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    private mutating func complete(_ node: YAMLNode) throws(YAMLError) {
        if let anchor = node.anchor { anchors[anchor] = node }
        let top = stack.count - 1
        guard top >= 0 else {
            root = node
            return
        }
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            stack[top].entries.append(YAMLMappingEntry(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            stack[top].pendingKey = node
        }
    }
}
