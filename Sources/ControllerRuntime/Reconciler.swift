import Foundation
import Logging

/// What a reconcile asks for next.
public enum Requeue: Sendable, Equatable {
    /// Nothing more to do until something changes.
    case done
    /// Run again after this long (periodic checks, waiting on AWS), even if nothing changes.
    case after(Duration)
}

/// Everything a reconcile gets besides its key.
public struct ReconcileContext: Sendable {
    /// Carries `controller`, `object` and `reconcileID` metadata.
    public var logger: Logger
    public var reconcileID: String
    /// How many times this key has failed in a row before this attempt.
    public var retries: Int
}

/// Brings one object's world in line with its spec.
///
/// The contract is controller-runtime's: the key is all you get; read current state from
/// the informer caches, compute the desired state, write only differences, and say when to
/// come back. Throwing hands the error to the controller's `ErrorPolicy`.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey, context: ReconcileContext) async throws -> Requeue
}

/// A reconciler made from a closure, for small controllers and tests.
public struct ReconcilerFunction: Reconciler {
    private let body: @Sendable (ObjectKey, ReconcileContext) async throws -> Requeue

    public init(_ body: @escaping @Sendable (ObjectKey, ReconcileContext) async throws -> Requeue) {
        self.body = body
    }

    public func reconcile(_ key: ObjectKey, context: ReconcileContext) async throws -> Requeue {
        try await body(key, context)
    }
}

/// An error that retrying cannot fix (invalid spec, object controlled by someone else).
/// It is logged, counted and reported, and the key is not retried until it changes again.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var underlying: (any Error & Sendable)?

    public init(_ reason: String, underlying: (any Error & Sendable)? = nil) {
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(reason): \(underlying)" }
        return reason
    }
}

/// Turns a reconcile error into retry timing, like kube-rs's `error_policy`.
public struct ErrorPolicy: Sendable {
    public enum Action: Sendable, Equatable {
        /// Retry with the queue's per-key backoff and global budget.
        case backoff
        /// Retry after exactly this long.
        case after(Duration)
        /// Do not retry; the key runs again only when an event enqueues it.
        case giveUp
    }

    public let decide: @Sendable (any Error, ObjectKey, Int) -> Action

    public init(_ decide: @escaping @Sendable (any Error, ObjectKey, Int) -> Action) {
        self.decide = decide
    }

    /// Terminal errors give up; everything else backs off.
    public static let standard = ErrorPolicy { error, _, _ in
        error is TerminalError ? .giveUp : .backoff
    }
}
