import JSON
import Synchronization

/// What a controller needs to keep of a child it owns, when there are tens of thousands of
/// them: identity and ownership (in `CachedMetadata`), the fingerprint of what we last
/// applied, and the few status fields the parent's status is computed from.
///
/// About 100 bytes of payload per child instead of ~1 kB of stripped JSON; see
/// `ChildApplier.apply(_:as:cached:controller:)` for what that trades away.
public struct ChildSummary: Sendable, Hashable {
    /// The `medsearch.io/desired-hash` annotation (16 hex digits) as a number, nil when we
    /// never applied the object.
    public var desiredHash: UInt64?
    /// Only the status paths the transform was asked to keep, or nil.
    public var status: CompactJSON?

    public init(desiredHash: UInt64?, status: CompactJSON?) {
        self.desiredHash = desiredHash
        self.status = status
    }
}

extension ObjectTransform where Payload == ChildSummary {
    /// Keeps metadata (without labels), the desired-hash annotation and the `status` members
    /// named in `statusFields` (e.g. `["readyReplicas", "observedGeneration"]`).
    public static func childSummary(statusFields: [String] = []) -> ObjectTransform<ChildSummary> {
        ObjectTransform { object in
            guard let metadata = CachedMetadata(object: object, keepLabels: false) else { return nil }
            var status: [String: JSONValue] = [:]
            for field in statusFields {
                let value = object[path: ["status", field]]
                if !value.isNull { status[field] = value }
            }
            let hash = object[path: ["metadata", "annotations", ChildApplier.desiredHashAnnotation]].stringValue.flatMap { UInt64($0, radix: 16) }
            return CachedObject(metadata: metadata, payload: ChildSummary(desiredHash: hash, status: status.isEmpty ? nil : CompactJSON(.object(status))))
        }
    }
}

/// Shares one copy of strings that repeat across thousands of cached objects (namespaces,
/// owner kinds and API versions, label keys and values): Swift strings longer than 15 bytes
/// are heap-allocated, one allocation per parsed occurrence otherwise.
final class StringInterner: Sendable {
    static let shared = StringInterner()
    private let pool = Mutex<Set<String>>([])
    /// Past this many distinct strings the pool stops growing (high-cardinality input).
    private let capacity = 65_536

    func intern(_ string: String) -> String {
        if string.utf8.count <= 15 { return string }
        return pool.withLock { pool in
            if let existing = pool.firstIndex(of: string) { return pool[existing] }
            if pool.count < capacity { pool.insert(string) }
            return string
        }
    }
}
