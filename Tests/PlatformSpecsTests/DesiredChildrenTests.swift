import JSON
import PlatformAPI
import PlatformSpecs
import Testing

@Suite struct DesiredChildrenTests {
    static let perServiceKinds = ["ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"]

    @Test(arguments: Fixtures.exampleTierNames)
    func desiredChildren_forEveryExampleTier_areSixKindsPerServicePlusConfig(tierName: String) throws {
        let tier = try Fixtures.tier(tierName)
        let platform = try PlatformBuilder(tier: tierName).build()
        let children = desiredChildren(platform: platform, tier: tier, observed: ObservedState())
        #expect(children.count == 38)
        for kind in Self.perServiceKinds {
            let names = children.objects(kind: kind).compactMap { $0[path: ["metadata", "name"]].stringValue }
            #expect(names == PlatformService.allCases.map { "demo-\($0.rawValue)" }, "\(kind)")
        }
        #expect(children.objects(kind: "ConfigMap").count == 1)
        #expect(children.objects(kind: "Secret").count == 1)
    }

    @Test(arguments: Fixtures.exampleTierNames)
    func everyChild_carriesLabelsNamespaceAndAControllerOwnerReference(tierName: String) throws {
        let tier = try Fixtures.tier(tierName)
        let platform = try PlatformBuilder(tier: tierName).build()
        for child in desiredChildren(platform: platform, tier: tier, observed: ObservedState()) {
            let metadata = child["metadata"]
            #expect(metadata["namespace"] == "clinic")
            #expect(metadata[path: ["labels", "app.kubernetes.io/instance"]] == "demo")
            #expect(metadata[path: ["labels", "app.kubernetes.io/part-of"]] == "medsearch")
            #expect(metadata[path: ["labels", "app.kubernetes.io/managed-by"]] == "medsearch-operator")
            #expect(metadata[path: ["labels", "app.kubernetes.io/component"]].stringValue != nil)
            #expect(metadata[path: ["labels", "app.kubernetes.io/name"]].stringValue != nil)
            #expect(metadata["ownerReferences"] == [[
                "apiVersion": "platform.medsearch.io/v1alpha1", "kind": "MedicalSearchPlatform", "name": "demo",
                "uid": "5b2f6a0e-1111-4c3a-9d2e-0123456789ab", "controller": true, "blockOwnerDeletion": true,
            ]])
        }
    }

    /// A made-up uid would get applied children garbage-collected; none is harmless.
    @Test func ownerReference_whenPlatformHasNoUID_isLeftOut() throws {
        let platform = try PlatformBuilder().withoutUID().build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        #expect(!children.isEmpty)
        #expect(children.allSatisfy { $0["metadata"]["ownerReferences"] == JSONValue.null })
    }

    @Test(arguments: Fixtures.exampleTierNames)
    func deployments_runWithTheRestrictedPodSecurityProfile(tierName: String) throws {
        let platform = try PlatformBuilder(tier: tierName).build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier(tierName), observed: ObservedState())
        for deployment in children.objects(kind: "Deployment") {
            let pod = deployment[path: ["spec", "template", "spec"]]
            #expect(pod[path: ["securityContext", "runAsNonRoot"]] == true)
            #expect(pod[path: ["securityContext", "seccompProfile", "type"]] == "RuntimeDefault")
            let security = deployment.container["securityContext"]
            #expect(security["allowPrivilegeEscalation"] == false)
            #expect(security[path: ["capabilities", "drop"]] == ["ALL"])
            #expect(security["readOnlyRootFilesystem"] == true)
            #expect(security["runAsNonRoot"] == true)
        }
    }

    @Test func deployment_hasProbesRollingUpdateEnvFromAndNoReplicaCount() throws {
        let platform = try PlatformBuilder().build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        let deployment = children.object(kind: "Deployment", name: "demo-search")
        let container = deployment.container
        #expect(container[path: ["readinessProbe", "httpGet", "path"]] == "/readyz")
        #expect(container[path: ["livenessProbe", "httpGet", "path"]] == "/healthz")
        #expect(container[path: ["livenessProbe", "httpGet", "port"]] == "http")
        #expect(container["ports"][0]["containerPort"] == 8080)
        #expect(deployment[path: ["spec", "strategy", "rollingUpdate"]] == ["maxUnavailable": 0, "maxSurge": "25%"])
        #expect(deployment[path: ["spec", "replicas"]].isNull)
        #expect(deployment[path: ["spec", "template", "spec", "serviceAccountName"]] == "demo-search")
        #expect(container["envFrom"][0][path: ["configMapRef", "name"]] == "demo-config")
        #expect(container["envFrom"][1][path: ["secretRef", "name"]] == "demo-credentials")
        #expect(container["image"] == "123456789012.dkr.ecr.us-west-2.amazonaws.com/search-service:1.0.0")
        #expect(container[path: ["resources", "requests", "cpu"]] == "500m")
        #expect(container[path: ["resources", "limits", "memory"]] == "2Gi")
        let selector = deployment[path: ["spec", "selector", "matchLabels"]]
        let podLabels = deployment[path: ["spec", "template", "metadata", "labels"]]
        #expect(selector.objectValue?.allSatisfy { podLabels[$0.key] == $0.value } == true)
    }

    @Test(arguments: Fixtures.exampleTierNames)
    func autoscalers_takeBoundsAndTargetFromTheTier(tierName: String) throws {
        let tier = try Fixtures.tier(tierName)
        let platform = try PlatformBuilder(tier: tierName).build()
        let children = desiredChildren(platform: platform, tier: tier, observed: ObservedState())
        for service in PlatformService.allCases {
            let hpa = children.object(kind: "HorizontalPodAutoscaler", name: "demo-\(service.rawValue)")
            let sizing = tier.spec.sizing(service)
            #expect(hpa[path: ["spec", "minReplicas"]] == .int(sizing.replicas.min))
            #expect(hpa[path: ["spec", "maxReplicas"]] == .int(sizing.replicas.max))
            #expect(hpa[path: ["spec", "metrics"]][0][path: ["resource", "target", "averageUtilization"]] == .int(sizing.targetCPUUtilizationPercentage))
            #expect(hpa[path: ["spec", "scaleTargetRef", "name"]] == .string("demo-\(service.rawValue)"))
        }
    }

    @Test func productionAutoscalers_scaleFromTwoToFifty() throws {
        let children = desiredChildren(platform: try PlatformBuilder().build(), tier: try Fixtures.tier("production"), observed: ObservedState())
        let hpa = children.object(kind: "HorizontalPodAutoscaler", name: "demo-user")
        #expect(hpa[path: ["spec", "minReplicas"]] == 2)
        #expect(hpa[path: ["spec", "maxReplicas"]] == 50)
    }

    @Test func overrides_winOverTheTier() throws {
        let platform = try PlatformBuilder()
            .setting(["services", "search", "replicas"], ["min": 4, "max": 60])
            .setting(["services", "ai", "image"], ["tag": "2.0.0-rc.1"])
            .setting(["services", "user", "env"], ["FEATURE_SSO": "on", "A_FIRST": "1"])
            .build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        let hpa = children.object(kind: "HorizontalPodAutoscaler", name: "demo-search")
        #expect(hpa[path: ["spec", "minReplicas"]] == 4)
        #expect(hpa[path: ["spec", "maxReplicas"]] == 60)
        #expect(children.object(kind: "Deployment", name: "demo-ai").container["image"] == "123456789012.dkr.ecr.us-west-2.amazonaws.com/ai-service:2.0.0-rc.1")
        let env = children.object(kind: "Deployment", name: "demo-user").container["env"].arrayValue ?? []
        #expect(env.compactMap { $0["name"].stringValue } == ["MEDSEARCH_SERVICE", "A_FIRST", "FEATURE_SSO"])
    }

    @Test func disabledService_hasNoChildrenAndNoTrafficPaths() throws {
        let platform = try PlatformBuilder().disabling(.ai).build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        #expect(children.count == 32)
        #expect(!children.contains { $0[path: ["metadata", "name"]] == "demo-ai" })
        let config = children.object(kind: "ConfigMap", name: "demo-config")["data"]
        #expect(config["MEDSEARCH_AI_SERVICE_URL"].isNull)
        #expect(config["MEDSEARCH_SEARCH_SERVICE_URL"] == "http://demo-search.clinic.svc:8080")
        for policy in children.objects(kind: "NetworkPolicy") {
            #expect(!policy.serialized().contains("ai-service"), "\(policy["metadata"]["name"])")
        }
    }

    @Test func serviceAccount_carriesTheIRSAAnnotationOnlyWhenAnARNIsGiven() throws {
        let arn = "arn:aws:iam::123456789012:role/medsearch-ai"
        let platform = try PlatformBuilder().setting(["services", "ai", "iamRoleArn"], .string(arn)).build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        let ai = children.object(kind: "ServiceAccount", name: "demo-ai")
        #expect(ai[path: ["metadata", "annotations", "eks.amazonaws.com/role-arn"]] == .string(arn))
        let user = children.object(kind: "ServiceAccount", name: "demo-user")
        #expect(user[path: ["metadata", "annotations"]].isNull)
    }

    @Test(arguments: Fixtures.exampleTierNames)
    func podDisruptionBudgets_allowOnePodDownAtATime(tierName: String) throws {
        let children = desiredChildren(platform: try PlatformBuilder(tier: tierName).build(), tier: try Fixtures.tier(tierName), observed: ObservedState())
        for pdb in children.objects(kind: "PodDisruptionBudget") {
            #expect(pdb[path: ["spec", "maxUnavailable"]] == 1)
            #expect(pdb[path: ["spec", "minAvailable"]].isNull)
            #expect(pdb[path: ["spec", "selector", "matchLabels", "app.kubernetes.io/instance"]] == "demo")
        }
    }

    @Test func placement_followsTheTiersNodeGroups() throws {
        let dev = desiredChildren(platform: try PlatformBuilder(tier: "dev").build(), tier: try Fixtures.tier("dev"), observed: ObservedState())
        let devPod = dev.object(kind: "Deployment", name: "demo-search")[path: ["spec", "template", "spec"]]
        #expect(devPod[path: ["nodeSelector", "eks.amazonaws.com/nodegroup"]] == "system")

        let production = desiredChildren(platform: try PlatformBuilder().build(), tier: try Fixtures.tier("production"), observed: ObservedState())
        let productionPod = production.object(kind: "Deployment", name: "demo-search")[path: ["spec", "template", "spec"]]
        #expect(productionPod[path: ["nodeSelector", "eks.amazonaws.com/nodegroup"]] == "application")
        #expect(productionPod["tolerations"].isNull)
    }

    @Test func service_isClusterIPOnTheHTTPPort() throws {
        let children = desiredChildren(platform: try PlatformBuilder().build(), tier: try Fixtures.tier("production"), observed: ObservedState())
        let service = children.object(kind: "Service", name: "demo-content")
        #expect(service[path: ["spec", "type"]] == "ClusterIP")
        #expect(service[path: ["spec", "ports"]][0]["port"] == 8080)
        #expect(service[path: ["spec", "selector", "app.kubernetes.io/name"]] == "content-service")
    }
}
