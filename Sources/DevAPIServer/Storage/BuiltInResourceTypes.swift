import JSON

extension ResourceType {
    /// The built-in resources the dev server serves from startup.
    ///
    /// Printer columns list what the real server's table converters show after `Name`
    /// (the HTTP layer adds the `Name` column itself, as the real server does for every type).
    public static let builtIns: [ResourceType] = [
        ResourceType(
            group: "", version: "v1", kind: "Namespace", plural: "namespaces", shortNames: ["ns"],
            namespaced: false, hasStatusSubresource: true,
            verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
            printerColumns: [
                PrinterColumn(name: "Status", type: "string", jsonPath: ".status.phase"), age,
            ]
        ),
        ResourceType(
            group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"],
            namespaced: true, hasStatusSubresource: false, printerColumns: [age]
        ),
        ResourceType(
            group: "", version: "v1", kind: "Secret", plural: "secrets",
            namespaced: true, hasStatusSubresource: false,
            printerColumns: [PrinterColumn(name: "Type", type: "string", jsonPath: ".type"), age]
        ),
        ResourceType(
            group: "", version: "v1", kind: "Service", plural: "services", shortNames: ["svc"], categories: ["all"],
            namespaced: true, hasStatusSubresource: true,
            verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            printerColumns: [
                PrinterColumn(name: "Type", type: "string", jsonPath: ".spec.type"),
                PrinterColumn(name: "Cluster-IP", type: "string", jsonPath: ".spec.clusterIP"),
                PrinterColumn(name: "Selector", type: "string", jsonPath: ".spec.selector", priority: 1),
                age,
            ]
        ),
        ResourceType(
            group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", shortNames: ["sa"],
            namespaced: true, hasStatusSubresource: false, printerColumns: [age]
        ),
        ResourceType(
            group: "", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"],
            namespaced: true, hasStatusSubresource: false,
            printerColumns: [
                PrinterColumn(name: "Last Seen", type: "date", jsonPath: ".lastTimestamp"),
                PrinterColumn(name: "Type", type: "string", jsonPath: ".type"),
                PrinterColumn(name: "Reason", type: "string", jsonPath: ".reason"),
                PrinterColumn(name: "Object", type: "string", jsonPath: ".involvedObject.name"),
                PrinterColumn(name: "Message", type: "string", jsonPath: ".message"),
            ]
        ),
        ResourceType(
            group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"],
            namespaced: true, hasStatusSubresource: false,
            printerColumns: [
                PrinterColumn(name: "Type", type: "string", jsonPath: ".type"),
                PrinterColumn(name: "Reason", type: "string", jsonPath: ".reason"),
                PrinterColumn(name: "Object", type: "string", jsonPath: ".regarding.name"),
                PrinterColumn(name: "Note", type: "string", jsonPath: ".note"),
            ],
            // Stored as core/v1 Events (see EventConversion).
            storage: false
        ),
        ResourceType(
            group: "apps", version: "v1", kind: "Deployment", plural: "deployments", shortNames: ["deploy"],
            categories: ["all"], namespaced: true, hasStatusSubresource: true,
            printerColumns: [
                PrinterColumn(name: "Ready", type: "string", jsonPath: ".status.readyReplicas"),
                PrinterColumn(name: "Up-to-date", type: "integer", jsonPath: ".status.updatedReplicas"),
                PrinterColumn(name: "Available", type: "integer", jsonPath: ".status.availableReplicas"),
                age,
            ]
        ),
        ResourceType(
            group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers",
            shortNames: ["hpa"], categories: ["all"], namespaced: true, hasStatusSubresource: true,
            printerColumns: [
                PrinterColumn(name: "Reference", type: "string", jsonPath: ".spec.scaleTargetRef.name"),
                PrinterColumn(name: "MinPods", type: "integer", jsonPath: ".spec.minReplicas"),
                PrinterColumn(name: "MaxPods", type: "integer", jsonPath: ".spec.maxReplicas"),
                PrinterColumn(name: "Replicas", type: "integer", jsonPath: ".status.currentReplicas"),
                age,
            ]
        ),
        ResourceType(
            group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets",
            shortNames: ["pdb"], namespaced: true, hasStatusSubresource: true,
            printerColumns: [
                PrinterColumn(name: "Min Available", type: "string", jsonPath: ".spec.minAvailable"),
                PrinterColumn(name: "Max Unavailable", type: "string", jsonPath: ".spec.maxUnavailable"),
                PrinterColumn(name: "Allowed Disruptions", type: "integer", jsonPath: ".status.disruptionsAllowed"),
                age,
            ]
        ),
        ResourceType(
            group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies",
            shortNames: ["netpol"], namespaced: true, hasStatusSubresource: false,
            printerColumns: [
                PrinterColumn(name: "Pod-Selector", type: "string", jsonPath: ".spec.podSelector"), age,
            ]
        ),
        ResourceType(
            group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases",
            namespaced: true, hasStatusSubresource: false,
            printerColumns: [
                PrinterColumn(name: "Holder", type: "string", jsonPath: ".spec.holderIdentity"), age,
            ]
        ),
        ResourceType(
            group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition",
            plural: "customresourcedefinitions", shortNames: ["crd", "crds"], categories: ["api-extensions"],
            namespaced: false, hasStatusSubresource: true,
            printerColumns: [
                PrinterColumn(name: "Created At", type: "date", jsonPath: ".metadata.creationTimestamp"),
            ]
        ),
    ]

    static let age = PrinterColumn(
        name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created."
    )

    static let namespaceKey = ResourceKey(group: "", version: "v1", plural: "namespaces")
    static let crdKey = ResourceKey(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions")
}
