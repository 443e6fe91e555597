import Foundation

/// A Kubernetes object UID, kept as 16 bytes when it is a lowercase UUID (always, from a real
/// API server) and as text otherwise: caches hold two per child (its own and its owner's),
/// and a 36-character string is a separate heap allocation each time.
public struct ObjectUID: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    private enum Storage: Sendable, Hashable {
        case uuid(UUID)
        case text(String)
    }

    private let storage: Storage

    public init(_ text: String) {
        if text.utf8.count == 36, let uuid = UUID(uuidString: text), uuid.uuidString.lowercased() == text {
            storage = .uuid(uuid)
        } else {
            storage = .text(text)
        }
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String {
        switch storage {
        case .uuid(let uuid): return uuid.uuidString.lowercased()
        case .text(let text): return text
        }
    }

    public var isEmpty: Bool { if case .text(let text) = storage { return text.isEmpty } else { return false } }
}
