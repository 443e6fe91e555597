import ControllerRuntime
import PlatformAPI

extension PlatformReconciler {
    /// Writes `status` when it differs from what the platform already reports, and records
    /// an Event for every condition whose status or reason changed.
    func publish(_ status: PlatformStatus, previous: PlatformStatus, key: ObjectKey, subject: EventSubject, context: ReconcileContext) async throws {
        guard status != previous else { return }
        try await statusWriter.replaceStatus(status.jsonValue, namespace: key.namespace, name: key.name)
        for transition in ConditionTransitions.between(previous.conditions, status.conditions) {
            events?.record(EventOccurrence(
                subject: subject, severity: ConditionTransitions.severity(of: transition), reason: transition.reason, action: "UpdateStatus",
                note: "\(transition.type) is \(transition.status.rawValue): \(transition.message)"))
        }
        if let ready = Conditions.find(.ready, in: status.conditions), Conditions.find(.ready, in: previous.conditions)?.status != ready.status {
            context.logger.info("platform readiness changed", metadata: ["ready": "\(ready.status.rawValue)", "reason": "\(ready.reason)"])
        }
    }
}
