import Foundation
import JSON
import Logging

/// A stand-in for kube-controller-manager's deployment and HPA controllers: once a Deployment's
/// spec changes, its status reports every replica ready after `delay`; an HPA scales its target
/// Deployment into `[minReplicas, maxReplicas]` (as the real controller does through the scale
/// subresource; with no metrics there is nothing else to scale on) and reports current and
/// desired replicas.
///
/// Guarantees: status is written only through the store's `/status` path, so generation and
/// resourceVersion behave as with a real controller; each object is re-read before writing and
/// a conflict is retried, so a concurrent client update is never overwritten.
/// Caveats: no Pods or ReplicaSets exist; readiness is simulated, not observed.
public struct WorkloadSimulator: Sendable {
    let store: ObjectStore
    let delay: Duration
    let logger: Logger

    static let deployments = ResourceKey(group: "apps", version: "v1", plural: "deployments")
    static let autoscalers = ResourceKey(group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers")

    public init(store: ObjectStore, delay: Duration, logger: Logger) {
        self.store = store
        self.delay = delay
        self.logger = logger
    }

    /// Runs until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.follow(Self.deployments) }
            group.addTask { await self.follow(Self.autoscalers) }
        }
    }

    private func follow(_ key: ResourceKey) async {
        while !Task.isCancelled {
            guard store.resourceType(for: key) != nil else { return }
            let subscription: WatchSubscription
            do {
                var options = ListOptions()
                options.resourceVersion = "0"
                subscription = try store.watch(key, namespace: nil, options: options, allowBookmarks: false)
            } catch {
                logger.warning("workload simulation could not watch", metadata: ["resource": "\(key.plural)", "error": "\(error.message)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            await withDiscardingTaskGroup { group in
                for await event in subscription {
                    guard event.type == .added || event.type == .modified else { continue }
                    let object = event.object
                    if key == Self.deployments { refreshAutoscalers(targeting: object) }
                    guard needsStatus(key, object) else { continue }
                    group.addTask {
                        try? await Task.sleep(for: self.delay)
                        self.writeStatus(key, namespace: object[path: ["metadata", "namespace"]].stringValue, name: object[path: ["metadata", "name"]].stringValue ?? "")
                    }
                }
            }
            subscription.cancel()
            // A watch the store ended (dropped, or the type went away) is resumed, but never in a hot loop.
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A Deployment's replica count feeds its HPAs' status, so a scale re-reports them.
    private func refreshAutoscalers(targeting deployment: JSONValue) {
        let namespace = deployment[path: ["metadata", "namespace"]].stringValue
        let name = deployment[path: ["metadata", "name"]].stringValue
        guard let autoscalers = try? store.list(Self.autoscalers, namespace: namespace, options: ListOptions()).items else { return }
        for autoscaler in autoscalers where autoscaler[path: ["spec", "scaleTargetRef", "kind"]] == "Deployment"
            && autoscaler[path: ["spec", "scaleTargetRef", "name"]].stringValue == name {
            writeStatus(Self.autoscalers, namespace: namespace, name: autoscaler[path: ["metadata", "name"]].stringValue ?? "")
        }
    }

    private func needsStatus(_ key: ResourceKey, _ object: JSONValue) -> Bool {
        if !object[path: ["metadata", "deletionTimestamp"]].isNull { return false }
        if let desired = desiredStatus(key, object) { return !desired.semanticallyEquals(object["status"]) }
        return false
    }

    private func writeStatus(_ key: ResourceKey, namespace: String?, name: String) {
        if key == Self.autoscalers { scaleTargetIntoBounds(namespace: namespace, autoscalerName: name) }
        for _ in 0..<5 {
            guard var current = try? store.get(key, namespace: namespace, name: name, subresource: nil),
                  let desired = desiredStatus(key, current), !desired.semanticallyEquals(current["status"]) else { return }
            current["status"] = desired
            do {
                _ = try store.update(key, namespace: namespace, name: name, subresource: "status", body: current, options: WriteOptions())
                return
            } catch where error.code == 409 {
                continue
            } catch {
                logger.debug("workload simulation status write failed", metadata: ["object": "\(namespace ?? "")/\(name)", "error": "\(error.message)"])
                return
            }
        }
    }

    /// Sets the target Deployment's `spec.replicas` to the HPA's bounds when it lies outside them.
    /// Written as kube-controller-manager, so the operator (which never sets replicas on
    /// autoscaled Deployments) owns nothing this touches. The status written next still reports
    /// the previous count as current, as the real controller's first status after a scale does.
    private func scaleTargetIntoBounds(namespace: String?, autoscalerName: String) {
        guard let autoscaler = try? store.get(Self.autoscalers, namespace: namespace, name: autoscalerName, subresource: nil),
              autoscaler[path: ["metadata", "deletionTimestamp"]].isNull,
              autoscaler[path: ["spec", "scaleTargetRef", "kind"]] == "Deployment",
              let targetName = autoscaler[path: ["spec", "scaleTargetRef", "name"]].stringValue,
              let target = try? store.get(Self.deployments, namespace: namespace, name: targetName, subresource: nil),
              target[path: ["metadata", "deletionTimestamp"]].isNull
        else { return }
        let current = target[path: ["spec", "replicas"]].intValue ?? 1
        let minimum = autoscaler[path: ["spec", "minReplicas"]].intValue ?? 1
        let maximum = autoscaler[path: ["spec", "maxReplicas"]].intValue ?? max(current, minimum)
        let desired = min(max(current, minimum), maximum)
        guard desired != current else { return }
        let patch: JSONValue = ["spec": ["replicas": .int(desired)]]
        var options = WriteOptions()
        options.fieldManager = "kube-controller-manager"
        do {
            _ = try store.patch(Self.deployments, namespace: namespace, name: targetName, subresource: nil, type: .merge,
                                body: patch.serializedBytes(), options: options)
        } catch {
            logger.debug("workload simulation could not scale", metadata: ["object": "\(namespace ?? "")/\(targetName)", "error": "\(error.message)"])
        }
    }

    func desiredStatus(_ key: ResourceKey, _ object: JSONValue) -> JSONValue? {
        if key == Self.deployments { return Self.deploymentStatus(object) }
        if key == Self.autoscalers { return autoscalerStatus(object) }
        return nil
    }

    /// The status a healthy Deployment reaches once its rollout completes.
    static func deploymentStatus(_ deployment: JSONValue) -> JSONValue {
        let replicas = deployment[path: ["spec", "replicas"]].intValue ?? 1
        let generation = deployment[path: ["metadata", "generation"]].intValue ?? 1
        let name = deployment[path: ["metadata", "name"]].stringValue ?? ""
        // Keep condition timestamps stable when nothing changed, so rewrites are no-ops.
        let previous = deployment[path: ["status", "conditions"]].arrayValue ?? []
        func since(_ type: String) -> JSONValue {
            previous.first(where: { $0["type"].stringValue == type })?["lastTransitionTime"] ?? .string(Self.timestamp())
        }
        var status: JSONValue = [
            "observedGeneration": .int(generation),
            "replicas": .int(replicas), "updatedReplicas": .int(replicas),
            "readyReplicas": .int(replicas), "availableReplicas": .int(replicas),
            "conditions": [
                ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastTransitionTime": since("Available"), "lastUpdateTime": since("Available")],
                ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": .string("ReplicaSet \"\(name)\" has successfully progressed."), "lastTransitionTime": since("Progressing"), "lastUpdateTime": since("Progressing")],
            ],
        ]
        if replicas == 0 {
            // The real controller omits zero counts (omitempty).
            status["readyReplicas"] = .null; status["availableReplicas"] = .null
            status["replicas"] = .null; status["updatedReplicas"] = .null
        }
        return status
    }

    private func autoscalerStatus(_ autoscaler: JSONValue) -> JSONValue? {
        let target = autoscaler[path: ["spec", "scaleTargetRef"]]
        guard target["kind"].stringValue == "Deployment", let targetName = target["name"].stringValue else { return nil }
        let namespace = autoscaler[path: ["metadata", "namespace"]].stringValue
        let current = (try? store.get(Self.deployments, namespace: namespace, name: targetName, subresource: nil))?[path: ["spec", "replicas"]].intValue ?? 1
        let minimum = autoscaler[path: ["spec", "minReplicas"]].intValue ?? 1
        let maximum = autoscaler[path: ["spec", "maxReplicas"]].intValue ?? max(current, minimum)
        let desired = min(max(current, minimum), maximum)
        return [
            "currentReplicas": .int(current), "desiredReplicas": .int(desired),
            "conditions": [
                ["type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size"],
                ["type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count"],
            ],
        ]
    }

    static func timestamp() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
