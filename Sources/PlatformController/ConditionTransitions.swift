import ControllerRuntime
import PlatformAPI

/// A condition that changed between two statuses, worth an Event.
public struct ConditionTransition: Sendable, Equatable {
    public var type: String
    public var status: ConditionStatus
    public var reason: String
    public var message: String
}

/// Which conditions changed, decided without a client.
public enum ConditionTransitions {
    /// Conditions that are new or whose status or reason changed; a message-only change
    /// (replica counts ticking up) is not an event, so Events stay few.
    public static func between(_ old: [Condition], _ new: [Condition]) -> [ConditionTransition] {
        new.compactMap { condition in
            let before = old.first { $0.type == condition.type }
            if let before, before.status == condition.status, before.reason == condition.reason { return nil }
            return ConditionTransition(type: condition.type, status: condition.status, reason: condition.reason, message: condition.message)
        }
    }

    /// Warning for conditions that ask a human to act: a failing Ready with a spec or tier
    /// problem, or Degraded becoming true; everything else is Normal.
    public static func severity(of transition: ConditionTransition) -> EventOccurrence.Severity {
        if transition.type == PlatformConditionType.degraded.rawValue { return transition.status == .true ? .warning : .normal }
        if transition.type == PlatformConditionType.ready.rawValue, transition.status == .false,
           ["InvalidSpec", "TierNotFound", "InvalidTier", "ChildConflict"].contains(transition.reason) {
            return .warning
        }
        return .normal
    }
}
