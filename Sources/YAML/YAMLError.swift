/// A YAML document that could not be read, located by file, line and column.
///
/// Guarantees: `line` and `column` are 1-based and point at the token where the problem
/// was noticed; `problem` says what was found and, where libyaml knows, what was expected.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file the text came from, when the caller named one.
    public var file: String?
    public var line: Int
    public var column: Int
    public var problem: String

    public init(file: String?, line: Int, column: Int, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
    }

    init(file: String?, mark: YAMLMark, problem: String) {
        self.init(file: file, line: mark.line, column: mark.column, problem: problem)
    }

    /// `file:line:column: problem`, the shape compilers use so editors can jump to it.
    public var description: String {
        "\(file ?? "<yaml>"):\(line):\(column): \(problem)"
    }
}

/// Bounds that keep hostile input (alias bombs, absurd nesting) from exhausting memory or stack.
public struct YAMLLimits: Sendable {
    /// Deepest nesting of sequences and mappings accepted.
    public var maximumDepth: Int
    /// Values produced per document may not exceed this many, nor `aliasExpansionFactor`
    /// times the number of nodes written in the source, whichever is larger.
    public var minimumExpandedNodeBudget: Int
    public var aliasExpansionFactor: Int

    public init(maximumDepth: Int = 512, minimumExpandedNodeBudget: Int = 10_000, aliasExpansionFactor: Int = 10) {
        self.maximumDepth = maximumDepth
        self.minimumExpandedNodeBudget = minimumExpandedNodeBudget
        self.aliasExpansionFactor = aliasExpansionFactor
    }

    public static let `default` = YAMLLimits()
}
