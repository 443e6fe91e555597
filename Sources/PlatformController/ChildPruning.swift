import ControllerRuntime

/// One child object by kind and key, the unit pruning and events talk about.
public struct ChildIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: String
    public var key: ObjectKey

    public init(kind: String, key: ObjectKey) {
        self.kind = kind
        self.key = key
    }

    public var description: String { "\(kind) \(key.name)" }

    public static func < (a: ChildIdentity, b: ChildIdentity) -> Bool {
        (a.kind, a.key) < (b.kind, b.key)
    }
}

/// Which children to delete after an apply, decided without a client.
public enum ChildPruning {
    /// The children this platform controls that its desired state no longer contains (a
    /// service disabled or removed), sorted so deletes happen in a stable order.
    ///
    /// Guarantees: only objects whose *controller* owner reference is `ownerUID` are ever
    /// answered; an object merely listing the platform as a non-controller owner, or
    /// controlled by someone else, is left alone.
    public static func childrenToDelete(desired: Set<ChildIdentity>, owned: [(identity: ChildIdentity, controllerUID: String?)], ownerUID: String) -> [ChildIdentity] {
        owned.filter { $0.controllerUID == ownerUID && !desired.contains($0.identity) }.map(\.identity).sorted()
    }
}
