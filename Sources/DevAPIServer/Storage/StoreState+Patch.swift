import APIMachinery
import JSON
import YAML

extension StoreState {
    /// PATCH: computes the patched object, then stores it through the same path as an update.
    mutating func patch(
        _ type: ResourceType, namespace: String?, name: String, subresource: String?, patchType: PatchType,
        body: [UInt8], options: WriteOptions, work: inout [GarbageCollectionWork]
    ) throws(APIError) -> (object: JSONValue, created: Bool) {
        try checkSubresource(subresource, type: type)
        let address = address(type, namespace: namespace, name: name)
        let existing = stored(address)
        let strict = options.fieldValidation == "Strict"

        if case .apply(let force) = patchType {
            guard let manager = options.fieldManager, !manager.isEmpty else {
                throw APIError(code: 422, reason: "Invalid",
                               message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                               details: StatusDetails(group: "meta.k8s.io", kind: "PatchOptions",
                                                      causes: [StatusCause(reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager")]))
            }
            var applied = try Self.parseApplyBody(body)
            guard case .object = applied else { throw .badRequest("the body of the request must be a YAML or JSON object") }
            if let bodyName = applied[path: ["metadata", "name"]].stringValue, bodyName != name {
                throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
            if applied["apiVersion"].stringValue == nil || applied["kind"].stringValue == nil {
                throw .badRequest("apiVersion and kind must be set in an apply patch")
            }
            try checkTypeMeta(&applied, type: type)
            applied[path: ["metadata", "name"]] = .string(name)
            let strategy = patchStrategy(for: type)
            let live = try existing.map { (object) throws(APIError) in EventConversion.present(try parse(object), as: type) }
            if let version = applied[path: ["metadata", "resourceVersion"]].stringValue, !version.isEmpty {
                guard let existing, version == String(existing.header.resourceVersion) else {
                    throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
                }
            }
            if subresource == "status" {
                // Applying to status only merges status; the rest of the applied object is ignored.
                applied = ["apiVersion": applied["apiVersion"], "kind": applied["kind"], "metadata": applied["metadata"],
                           "status": applied["status"]]
            }
            let merged: JSONValue
            do {
                merged = try ServerSideApply.apply(applied, to: live, manager: manager, force: force, now: now,
                                                   strategy: strategy, subresource: subresource)
            } catch {
                throw applyConflict(error, type: type, name: name)
            }
            guard let live, let existing else {
                guard subresource == nil else { throw .notFound(type, name) }
                return (try create(type, namespace: namespace, body: merged, options: options, ownership: .applied, work: &work), true)
            }
            var candidate = merged
            candidate[path: ["metadata", "resourceVersion"]] = live[path: ["metadata", "resourceVersion"]]
            let storageType = storageTypes[type.storageID] ?? type
            return (try commitUpdate(storageType, address: address, old: try parse(existing),
                                     candidate: EventConversion.present(candidate, as: storageType), subresource: subresource,
                                     ownership: .applied, dryRun: options.dryRun, strict: strict, work: &work), false)
        }

        guard let existing else { throw .notFound(type, name) }
        let stored = try parse(existing)
        let live = EventConversion.present(stored, as: type)
        let patched: JSONValue
        switch patchType {
        case .merge:
            patched = JSONMergePatch.apply(try Self.parsePatchBody(body), to: live)
        case .json:
            let operations = try Self.parsePatchBody(body)
            do { patched = try JSONPatch.apply(operations, to: live) } catch {
                throw APIError(code: error.statusCode, reason: error.statusCode == 422 ? "Invalid" : "BadRequest",
                               message: error.message)
            }
        case .strategic:
            guard !type.isCustomResource, let strategy = PatchStrategy.builtIn(apiVersion: type.apiVersion, kind: type.kind) else {
                throw APIError(code: 415, reason: "UnsupportedMediaType",
                               message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            }
            let patch = try Self.parsePatchBody(body)
            do { patched = try StrategicMergePatch.apply(patch, to: live, strategy: strategy) } catch {
                throw APIError(code: error.statusCode, reason: error.statusCode == 422 ? "Invalid" : "BadRequest",
                               message: error.message)
            }
        case .apply:
            // Handled before the switch; kept total so a refactor cannot turn it into a crash.
            throw .internalError("apply patch reached the non-apply path")
        }
        var candidate = patched
        // A patch may carry a resourceVersion as a precondition; otherwise it applies to the current version.
        let requested = patched[path: ["metadata", "resourceVersion"]].stringValue ?? ""
        if !requested.isEmpty && requested != String(existing.header.resourceVersion) {
            throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        candidate[path: ["metadata", "resourceVersion"]] = .string(String(existing.header.resourceVersion))
        let newName = candidate[path: ["metadata", "name"]]
        if !newName.isNull && newName != .string(name) {
            throw .badRequest("the name of the object (\(newName.stringValue ?? newName.serialized())) does not match the name on the URL (\(name))")
        }
        let storageType = storageTypes[type.storageID] ?? type
        return (try commitUpdate(storageType, address: address, old: stored, candidate: EventConversion.present(candidate, as: storageType),
                                 subresource: subresource, ownership: .update(manager: options.fieldManager ?? "unknown"),
                                 dryRun: options.dryRun, strict: strict, work: &work), false)
    }

    static func parsePatchBody(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do { return try JSONValue.parse(body) } catch {
            throw .badRequest("error decoding patch: \(error.message)")
        }
    }

    /// Apply bodies are YAML (of which JSON is a subset).
    static func parseApplyBody(_ body: [UInt8]) throws(APIError) -> JSONValue {
        if let value = try? JSONValue.parse(body) { return value }
        do {
            let documents = try YAMLParser.parseDocuments(bytes: body)
            guard documents.count == 1 else { throw APIError.badRequest("error decoding YAML: expected one document, found \(documents.count)") }
            return documents[0].value
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("error decoding YAML: \(error)")
        }
    }

    func applyConflict(_ error: ApplyError, type: ResourceType, name: String) -> APIError {
        switch error {
        case .conflicts(let conflicts):
            return APIError(code: 409, reason: "Conflict", message: error.description,
                            details: StatusDetails(name: name, group: type.group, kind: type.plural,
                                                   causes: conflicts.map { conflict in
                                                       StatusCause(reason: "FieldManagerConflict",
                                                                   message: conflict.message, field: conflict.field)
                                                   }))
        default:
            return APIError(code: 400, reason: "BadRequest", message: error.description)
        }
    }
}
