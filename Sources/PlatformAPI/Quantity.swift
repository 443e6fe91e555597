/// A Kubernetes resource quantity (`250m`, `1.5`, `512Mi`) read as a plain number.
///
/// Only the forms our specs need: decimal numbers with an optional SI or binary suffix.
/// Exponent forms (`1e3`) are rejected by `pattern` so a typo cannot slip through as a
/// surprising value.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    public static let pattern = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"

    public let text: String
    /// The value in base units (cores, bytes).
    public let value: Double

    public init?(_ text: String) {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("m", 0.001), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ]
        var number = Substring(text)
        var multiplier = 1.0
        for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            multiplier = factor
            break
        }
        guard !number.isEmpty, number.first != ".", number.last != ".",
            number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            number.filter({ $0 == "." }).count <= 1, let parsed = Double(number)
        else { return nil }
        self.text = text
        self.value = parsed * multiplier
    }

    public var description: String { text }
}
