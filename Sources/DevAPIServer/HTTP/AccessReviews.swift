import JSON

/// `SelfSubjectAccessReview` and `SelfSubjectReview`, answered without a store: the dev server
/// has no RBAC, so every authenticated user may do everything, and these say so. They make
/// `kubectl auth can-i` and `kubectl auth whoami` work.
enum AccessReviews {
    static let types: [ResourceType] = [
        ResourceType(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews",
                     namespaced: false, hasStatusSubresource: false, verbs: ["create"]),
        ResourceType(group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", plural: "selfsubjectreviews",
                     namespaced: false, hasStatusSubresource: false, verbs: ["create"]),
    ]

    static func type(group: String, version: String, plural: String) -> ResourceType? {
        types.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    static func respond(_ request: APIRequest, type: ResourceType, path: ResourcePath, user: RequestUser) -> APIResponse {
        guard path.name == nil, path.namespace == nil else { return .failure(.notFoundPath()) }
        guard request.method == "POST" else { return .failure(.methodNotAllowed()) }
        var review: JSONValue
        if request.contentType == ProtobufBodies.contentType {
            // kubectl's typed client sends protobuf; the answer does not depend on the question.
            guard request.body.starts(with: [0x6b, 0x38, 0x73, 0x00]) else { return .failure(ProtobufBodies.unsupported("missing the k8s protobuf envelope")) }
            review = ["spec": .emptyObject]
        } else {
            do { review = try JSONValue.parse(request.body) } catch { return .failure(.badRequest("error decoding \(type.kind): \(error)")) }
        }
        guard case .object = review else { return .failure(.badRequest("the object provided is unrecognized (must be of type object)")) }
        review["apiVersion"] = .string(type.apiVersion)
        review["kind"] = .string(type.kind)
        if review["metadata"].isNull { review["metadata"] = ["creationTimestamp": .null] }
        if type.kind == "SelfSubjectAccessReview" {
            review["status"] = ["allowed": true, "reason": "the medsearch development API server has no RBAC"]
        } else {
            review["status"] = ["userInfo": ["username": .string(user.name), "groups": .array(user.groups.map(JSONValue.string))]]
        }
        return .json(201, review)
    }
}

/// Who an authenticated request came from.
struct RequestUser: Sendable, Equatable {
    var name: String
    var groups: [String]
    static let administrator = RequestUser(name: "dev-admin", groups: ["system:masters", "system:authenticated"])
}
