import APIMachinery
import JSON

/// The `/scale` subresource of Deployments (`autoscaling/v1` Scale), which `kubectl scale`
/// and HPAs use; reads and writes go through the Deployment itself.
///
/// Caveats: custom resources' `subresources.scale` is not served.
struct ScaleSubresource: Sendable {
    let store: ObjectStore

    static func serves(_ type: ResourceType) -> Bool { type.group == "apps" && type.plural == "deployments" }

    func respond(_ request: APIRequest, _ key: ResourceKey, namespace: String?, name: String) throws(APIError) -> APIResponse {
        let deployment = try store.get(key, namespace: namespace, name: name, subresource: nil)
        let current = Self.scale(of: deployment)
        let desired: JSONValue
        switch request.method {
        case "GET":
            return .json(200, current)
        case "PUT":
            do { desired = try JSONValue.parse(request.body) } catch { throw .badRequest("error decoding Scale: \(error)") }
            if let bodyName = desired[path: ["metadata", "name"]].stringValue, bodyName != name {
                throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
        case "PATCH":
            let patch: JSONValue
            do { patch = try JSONValue.parse(request.body) } catch { throw .badRequest("error decoding patch: \(error)") }
            switch request.contentType {
            case "application/merge-patch+json", "application/strategic-merge-patch+json":
                // Scale has no lists, so strategic merge and JSON merge agree.
                desired = JSONMergePatch.apply(patch, to: current)
            case "application/json-patch+json":
                do { desired = try JSONPatch.apply(patch, to: current) } catch {
                    throw APIError(code: error.statusCode, reason: error.statusCode == 422 ? "Invalid" : "BadRequest", message: error.message)
                }
            default:
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
            }
        default:
            throw .methodNotAllowed()
        }
        guard let replicas = desired[path: ["spec", "replicas"]].intValue, replicas >= 0 else {
            throw APIError(code: 422, reason: "Invalid", message: "Scale.autoscaling \"\(name)\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0",
                           details: StatusDetails(name: name, group: "autoscaling", kind: "Scale", causes: [
                               StatusCause(reason: "FieldValueInvalid", message: "Invalid value: must be greater than or equal to 0", field: "spec.replicas"),
                           ]))
        }
        // Carrying the client's resourceVersion makes a stale scale write a 409, as on a real server.
        var change: JSONValue = ["spec": ["replicas": .int(replicas)]]
        if let resourceVersion = desired[path: ["metadata", "resourceVersion"]].stringValue, !resourceVersion.isEmpty {
            change[path: ["metadata", "resourceVersion"]] = .string(resourceVersion)
        }
        var options = WriteOptions()
        options.fieldManager = request.query["fieldManager"]
        options.dryRun = request.query["dryRun"] == "All"
        let updated = try store.patch(key, namespace: namespace, name: name, subresource: nil, type: .merge, body: change.serializedBytes(), options: options)
        return .json(200, Self.scale(of: updated.object))
    }

    static func scale(of deployment: JSONValue) -> JSONValue {
        let metadata = deployment["metadata"]
        var scaleMetadata = JSONValue.emptyObject
        for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] where !metadata[field].isNull {
            scaleMetadata[field] = metadata[field]
        }
        let labels = deployment[path: ["spec", "selector", "matchLabels"]].objectValue ?? [:]
        let selector = labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }.joined(separator: ",")
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scaleMetadata,
            "spec": ["replicas": .int(deployment[path: ["spec", "replicas"]].intValue ?? 1)],
            "status": ["replicas": .int(deployment[path: ["status", "replicas"]].intValue ?? 0), "selector": .string(selector)],
        ]
    }
}
