/// One problem with a spec, named by its field path (`spec.services.search.replicas.max`).
///
/// The controller turns these into `Ready=False, reason InvalidSpec`; the message never
/// contains secret values because specs only ever carry references to secrets.
public struct SpecViolation: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// A spec that could not be decoded; carries every violation found, not only the first.
public struct SpecDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var violations: [SpecViolation]

    public init(kind: String, violations: [SpecViolation]) {
        self.kind = kind
        self.violations = violations
    }

    public var description: String {
        "invalid \(kind): " + violations.map(\.description).joined(separator: "; ")
    }
}

/// A dotted field path with list indices, built as decoding descends.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public private(set) var segments: [String]

    public init(_ segments: [String] = []) { self.segments = segments }

    public func child(_ name: String) -> FieldPath { FieldPath(segments + [name]) }

    public func index(_ i: Int) -> FieldPath {
        var s = segments
        if let last = s.popLast() { s.append("\(last)[\(i)]") } else { s.append("[\(i)]") }
        return FieldPath(s)
    }

    public var description: String { segments.joined(separator: ".") }

    /// The path as YAML/JSON keys (indices as numbers) for finding a line in a source file.
    public var keys: [String] { segments }
}
