import APIMachinery
import Foundation
import JSON

/// How the managedFields of a write are computed.
enum FieldOwnership {
    /// A create, update or non-apply patch: record the manager's changed fields as an Update.
    case update(manager: String)
    /// Server-side apply already produced the managedFields.
    case applied
}

extension StoreState {
    // MARK: Create

    mutating func create(
        _ type: ResourceType, namespace: String?, body: JSONValue, options: WriteOptions, ownership: FieldOwnership? = nil,
        work: inout [GarbageCollectionWork]
    ) throws(APIError) -> JSONValue {
        guard case .object = body else { throw .badRequest("the body of the request must be a JSON object") }
        if EventConversion.isEventsAPI(type), let core = typesByKey[EventConversion.coreKey] {
            var event = body
            try checkTypeMeta(&event, type: type)
            return try create(core, namespace: namespace, body: EventConversion.toCore(event), options: options,
                              ownership: ownership, work: &work)
        }
        if let crd = crdName(owning: type.storageID),
           stored(ObjectAddress(storage: ResourceType.crdKey.storageID, key: crd))?.header.deletionTimestamp != nil {
            throw .methodNotAllowed("create not allowed while custom resource definition is terminating")
        }
        var object = body
        try checkTypeMeta(&object, type: type)
        let namespace = try resolveNamespace(&object, type: type, requested: namespace)
        var name = object[path: ["metadata", "name"]].stringValue ?? ""
        if name.isEmpty {
            guard let prefix = object[path: ["metadata", "generateName"]].stringValue, !prefix.isEmpty else {
                throw .invalid(type, "", [StatusCause(reason: "FieldValueRequired",
                                                      message: "Required value: name or generateName is required",
                                                      field: "metadata.name")])
            }
            repeat { name = NameValidation.generate(from: prefix) }
            while stored(address(type, namespace: namespace, name: name)) != nil
            object[path: ["metadata", "name"]] = .string(name)
        }
        try validateName(name, type: type)
        let labelCauses = LabelValidation.causes(object[path: ["metadata", "labels"]])
        if !labelCauses.isEmpty { throw .invalid(type, name, labelCauses) }
        if let namespace { try checkNamespaceAcceptsContent(namespace, type: type, name: name) }
        let address = address(type, namespace: namespace, name: name)
        if stored(address) != nil { throw .alreadyExists(type, name) }

        if type.hasStatusSubresource { object["status"] = .null }
        BuiltInDefaults.apply(to: &object, type: type, old: nil)
        if type.storageID == ResourceType.crdKey.storageID { try prepareCustomResourceDefinition(&object, type: type) }
        try validateAgainstSchema(&object, type: type, name: name, strict: options.fieldValidation == "Strict")
        let builtInCauses = BuiltInValidation.causes(for: object, type: type)
        if !builtInCauses.isEmpty { throw .invalid(type, name, builtInCauses) }

        let now = self.now
        var metadata = object["metadata"]
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(now)
        metadata["deletionTimestamp"] = .null
        metadata["deletionGracePeriodSeconds"] = .null
        metadata["generation"] = type.tracksGeneration ? .int(1) : .null
        metadata["resourceVersion"] = .null
        metadata["managedFields"] = .null
        if object["metadata"]["generateName"].stringValue?.isEmpty == true { metadata["generateName"] = .null }
        object["metadata"] = metadata
        switch ownership ?? .update(manager: options.fieldManager ?? "unknown") {
        case .update(let manager):
            object = ServerSideApply.recordUpdate(old: nil, new: object, manager: manager, operation: "Update",
                                                  subresource: nil, now: now, strategy: patchStrategy(for: type))
        case .applied:
            object[path: ["metadata", "managedFields"]] = body[path: ["metadata", "managedFields"]]
        }
        if options.dryRun {
            object[path: ["metadata", "resourceVersion"]] = .null
            return object
        }
        object[path: ["metadata", "resourceVersion"]] = .string(String(nextResourceVersion()))
        put(object, type: type, at: address, eventType: .added)
        if type.storageID == ResourceType.crdKey.storageID { registerCustomResources(from: object) }
        if !(object["metadata"]["ownerReferences"].arrayValue ?? []).isEmpty { work.append(.settle(address)) }
        return object
    }

    /// apiVersion/kind in a body must name the endpoint's type; absent ones are filled in.
    func checkTypeMeta(_ object: inout JSONValue, type: ResourceType) throws(APIError) {
        if let apiVersion = object["apiVersion"].stringValue, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            let sameGroupCustom = type.isCustomResource && apiVersion.hasPrefix(type.group + "/")
            if !sameGroupCustom {
                throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
            }
        }
        if let kind = object["kind"].stringValue, !kind.isEmpty, kind != type.kind {
            throw .badRequest("the kind in the data (\(kind)) does not match the expected kind (\(type.kind))")
        }
        object["apiVersion"] = .string(type.apiVersion)
        object["kind"] = .string(type.kind)
    }

    /// The namespace the object lands in: the request's, which the body may repeat but not contradict.
    func resolveNamespace(_ object: inout JSONValue, type: ResourceType, requested: String?) throws(APIError) -> String? {
        guard type.namespaced else {
            object[path: ["metadata", "namespace"]] = .null
            return nil
        }
        let inBody = object[path: ["metadata", "namespace"]].stringValue ?? ""
        if let requested, !requested.isEmpty {
            if !inBody.isEmpty && inBody != requested {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object[path: ["metadata", "namespace"]] = .string(requested)
            return requested
        }
        guard !inBody.isEmpty else {
            throw .badRequest("the namespace of the object (\(type.kind)) is required")
        }
        return inBody
    }

    func validateName(_ name: String, type: ResourceType) throws(APIError) {
        let problems = NameValidation.problems(name: name, type: type)
        guard problems.isEmpty else {
            throw .invalid(type, name, problems.map {
                StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \($0)", field: "metadata.name")
            })
        }
    }

    func checkNamespaceAcceptsContent(_ namespace: String, type: ResourceType, name: String) throws(APIError) {
        guard let object = stored(ObjectAddress(storage: ResourceType.namespaceKey.storageID, key: namespace)) else {
            throw APIError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
                           details: StatusDetails(name: namespace, kind: "namespaces"))
        }
        if object.header.deletionTimestamp != nil {
            throw APIError(
                code: 403, reason: "Forbidden",
                message: "\(type.key.groupResource) \"\(name)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                details: StatusDetails(name: name, group: type.group, kind: type.plural,
                                       causes: [StatusCause(reason: "NamespaceTerminating",
                                                            message: "namespace \(namespace) is being terminated",
                                                            field: "metadata.namespace")]))
        }
    }

    /// Prunes, defaults and validates a custom resource against its CRD's structural schema.
    /// `old` is the stored object on updates, so CEL transition rules (`oldSelf`) are checked
    /// as the real server checks them; on create there is no old object and they are skipped.
    func validateAgainstSchema(
        _ object: inout JSONValue, type: ResourceType, name: String, strict: Bool, old: JSONValue? = nil
    ) throws(APIError) {
        guard let schema = schemas[type.key] else { return }
        // apiVersion and kind are the server's, not the schema's, to keep.
        let apiVersion = object["apiVersion"], kind = object["kind"]
        let pruned = schema.prune(&object)
        if strict && !pruned.isEmpty {
            throw .badRequest("strict decoding error: " + pruned.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        }
        schema.applyDefaults(to: &object)
        object["apiVersion"] = apiVersion
        object["kind"] = kind
        let errors = schema.validate(object, old: old).filter { !$0.field.hasPrefix("metadata") && $0.field != "apiVersion" && $0.field != "kind" }
        if !errors.isEmpty {
            throw .invalid(type, name, errors.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field) })
        }
    }

    // MARK: Update

    /// PUT semantics: optimistic concurrency, status separation, generation, no-op detection.
    mutating func update(
        _ type: ResourceType, namespace: String?, name: String, subresource: String?, body: JSONValue,
        options: WriteOptions, ownership: FieldOwnership? = nil, work: inout [GarbageCollectionWork]
    ) throws(APIError) -> (object: JSONValue, created: Bool) {
        guard case .object = body else { throw .badRequest("the body of the request must be a JSON object") }
        try checkSubresource(subresource, type: type)
        if EventConversion.isEventsAPI(type), let core = typesByKey[EventConversion.coreKey] {
            var event = body
            try checkTypeMeta(&event, type: type)
            return try update(core, namespace: namespace, name: name, subresource: subresource, body: EventConversion.toCore(event),
                              options: options, ownership: ownership, work: &work)
        }
        let address = address(type, namespace: namespace, name: name)
        let bodyName = body[path: ["metadata", "name"]]
        if !bodyName.isNull && bodyName != "" && bodyName != .string(name) {
            throw .badRequest("the name of the object (\(bodyName.stringValue ?? bodyName.serialized())) does not match the name on the URL (\(name))")
        }
        guard let existing = stored(address) else {
            guard type.allowsCreateOnUpdate, subresource == nil else { throw .notFound(type, name) }
            if let version = body[path: ["metadata", "resourceVersion"]].stringValue, !version.isEmpty {
                throw .notFound(type, name)
            }
            var object = body
            object[path: ["metadata", "name"]] = .string(name)
            return (try create(type, namespace: namespace, body: object, options: options, ownership: ownership, work: &work), true)
        }
        var object = body
        try checkTypeMeta(&object, type: type)
        _ = try resolveNamespace(&object, type: type, requested: namespace)
        // A uid in the body is a precondition: the client means that incarnation of the object.
        if let uid = object[path: ["metadata", "uid"]].stringValue, !uid.isEmpty, uid != existing.header.uid {
            throw .conflict(type, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(existing.header.uid)")
        }
        let version = object[path: ["metadata", "resourceVersion"]].stringValue ?? ""
        if version.isEmpty {
            if type.isCustomResource || type.storageID == ResourceType.crdKey.storageID {
                throw .invalid(type, name, [StatusCause(reason: "FieldValueInvalid",
                                                        message: "Invalid value: 0x0: must be specified for an update",
                                                        field: "metadata.resourceVersion")])
            }
        } else if version != String(existing.header.resourceVersion) {
            throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        let old = try parse(existing)
        return (try commitUpdate(type, address: address, old: old, candidate: object, subresource: subresource,
                                 ownership: ownership ?? .update(manager: options.fieldManager ?? "unknown"),
                                 dryRun: options.dryRun, strict: options.fieldValidation == "Strict", work: &work), false)
    }

    func checkSubresource(_ subresource: String?, type: ResourceType) throws(APIError) {
        guard let subresource else { return }
        if subresource == "status" && type.hasStatusSubresource { return }
        throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource",
                       details: StatusDetails())
    }

    /// Turns a candidate into the stored successor of `old`, the step every update and patch shares.
    mutating func commitUpdate(
        _ type: ResourceType, address: ObjectAddress, old: JSONValue, candidate: JSONValue, subresource: String?,
        ownership: FieldOwnership, dryRun: Bool, strict: Bool = false, work: inout [GarbageCollectionWork]
    ) throws(APIError) -> JSONValue {
        var object: JSONValue
        if subresource == "status" {
            // The status endpoint writes status and nothing else.
            object = old
            object["status"] = candidate["status"]
            object[path: ["metadata", "managedFields"]] = candidate[path: ["metadata", "managedFields"]]
        } else {
            object = candidate
            if type.hasStatusSubresource { object["status"] = old["status"] }
            BuiltInDefaults.apply(to: &object, type: type, old: old)
        }
        object["apiVersion"] = .string(type.apiVersion)
        object["kind"] = .string(type.kind)
        // Identity and lifecycle fields belong to the server.
        for field in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation", "resourceVersion"] {
            object[path: ["metadata", field]] = old[path: ["metadata", field]]
        }
        if let deleting = old[path: ["metadata", "deletionTimestamp"]].stringValue, !deleting.isEmpty {
            let oldFinalizers = Set((old[path: ["metadata", "finalizers"]].arrayValue ?? []).compactMap(\.stringValue))
            let newFinalizers = (object[path: ["metadata", "finalizers"]].arrayValue ?? []).compactMap(\.stringValue)
            if let added = newFinalizers.first(where: { !oldFinalizers.contains($0) }) {
                throw .invalid(type, address.key.split(separator: "/").last.map(String.init) ?? "",
                               [StatusCause(reason: "FieldValueForbidden",
                                            message: "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"\(added)\"}",
                                            field: "metadata.finalizers")])
            }
        }
        if type.storageID == ResourceType.crdKey.storageID {
            object["status"] = old["status"]
            if subresource == nil { try prepareCustomResourceDefinition(&object, type: type) }
        }
        try validateAgainstSchema(&object, type: type, name: object[path: ["metadata", "name"]].stringValue ?? "",
                                  strict: strict && subresource == nil, old: old)
        let labelCauses = LabelValidation.causes(object[path: ["metadata", "labels"]])
            + (subresource == nil ? BuiltInValidation.causes(for: object, type: type) : [])
        if !labelCauses.isEmpty {
            throw .invalid(type, object[path: ["metadata", "name"]].stringValue ?? "", labelCauses)
        }
        if type.tracksGeneration && generationChanges(type, old: old, new: object) {
            object[path: ["metadata", "generation"]] = .int((old[path: ["metadata", "generation"]].intValue ?? 0) + 1)
        }
        let now = self.now
        if case .update(let manager) = ownership {
            var previous = object
            previous[path: ["metadata", "managedFields"]] = old[path: ["metadata", "managedFields"]]
            object = ServerSideApply.recordUpdate(old: old, new: previous, manager: manager, operation: "Update",
                                                  subresource: subresource, now: now, strategy: patchStrategy(for: type))
        }
        // An update that changes nothing but managedFields timestamps is a no-op: no new resourceVersion, no event.
        if Self.sameIgnoringManagedFieldTimes(old, object) { return old }
        if dryRun { return object }
        object[path: ["metadata", "resourceVersion"]] = .string(String(nextResourceVersion()))
        put(object, type: type, at: address, eventType: .modified)
        if type.storageID == ResourceType.crdKey.storageID { registerCustomResources(from: object) }
        work.append(.settle(address))
        return object
    }

    /// Whether `metadata.generation` moves: built-ins on spec changes; custom resources on any change
    /// outside metadata (and outside status when status is a subresource).
    func generationChanges(_ type: ResourceType, old: JSONValue, new: JSONValue) -> Bool {
        if type.isCustomResource {
            var a = old, b = new
            a["metadata"] = .null
            b["metadata"] = .null
            if type.hasStatusSubresource {
                a["status"] = .null
                b["status"] = .null
            }
            return !a.semanticallyEquals(b)
        }
        return !old["spec"].semanticallyEquals(new["spec"])
    }

    static func sameIgnoringManagedFieldTimes(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func stripped(_ value: JSONValue) -> JSONValue {
            var value = value
            if let entries = value[path: ["metadata", "managedFields"]].arrayValue {
                value[path: ["metadata", "managedFields"]] = .array(entries.map { entry in
                    var entry = entry
                    entry["time"] = .null
                    return entry
                })
            }
            return value
        }
        return stripped(a).semanticallyEquals(stripped(b))
    }
}
