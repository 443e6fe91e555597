import JSON

/// What the platform's status needs from one live Deployment.
public struct ObservedDeployment: Sendable, Equatable {
    /// `spec.replicas`: the count the HPA currently asks for (the API server defaults it to 1).
    public var desiredReplicas: Int64
    public var readyReplicas: Int64
    /// True once the Deployment controller has seen the latest spec (`observedGeneration`).
    public var rolledOut: Bool
    /// The `Available` condition's status and reason, when reported.
    public var availableStatus: String?
    public var availableReason: String?

    public init(desiredReplicas: Int64, readyReplicas: Int64, rolledOut: Bool, availableStatus: String? = nil, availableReason: String? = nil) {
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.rolledOut = rolledOut
        self.availableStatus = availableStatus
        self.availableReason = availableReason
    }

    public init(deployment: JSONValue) {
        let generation = deployment[path: ["metadata", "generation"]].intValue ?? 0
        let observed = deployment[path: ["status", "observedGeneration"]].intValue ?? 0
        let available = (deployment[path: ["status", "conditions"]].arrayValue ?? []).first { $0["type"].stringValue == "Available" }
        self.init(
            desiredReplicas: deployment[path: ["spec", "replicas"]].intValue ?? 1,
            readyReplicas: deployment[path: ["status", "readyReplicas"]].intValue ?? 0,
            rolledOut: observed >= generation,
            availableStatus: available?["status"].stringValue,
            availableReason: available?["reason"].stringValue)
    }

    /// Ready when the latest spec is rolled out and every wanted replica is ready.
    public var isReady: Bool { rolledOut && readyReplicas >= desiredReplicas }

    /// Ready as the platform judges a service: the latest spec is observed and at least
    /// `floor` replicas (the autoscaler's minimum) are ready.
    ///
    /// Why not every wanted replica: the operator leaves `spec.replicas` to the HPA, so a new
    /// Deployment starts at one replica and the HPA raises it, and under load the HPA adds pods
    /// that take a while to become ready. Requiring all of them would turn Ready False on
    /// every scale-up and page someone for normal autoscaling; the floor is what the tier
    /// promises, and falling below it is what on-call needs to hear about.
    public func isReady(floor: Int64) -> Bool { rolledOut && readyReplicas >= max(1, floor) }
}
