import Foundation
import JSON

/// A step garbage collection still has to take after a write.
enum GarbageCollectionWork: Sendable, Hashable {
    /// Look at the object again: finish its deletion, orphan or delete its dependents, or
    /// delete it because all its owners are gone.
    case settle(ObjectAddress)
}

/// Finalizer names with meaning to the store.
enum Finalizer {
    static let orphan = "orphan"
    static let foreground = "foregroundDeletion"
    /// `spec.finalizers` of a namespace while its contents are deleted.
    static let namespaceContents = "kubernetes"
    static let customResourceCleanup = "customresourcecleanup.apiextensions.k8s.io"
}

extension StoreState {
    mutating func delete(
        _ type: ResourceType, namespace: String?, name: String, options: DeleteOptions, work: inout [GarbageCollectionWork]
    ) throws(APIError) -> DeleteResult {
        let address = address(type, namespace: namespace, name: name)
        guard let existing = stored(address) else { throw .notFound(type, name) }
        if let uid = options.preconditionUID, uid != existing.header.uid {
            throw .conflict(type, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(existing.header.uid)")
        }
        if let version = options.preconditionResourceVersion, version != String(existing.header.resourceVersion) {
            throw .conflict(type, name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(existing.header.resourceVersion)")
        }
        if let policy = options.propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIError(code: 422, reason: "Invalid",
                           message: "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")
        }
        return try beginDeletion(type, address: address, policy: options.propagationPolicy, dryRun: options.dryRun, work: &work)
    }

    /// Starts deleting an object: removes it at once when nothing holds it, otherwise marks it
    /// with a deletionTimestamp and the finalizers its propagation policy asks for.
    mutating func beginDeletion(
        _ type: ResourceType, address: ObjectAddress, policy: String?, dryRun: Bool, work: inout [GarbageCollectionWork]
    ) throws(APIError) -> DeleteResult {
        guard let existing = stored(address) else { throw .notFound(type, address.key) }
        var object = try parse(existing)
        var finalizers = existing.header.finalizers
        let alreadyDeleting = existing.header.deletionTimestamp != nil
        let isNamespace = address.storage == ResourceType.namespaceKey.storageID
        let isCRD = address.storage == ResourceType.crdKey.storageID

        // The policy turns into GC finalizers, as the real server's deletion strategy does.
        let effective = policy ?? (finalizers.contains(Finalizer.orphan) ? "Orphan"
            : finalizers.contains(Finalizer.foreground) ? "Foreground" : "Background")
        if !alreadyDeleting || policy != nil {
            finalizers.removeAll { $0 == Finalizer.orphan || $0 == Finalizer.foreground }
            if effective == "Orphan" { finalizers.append(Finalizer.orphan) }
            if effective == "Foreground" { finalizers.append(Finalizer.foreground) }
        }
        if isCRD && !alreadyDeleting && !finalizers.contains(Finalizer.customResourceCleanup) {
            finalizers.append(Finalizer.customResourceCleanup)
        }
        let namespaceHeld = isNamespace && (object[path: ["spec", "finalizers"]].arrayValue ?? []).contains(.string(Finalizer.namespaceContents))
        let held = !finalizers.isEmpty || namespaceHeld

        if !held {
            if dryRun { return .deleted(object) }
            object[path: ["metadata", "resourceVersion"]] = .string(String(resourceVersion + 1))
            remove(address, work: &work)
            return .deleted(object)
        }
        if alreadyDeleting && finalizers == existing.header.finalizers { return .pending(object) }
        object[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
        if !alreadyDeleting {
            object[path: ["metadata", "deletionTimestamp"]] = .string(now)
            object[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(0)
            if let generation = object[path: ["metadata", "generation"]].intValue, generation > 0 {
                object[path: ["metadata", "generation"]] = .int(generation + 1)
            }
            if isNamespace { object[path: ["status", "phase"]] = "Terminating" }
        }
        if dryRun { return .pending(object) }
        object[path: ["metadata", "resourceVersion"]] = .string(String(nextResourceVersion()))
        put(object, type: typeForStorage(address.storage) ?? type, at: address, eventType: .modified)
        work.append(.settle(address))
        return .pending(object)
    }

    func typeForStorage(_ storage: StorageID) -> ResourceType? { storageTypes[storage] }

    /// Runs garbage collection, the namespace controller and CRD cleanup to a fixed point,
    /// synchronously: what kube-controller-manager does shortly after, the store does at once.
    mutating func settle(_ work: inout [GarbageCollectionWork]) {
        var steps = 0
        while let item = work.popLast() {
            steps += 1
            // A guard against a bug turning into a hang; real workloads settle in a few steps per object.
            if steps > 10_000_000 { break }
            switch item {
            case .settle(let address): settleObject(address, work: &work)
            }
        }
    }

    mutating func settleObject(_ address: ObjectAddress, work: inout [GarbageCollectionWork]) {
        guard let object = stored(address), let type = typeForStorage(address.storage) else { return }
        let header = object.header
        guard header.deletionTimestamp != nil else {
            // A dependent whose owners are all gone is garbage.
            if !header.ownerReferences.isEmpty && header.ownerReferences.allSatisfy({ !ownerExists($0, of: header) }) {
                _ = try? beginDeletion(type, address: address, policy: nil, dryRun: false, work: &work)
            }
            return
        }
        guard var value = try? parse(object) else { return }
        var finalizers = header.finalizers
        var changed = false

        if address.storage == ResourceType.namespaceKey.storageID,
           (value[path: ["spec", "finalizers"]].arrayValue ?? []).contains(.string(Finalizer.namespaceContents)) {
            if deleteNamespaceContents(header.name, work: &work) {
                let remaining = (value[path: ["spec", "finalizers"]].arrayValue ?? []).filter { $0 != .string(Finalizer.namespaceContents) }
                value[path: ["spec", "finalizers"]] = remaining.isEmpty ? .null : .array(remaining)
                changed = true
            }
        }
        if finalizers.contains(Finalizer.customResourceCleanup) {
            if deleteCustomResources(ofCRD: header.name, work: &work) {
                finalizers.removeAll { $0 == Finalizer.customResourceCleanup }
                changed = true
            }
        }
        if finalizers.contains(Finalizer.orphan) {
            orphanDependents(of: header.uid)
            finalizers.removeAll { $0 == Finalizer.orphan }
            changed = true
        }
        if finalizers.contains(Finalizer.foreground) {
            if deleteDependentsInForeground(of: header.uid, work: &work) {
                finalizers.removeAll { $0 == Finalizer.foreground }
                changed = true
            }
        }
        let namespaceHeld = (value[path: ["spec", "finalizers"]].arrayValue ?? []).contains(.string(Finalizer.namespaceContents))
            && address.storage == ResourceType.namespaceKey.storageID
        if finalizers.isEmpty && !namespaceHeld {
            remove(address, work: &work)
            return
        }
        guard changed else { return }
        value[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
        value[path: ["metadata", "resourceVersion"]] = .string(String(nextResourceVersion()))
        put(value, type: type, at: address, eventType: .modified)
    }

    func ownerExists(_ owner: OwnerReference, of dependent: ObjectHeader) -> Bool {
        guard let address = uidIndex[owner.uid], let object = stored(address) else { return false }
        return object.header.uid == owner.uid
    }

    /// Strips ownerReferences to `uid` from its dependents (the `orphan` finalizer's job).
    mutating func orphanDependents(of uid: String) {
        for address in dependentsByOwner[uid] ?? [] {
            guard let object = stored(address), let type = typeForStorage(address.storage),
                  var value = try? parse(object) else { continue }
            let references = (value[path: ["metadata", "ownerReferences"]].arrayValue ?? []).filter { $0["uid"].stringValue != uid }
            value[path: ["metadata", "ownerReferences"]] = references.isEmpty ? .null : .array(references)
            value[path: ["metadata", "resourceVersion"]] = .string(String(nextResourceVersion()))
            put(value, type: type, at: address, eventType: .modified)
        }
    }

    /// Deletes the dependents of a foreground-deleted owner; true once none that block it remain.
    mutating func deleteDependentsInForeground(of uid: String, work: inout [GarbageCollectionWork]) -> Bool {
        for address in dependentsByOwner[uid] ?? [] {
            guard let object = stored(address), object.header.deletionTimestamp == nil,
                  let type = typeForStorage(address.storage) else { continue }
            // Dependents that own objects themselves go in foreground too, so the whole tree
            // is gone before the owner, as the real garbage collector does.
            let policy = dependentsByOwner[object.header.uid]?.isEmpty == false ? "Foreground" : nil
            _ = try? beginDeletion(type, address: address, policy: policy, dryRun: false, work: &work)
        }
        let blocking = (dependentsByOwner[uid] ?? []).contains { address in
            stored(address)?.header.ownerReferences.contains { $0.uid == uid && $0.blockOwnerDeletion } ?? false
        }
        return !blocking
    }

    /// Deletes everything in a namespace; true once it is empty.
    mutating func deleteNamespaceContents(_ namespace: String, work: inout [GarbageCollectionWork]) -> Bool {
        let prefix = namespace + "/"
        var empty = true
        for (storage, bucket) in buckets {
            guard let type = typeForStorage(storage), type.namespaced else { continue }
            for (key, object) in bucket.objects where key.hasPrefix(prefix) {
                empty = false
                if object.header.deletionTimestamp == nil {
                    _ = try? beginDeletion(type, address: ObjectAddress(storage: storage, key: key), policy: nil,
                                           dryRun: false, work: &work)
                }
            }
        }
        return empty || (namespaceObjectCounts[namespace] ?? 0) == 0
    }
}
