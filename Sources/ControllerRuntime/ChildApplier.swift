import KubeAPI
import APIMachinery
import JSON

/// What applying a desired object did; reads well in logs ("deployment search: unchanged").
public enum ApplyOutcome: String, Sendable {
    case created
    case updated
    case unchanged
}

/// Why a child could not be applied.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    public var object: ObjectKey
    public var kind: String
    public var reason: String

    public var description: String { "cannot apply \(kind) \(object): \(reason)" }

    static func controlledByAnother(_ object: ObjectKey, kind: String, owner: OwnerRef) -> ApplyError {
        ApplyError(object: object, kind: kind, reason: "already controlled by \(owner.kind) \(owner.name) (uid \(owner.uid))")
    }
}

/// Server-side applies desired children with one field manager, writing only on difference.
///
/// Guarantees:
/// - `unchanged` means no request at all was sent: the desired object is compared with the
///   cached live one first.
/// - An object whose controller owner reference names a different UID is never overwritten:
///   that is an `ApplyError` (and a terminal one for the reconcile).
/// - A field removed from the desired object is still noticed: the desired object carries a
///   hash of itself in the `medsearch.io/desired-hash` annotation, so any change to what we
///   want, including removals, differs from what is live.
///
/// Caveats: on a stripped cache the comparison is "every desired field is present in live with the same value",
/// so desired values must be in the server's canonical form (quantities such as `500m`, not
/// `0.5`), or they are re-applied on every reconcile (harmless, but not free).
public struct ChildApplier: Sendable {
    public static let desiredHashAnnotation = "medsearch.io/desired-hash"

    public let client: any ResourceClient
    public let fieldManager: String

    public init(client: any ResourceClient, fieldManager: String) {
        self.client = client
        self.fieldManager = fieldManager
    }

    /// Applies `desired` (a full object with apiVersion, kind, metadata.name) owned by `owner`.
    /// - Parameter live: the object as cached by the informer, nil if it does not exist.
    public func apply(_ desired: JSONValue, as type: APIResource, live: JSONValue?, controller owner: OwnerRef?) async throws -> ApplyOutcome {
        let prepared = Self.prepare(desired, controller: owner)
        let key = ObjectKey(namespace: prepared[path: ["metadata", "namespace"]].stringValue ?? "", name: prepared[path: ["metadata", "name"]].stringValue ?? "")
        if let live {
            let liveMetadata = CachedMetadata(object: live)
            if let owner, let existing = liveMetadata?.controllerReference, existing.uid != owner.uid {
                throw ApplyError.controlledByAnother(key, kind: type.kind, owner: existing)
            }
            if !wouldChange(prepared, live: live) { return .unchanged }
        }
        _ = try await client.apply(type, namespace: key.namespaceOrNil, name: key.name, object: prepared, fieldManager: fieldManager, force: true)
        return live == nil ? .created : .updated
    }

    /// Applies `desired` given only a `ChildSummary` of the live object (the compact cache
    /// for large child sets).
    ///
    /// Caveats: with a summary, only a change in what *we* want is seen (the desired-hash
    /// differs); a field another writer changed behind our back is not, until our desired
    /// state changes. Use the full-object `apply` where drift must be corrected at once.
    public func apply(_ desired: JSONValue, as type: APIResource, cached: CachedObject<ChildSummary>?, controller owner: OwnerRef?) async throws -> ApplyOutcome {
        let prepared = Self.prepare(desired, controller: owner)
        let key = ObjectKey(namespace: prepared[path: ["metadata", "namespace"]].stringValue ?? "", name: prepared[path: ["metadata", "name"]].stringValue ?? "")
        if let cached {
            if let owner, let existing = cached.metadata.controllerReference, existing.uid != owner.uid {
                throw ApplyError.controlledByAnother(key, kind: type.kind, owner: existing)
            }
            let wanted = prepared[path: ["metadata", "annotations", Self.desiredHashAnnotation]].stringValue.flatMap { UInt64($0, radix: 16) }
            if let wanted, cached.payload.desiredHash == wanted {
                return .unchanged
            }
        }
        _ = try await client.apply(type, namespace: key.namespaceOrNil, name: key.name, object: prepared, fieldManager: fieldManager, force: true)
        return cached == nil ? .created : .updated
    }

    /// With `managedFields` in the live object (an unstripped read), the server's own apply
    /// model decides, exactly; the informer cache strips them to save memory, and then the
    /// subset comparison (plus the desired-hash annotation) decides.
    func wouldChange(_ prepared: JSONValue, live: JSONValue) -> Bool {
        if !live[path: ["metadata", "managedFields"]].isNull {
            let strategy = PatchStrategy.builtIn(apiVersion: prepared["apiVersion"].stringValue ?? "", kind: prepared["kind"].stringValue ?? "")
            return ServerSideApply.wouldChange(applied: prepared, live: live, manager: fieldManager, strategy: strategy)
        }
        return !Self.isSubset(prepared, of: live)
    }

    /// The object as it will be sent: owner reference and desired-hash annotation added.
    public static func prepare(_ desired: JSONValue, controller owner: OwnerRef?) -> JSONValue {
        var object = desired
        object[path: ["metadata", "annotations", desiredHashAnnotation]] = .null
        if let owner { object[path: ["metadata", "ownerReferences"]] = [owner.json] }
        object[path: ["metadata", "annotations", desiredHashAnnotation]] = .string(fingerprint(object.serializedBytes()))
        return object
    }

    /// True when every field of `desired` is in `live` with an equal value. Arrays must match
    /// element by element (each element a subset), because apply replaces atomic lists and
    /// the server keeps the order of keyed ones.
    public static func isSubset(_ desired: JSONValue, of live: JSONValue) -> Bool {
        switch (desired, live) {
        case (.object(let want), .object(let have)):
            for (key, value) in want {
                if case .null = value { if let present = have[key], !present.isNull { return false } else { continue } }
                guard let other = have[key], isSubset(value, of: other) else { return false }
            }
            return true
        case (.array(let want), .array(let have)):
            guard want.count == have.count else { return false }
            return zip(want, have).allSatisfy { isSubset($0, of: $1) }
        case (.int, _), (.double, _):
            return desired.doubleValue == live.doubleValue && live.doubleValue != nil
        default:
            return desired == live
        }
    }

    /// FNV-1a 64: a short, stable, dependency-free fingerprint (not a security hash).
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
