import JSON
@testable import KubeAPI
import Testing

struct ModelTests {
    @Test func deployment_readModifyWrite_preservesUnknownFieldsAndManagedFields() throws {
        let original = try JSONValue.parse(
            """
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"search","namespace":"prod","uid":"u1","resourceVersion":"42","generation":3,
               "labels":{"app":"search"},"annotations":{"other-controller/note":"keep me"},
               "managedFields":[{"manager":"kubectl","operation":"Apply","fieldsV1":{"f:spec":{}}}],
               "futureMetadataField":{"x":1}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"search"}},"progressDeadlineSeconds":600,
               "template":{"metadata":{"labels":{"app":"search"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}},
               "someNewSpecField":[1,2.5,null,true]},
             "status":{"readyReplicas":2,"availableReplicas":1,"observedGeneration":3,
               "conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable"}]}}
            """)
        var deployment = Deployment(object: original)
        #expect(deployment.replicas == 2)
        #expect(deployment.readyReplicas == 2)
        #expect(deployment.availableReplicas == 1)
        #expect(deployment.observedGeneration == 3)
        #expect(deployment.metadata.generation == 3)
        #expect(deployment.conditions.first?.type == "Available")
        #expect(deployment.selectorMatchLabels == ["app": "search"])
        deployment.replicas = 5
        deployment.metadata.labels["tier"] = "gold"
        let written = try JSONValue.parse(deployment.object.serializedBytes())
        var expected = original
        expected[path: ["spec", "replicas"]] = 5
        expected[path: ["metadata", "labels", "tier"]] = "gold"
        #expect(written == expected)
        #expect(written[path: ["metadata", "managedFields"]] == original[path: ["metadata", "managedFields"]])
        #expect(written[path: ["spec", "someNewSpecField"]] == [1, 2.5, nil, true])
    }

    @Test func newObject_hasApiVersionKindAndNamespaceOnlyWhenNamespaced() {
        let hpa = HorizontalPodAutoscaler(name: "ai", namespace: "prod")
        #expect(hpa.object == [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "ai", "namespace": "prod"],
        ])
        let crd = CustomResourceDefinition(name: "x.example.com", namespace: "ignored")
        #expect(crd.apiVersion == "apiextensions.k8s.io/v1")
        #expect(crd.metadata.namespace == nil)
    }

    @Test func metadata_ownerReferencesAndFinalizers_roundTrip() {
        var config = ConfigMap(name: "c", namespace: "n")
        config.metadata.ownerReferences = [OwnerReference(apiVersion: "platform.medsearch.io/v1alpha1", kind: "MedicalSearchPlatform", name: "p", uid: "u")]
        config.metadata.finalizers = ["medsearch.io/cleanup"]
        config.data = ["a": "1"]
        let reread = ConfigMap(object: config.object)
        #expect(reread.metadata.ownerReferences.first?.uid == "u")
        #expect(reread.metadata.ownerReferences.first?.controller == true)
        #expect(reread.metadata.finalizers == ["medsearch.io/cleanup"])
        #expect(reread.data == ["a": "1"])
        config.metadata.finalizers = []
        #expect(config.object[path: ["metadata", "finalizers"]] == .null)
    }

    @Test func secret_dataIsBase64OnTheWireAndNeverInDescription() {
        var secret = Secret(name: "db", namespace: "prod")
        secret.data = ["password": Array("hunter2".utf8)]
        #expect(secret.object[path: ["data", "password"]] == "aHVudGVyMg==")
        #expect(Secret(object: secret.object).data["password"] == Array("hunter2".utf8))
        #expect(secret.description.contains("password"))
        #expect(!secret.description.contains("hunter2"))
        #expect(!secret.description.contains("aHVudGVyMg"))
    }

    @Test func podDisruptionBudget_intOrString_readsBothForms() {
        var pdb = PodDisruptionBudget(name: "p", namespace: "n")
        pdb.minAvailable = .string("50%")
        pdb.maxUnavailable = .int(1)
        #expect(pdb.object[path: ["spec", "minAvailable"]] == "50%")
        #expect(PodDisruptionBudget(object: pdb.object).maxUnavailable == .int(1))
    }

    @Test func lease_and_events_exposeTheFieldsLeaderElectionAndRecordersUse() {
        var lease = Lease(name: "medsearch-operator", namespace: "ops")
        lease.holderIdentity = "pod-1"
        lease.leaseDurationSeconds = 15
        lease.renewTime = "2026-11-25T21:00:00.000000Z"
        #expect(lease.object["spec"] == ["holderIdentity": "pod-1", "leaseDurationSeconds": 15, "renewTime": "2026-11-25T21:00:00.000000Z"])
        var event = Event(name: "e", namespace: "ops")
        event.reason = "Provisioned"
        event.type = "Normal"
        event.regarding = ["kind": "MedicalSearchPlatform", "name": "p"]
        #expect(event.object["regarding"]["kind"] == "MedicalSearchPlatform")
        #expect(Event.resource.group == "events.k8s.io")
        #expect(CoreEvent.resource.apiVersion == "v1")
    }

    @Test func customResourceDefinition_isEstablished_followsCondition() {
        var crd = CustomResourceDefinition(name: "msp")
        #expect(!crd.isEstablished)
        crd[path: "status", "conditions"] = [["type": "Established", "status": "True"]]
        #expect(crd.isEstablished)
    }

    @Test func networkPolicy_emptySelectorSelectsAllPods() {
        var policy = NetworkPolicy(name: "deny", namespace: "n")
        policy.podSelectorMatchLabels = [:]
        policy.policyTypes = ["Ingress"]
        #expect(policy.object[path: ["spec", "podSelector"]] == .emptyObject)
        #expect(policy.policyTypes == ["Ingress"])
    }
}
