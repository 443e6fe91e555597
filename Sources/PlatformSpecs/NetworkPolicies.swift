import JSON
import PlatformAPI

/// One NetworkPolicy per service: deny by default, then allow only the paths the
/// architecture uses.
///
/// Ingress allowed:
/// - from the ingress controller's namespace, to user, search and content (the services
///   the seed's load balancer routes to);
/// - from the platform's own services that call this one (`PlatformService.callers`);
/// - from the monitoring namespace, for `/metrics` on the service port.
/// Egress allowed:
/// - DNS to kube-dns in kube-system (UDP and TCP 53);
/// - to the services this one calls (`PlatformService.callees`), on their port;
/// - PostgreSQL (5432) and Redis (6379) to the data-store CIDRs, for the services that
///   use them (RDS and ElastiCache live in VPC subnets, not in pods);
/// - HTTPS (443) anywhere: S3, STS (IRSA), Secrets Manager and, for notification, the
///   mail provider are public AWS/vendor endpoints with no fixed addresses.
/// Kubelet probes are not subject to NetworkPolicy, so they need no rule.
enum NetworkPolicies {
    static func networkPolicy(_ platform: MedicalSearchPlatform, _ s: EffectiveService, enabled: Set<PlatformService>) -> JSONValue {
        let service = s.service
        let networking = platform.spec.networking
        let port: JSONValue = ["protocol": "TCP", "port": .int(service.port)]

        var ingress: [JSONValue] = []
        if service.isPublic {
            ingress.append(["from": [namespace(networking.ingressNamespace)], "ports": [port]])
        }
        let callers = service.callers.filter(enabled.contains)
        if !callers.isEmpty {
            ingress.append(["from": .array(callers.map { peer(platform, $0) }), "ports": [port]])
        }
        ingress.append(["from": [namespace(networking.monitoringNamespace)], "ports": [port]])

        var egress: [JSONValue] = [[
            "to": [[
                "namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "kube-system"]],
                "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]],
            ]],
            "ports": [["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]],
        ]]
        for callee in service.callees where enabled.contains(callee) {
            egress.append(["to": [peer(platform, callee)], "ports": [["protocol": "TCP", "port": .int(callee.port)]]])
        }
        var dataPorts: [JSONValue] = []
        if service.usesDatabase { dataPorts.append(["protocol": "TCP", "port": 5432]) }
        if service.usesCache { dataPorts.append(["protocol": "TCP", "port": 6379]) }
        if !dataPorts.isEmpty, !networking.dataStoreCIDRs.isEmpty {
            egress.append([
                "to": .array(networking.dataStoreCIDRs.map { ["ipBlock": ["cidr": .string($0)]] }),
                "ports": .array(dataPorts),
            ])
        }
        egress.append(["ports": [["protocol": "TCP", "port": 443]]])

        return [
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": ChildMetadata.metadata(platform, name: ChildMetadata.name(platform, service), labels: ChildMetadata.labels(platform, service)),
            "spec": [
                "podSelector": ["matchLabels": ChildMetadata.selectorLabels(platform, service)],
                "policyTypes": ["Ingress", "Egress"],
                "ingress": .array(ingress),
                "egress": .array(egress),
            ],
        ]
    }

    private static func namespace(_ name: String) -> JSONValue {
        ["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": .string(name)]]]
    }

    /// Pods of another service of the same platform (same namespace, so no namespaceSelector).
    private static func peer(_ platform: MedicalSearchPlatform, _ service: PlatformService) -> JSONValue {
        ["podSelector": ["matchLabels": ChildMetadata.selectorLabels(platform, service)]]
    }
}
