import ControllerRuntime
import JSON
import PlatformSpecs

extension PlatformReconciler {
    /// Server-side applies every desired child that differs from its cached copy, telling
    /// the platform's Events about each create and update.
    func applyChildren(_ desired: DesiredChildren, owner: OwnerRef, namespace: String, subject: EventSubject, context: ReconcileContext) async throws {
        let applier = ChildApplier(client: client, fieldManager: PlatformResources.fieldManager)
        var counts: [ApplyOutcome: Int] = [:]
        for child in desired.children {
            guard let resource = PlatformResources.owned(kind: child.kind) else { continue }
            let live = caches.children[child.kind]?.get(ObjectKey(namespace: namespace, name: child.name))?.payload.value
            let outcome = try await applier.apply(child.object, as: resource, live: live, controller: owner)
            counts[outcome, default: 0] += 1
            guard outcome != .unchanged else { continue }
            context.logger.debug("applied child", metadata: ["child": "\(child.kind) \(child.name)", "outcome": "\(outcome.rawValue)"])
            events?.record(EventOccurrence(
                subject: subject, severity: .normal, reason: outcome == .created ? "Created" : "Updated", action: "Apply",
                note: "\(child.kind) \(child.name) \(outcome.rawValue)"))
        }
        if counts[.created, default: 0] + counts[.updated, default: 0] > 0 {
            context.logger.info("applied children", metadata: [
                "created": "\(counts[.created, default: 0])", "updated": "\(counts[.updated, default: 0])", "unchanged": "\(counts[.unchanged, default: 0])",
            ])
        }
    }

    /// Deletes children this platform controls that its desired state no longer has.
    func pruneChildren(keeping desired: DesiredChildren, owner: CachedMetadata, subject: EventSubject, context: ReconcileContext) async throws {
        let namespace = owner.key.namespace
        // UIDs compared as text: the cache's UID type is an implementation detail.
        let ownerUID = "\(owner.uid)"
        let wanted = Set(desired.children.map { ChildIdentity(kind: $0.kind, key: ObjectKey(namespace: namespace, name: $0.name)) })
        for resource in PlatformResources.ownedKinds {
            guard let store = caches.children[resource.kind] else { continue }
            let owned = store.keysOwned(by: owner.uid).compactMap { key -> (identity: ChildIdentity, controllerUID: String?)? in
                guard let cached = store.get(key) else { return nil }
                return (ChildIdentity(kind: resource.kind, key: key), cached.metadata.controllerReference.map { "\($0.uid)" })
            }
            for child in ChildPruning.childrenToDelete(desired: wanted, owned: owned, ownerUID: ownerUID) {
                do {
                    try await client.delete(resource, namespace: namespace, name: child.key.name)
                } catch let error as ResourceClientError where error.isNotFound {
                    continue
                }
                context.logger.info("deleted child no longer wanted", metadata: ["child": "\(child)"])
                events?.record(EventOccurrence(subject: subject, severity: .normal, reason: "Deleted", action: "Delete", note: "\(child) deleted: its service is no longer enabled"))
            }
        }
    }
}
