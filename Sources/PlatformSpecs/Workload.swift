import JSON
import PlatformAPI

/// The per-service workload objects: Deployment, Service, HorizontalPodAutoscaler,
/// ServiceAccount and PodDisruptionBudget.
enum Workload {
    /// UID/GID the containers run as; an unprivileged number outside the range base images
    /// give their own users, so `runAsNonRoot` holds whatever the image declares.
    static let runAsUser: Int64 = 10001

    static func deployment(_ platform: MedicalSearchPlatform, _ s: EffectiveService, configHash: String) -> JSONValue {
        let name = ChildMetadata.name(platform, s.service)
        let selector = ChildMetadata.selectorLabels(platform, s.service)
        var env: [JSONValue] = [["name": "MEDSEARCH_SERVICE", "value": .string(s.service.rawValue)]]
        env += Configuration.secretReferences(platform, s.service)
        for key in s.env.keys.sorted() { env.append(["name": .string(key), "value": .string(s.env[key]!)]) }

        var resources: JSONValue = .emptyObject
        if !s.resources.requests.isEmpty { resources["requests"] = .object(s.resources.requests.mapValues { .string($0) }) }
        if !s.resources.limits.isEmpty { resources["limits"] = .object(s.resources.limits.mapValues { .string($0) }) }

        let container: JSONValue = [
            "name": .string(s.service.rawValue),
            "image": .string(s.image),
            "imagePullPolicy": .string(s.imagePullPolicy),
            "ports": [["name": "http", "containerPort": .int(s.service.port), "protocol": "TCP"]],
            "envFrom": [
                ["configMapRef": ["name": .string(ChildMetadata.configMapName(platform))]],
                // Optional until the data tier has written credentials, so pods can start
                // (and report not ready) instead of failing to be created.
                ["secretRef": ["name": .string(ChildMetadata.secretName(platform)), "optional": true]],
            ],
            "env": .array(env),
            "resources": resources,
            "startupProbe": probe("/healthz", periodSeconds: 5, failureThreshold: 30),
            "livenessProbe": probe("/healthz", periodSeconds: 10, failureThreshold: 3),
            "readinessProbe": probe("/readyz", periodSeconds: 5, failureThreshold: 3),
            "securityContext": [
                "allowPrivilegeEscalation": false,
                "capabilities": ["drop": ["ALL"]],
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "seccompProfile": ["type": "RuntimeDefault"],
            ],
            // The root filesystem is read-only; /tmp is the one writable place.
            "volumeMounts": [["name": "tmp", "mountPath": "/tmp"]],
        ]

        var podSpec: JSONValue = [
            "serviceAccountName": .string(name),
            // The services never call the Kubernetes API; IRSA mounts its own token.
            "automountServiceAccountToken": false,
            "securityContext": [
                "runAsNonRoot": true,
                "runAsUser": .int(runAsUser),
                "runAsGroup": .int(runAsUser),
                "fsGroup": .int(runAsUser),
                "seccompProfile": ["type": "RuntimeDefault"],
            ],
            "containers": [container],
            "volumes": [["name": "tmp", "emptyDir": ["sizeLimit": "256Mi"]]],
            // Spread replicas over zones so losing one zone leaves the service up (seed: Multi-AZ).
            "topologySpreadConstraints": [[
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": ["matchLabels": selector],
            ]],
        ]
        if !s.placement.nodeSelector.isEmpty {
            podSpec["nodeSelector"] = .object(s.placement.nodeSelector.mapValues { .string($0) })
        }
        if !s.placement.tolerations.isEmpty { podSpec["tolerations"] = .array(s.placement.tolerations) }

        return [
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": ChildMetadata.metadata(platform, name: name, labels: ChildMetadata.labels(platform, s.service)),
            // No `replicas`: the HPA owns the count. Setting it here would make every apply
            // reset the autoscaler's decision.
            "spec": [
                "selector": ["matchLabels": selector],
                "revisionHistoryLimit": 5,
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": "25%"]],
                "template": [
                    "metadata": [
                        "labels": ChildMetadata.labels(platform, s.service),
                        "annotations": [
                            ChildMetadata.configHashAnnotation: .string(configHash),
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": .string(String(s.service.port)),
                            "prometheus.io/path": "/metrics",
                        ],
                    ],
                    "spec": podSpec,
                ],
            ],
        ]
    }

    static func probe(_ path: String, periodSeconds: Int64, failureThreshold: Int64) -> JSONValue {
        [
            "httpGet": ["path": .string(path), "port": "http"],
            "periodSeconds": .int(periodSeconds),
            "failureThreshold": .int(failureThreshold),
            "timeoutSeconds": 2,
        ]
    }

    static func service(_ platform: MedicalSearchPlatform, _ s: EffectiveService) -> JSONValue {
        [
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ChildMetadata.metadata(platform, name: ChildMetadata.name(platform, s.service), labels: ChildMetadata.labels(platform, s.service)),
            "spec": [
                "type": "ClusterIP",
                "selector": ChildMetadata.selectorLabels(platform, s.service),
                "ports": [["name": "http", "port": .int(s.service.port), "targetPort": "http", "protocol": "TCP"]],
            ],
        ]
    }

    static func horizontalPodAutoscaler(_ platform: MedicalSearchPlatform, _ s: EffectiveService) -> JSONValue {
        let name = ChildMetadata.name(platform, s.service)
        return [
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": ChildMetadata.metadata(platform, name: name, labels: ChildMetadata.labels(platform, s.service)),
            "spec": [
                "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name)],
                "minReplicas": .int(s.replicas.min),
                "maxReplicas": .int(s.replicas.max),
                "metrics": [[
                    "type": "Resource",
                    "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(s.targetCPUUtilizationPercentage)]],
                ]],
            ],
        ]
    }

    static func serviceAccount(_ platform: MedicalSearchPlatform, _ s: EffectiveService) -> JSONValue {
        var annotations: JSONValue = .emptyObject
        if let arn = s.iamRoleArn { annotations[ChildMetadata.roleArnAnnotation] = .string(arn) }
        return [
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": ChildMetadata.metadata(
                platform, name: ChildMetadata.name(platform, s.service), labels: ChildMetadata.labels(platform, s.service),
                annotations: annotations),
            "automountServiceAccountToken": false,
        ]
    }

    /// `maxUnavailable: 1` for every service. With `minAvailable: 1` a drain could take 49
    /// of 50 pods at peak, and a single-replica (dev) service would block node drains
    /// forever; one pod at a time protects capacity at any scale and never deadlocks.
    /// Crash-looping pods may always be evicted so they cannot hold a drain hostage.
    static func podDisruptionBudget(_ platform: MedicalSearchPlatform, _ s: EffectiveService) -> JSONValue {
        [
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": ChildMetadata.metadata(platform, name: ChildMetadata.name(platform, s.service), labels: ChildMetadata.labels(platform, s.service)),
            "spec": [
                "maxUnavailable": 1,
                "selector": ["matchLabels": ChildMetadata.selectorLabels(platform, s.service)],
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            ],
        ]
    }
}
