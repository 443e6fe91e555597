import JSON
import PlatformAPI

/// Names, labels and the owner reference every child carries.
public enum ChildMetadata {
    public static let managedBy = "medsearch-operator"
    public static let partOf = "medsearch"
    public static let configHashAnnotation = "platform.medsearch.io/config-hash"
    public static let roleArnAnnotation = "eks.amazonaws.com/role-arn"

    public static func name(_ platform: MedicalSearchPlatform, _ service: PlatformService) -> String {
        "\(platform.name)-\(service.rawValue)"
    }

    public static func configMapName(_ platform: MedicalSearchPlatform) -> String { "\(platform.name)-config" }
    public static func secretName(_ platform: MedicalSearchPlatform) -> String { "\(platform.name)-credentials" }

    /// The labels a Deployment selects on; they never change for the life of a platform
    /// because a Deployment's selector is immutable.
    public static func selectorLabels(_ platform: MedicalSearchPlatform, _ service: PlatformService) -> JSONValue {
        [
            "app.kubernetes.io/name": .string(service.repositoryName),
            "app.kubernetes.io/instance": .string(platform.name),
        ]
    }

    public static func labels(_ platform: MedicalSearchPlatform, component: String, name: String) -> JSONValue {
        [
            "app.kubernetes.io/name": .string(name),
            "app.kubernetes.io/instance": .string(platform.name),
            "app.kubernetes.io/component": .string(component),
            "app.kubernetes.io/part-of": .string(partOf),
            "app.kubernetes.io/managed-by": .string(managedBy),
        ]
    }

    public static func labels(_ platform: MedicalSearchPlatform, _ service: PlatformService) -> JSONValue {
        labels(platform, component: service.rawValue, name: service.repositoryName)
    }

    /// The controller reference to the platform; nil without a uid (rendering without a
    /// cluster). An owner reference whose uid matches no object makes the garbage collector
    /// delete the child, so none is better than a made-up one: the operator adds the real one
    /// when it first applies the child.
    public static func ownerReference(_ platform: MedicalSearchPlatform) -> JSONValue? {
        guard let uid = platform.uid else { return nil }
        return [
            "apiVersion": .string(PlatformAPIGroup.apiVersion),
            "kind": .string(MedicalSearchPlatform.kind),
            "name": .string(platform.name),
            "uid": .string(uid),
            "controller": true,
            "blockOwnerDeletion": true,
        ]
    }

    static func metadata(_ platform: MedicalSearchPlatform, name: String, labels: JSONValue, annotations: JSONValue? = nil) -> JSONValue {
        var m: JSONValue = [
            "name": .string(name),
            "namespace": .string(platform.namespace),
            "labels": labels,
        ]
        if let owner = ownerReference(platform) { m["ownerReferences"] = [owner] }
        if let annotations, annotations.objectValue?.isEmpty == false { m["annotations"] = annotations }
        return m
    }
}
