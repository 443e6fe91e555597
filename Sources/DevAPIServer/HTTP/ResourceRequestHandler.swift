import JSON
import YAML

/// Maps one resource URL + verb + query to an `ObjectStore` call, the way the real server's REST handlers do.
struct ResourceRequestHandler: Sendable {
    let store: ObjectStore
    let watchDefaults: WatchDefaults

    func respond(to request: APIRequest, path: ResourcePath, type: ResourceType) async -> APIResponse {
        do {
            return try await dispatch(request, path, type)
        } catch {
            return .failure(error)
        }
    }

    private func dispatch(_ request: APIRequest, _ path: ResourcePath, _ type: ResourceType) async throws(APIError) -> APIResponse {
        let key = ResourceKey(group: type.group, version: type.version, plural: type.plural)
        if type.namespaced == false, path.namespace != nil { throw .notFoundPath() }
        let namespace = type.namespaced ? path.namespace : nil
        if path.subresource == "scale", ScaleSubresource.serves(type), let name = path.name {
            return try ScaleSubresource(store: store).respond(request, key, namespace: namespace, name: name)
        }
        if let sub = path.subresource, !(sub == "status" && type.hasStatusSubresource) { throw .notFoundPath() }
        let query = request.query

        guard let name = path.name else {
            // Collection URL.
            switch request.method {
            case "GET":
                let options = try listOptions(query)
                if isTrue(query["watch"]) {
                    return try watch(key, type, namespace, options, request)
                }
                return try list(key, type, namespace, options, request)
            case "POST":
                guard type.namespaced == false || namespace != nil else { throw .notFoundPath() }
                var body = try decodeObject(request)
                try checkKind(&body, type)
                if type.namespaced { try checkNamespace(&body, namespace!) }
                if body[path: ["metadata", "name"]].stringValue == nil, let prefix = body[path: ["metadata", "generateName"]].stringValue {
                    body[path: ["metadata", "name"]] = .string(prefix + Self.randomSuffix())
                }
                let created = try store.create(key, namespace: namespace, body: body, options: try writeOptions(query))
                return .json(201, created)
            case "DELETE":
                let options = try deleteOptions(request)
                let result = try store.deleteCollection(key, namespace: namespace, list: try listOptions(query), options: options)
                return .json(200, result)
            default:
                throw .methodNotAllowed()
            }
        }

        switch request.method {
        case "GET":
            if isTrue(query["watch"]) {
                var options = try listOptions(query)
                options.fieldSelector = "metadata.name=\(name)"
                return try watch(key, type, namespace, options, request)
            }
            let object = try store.get(key, namespace: namespace, name: name, subresource: path.subresource)
            if request.acceptsTable {
                return .json(200, TableRenderer(type: type).table(for: [object], resourceVersion: nil, continueToken: nil, remaining: nil))
            }
            return .json(200, object)
        case "PUT":
            var body = try decodeObject(request)
            try checkKind(&body, type)
            if type.namespaced, let namespace { try checkNamespace(&body, namespace) }
            let bodyName = body[path: ["metadata", "name"]].stringValue ?? ""
            if bodyName != name {
                throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
            let result = try store.update(key, namespace: namespace, name: name, subresource: path.subresource, body: body, options: try writeOptions(query))
            return .json(result.created ? 201 : 200, result.object)
        case "PATCH":
            let patchType: PatchType
            switch request.contentType {
            case "application/merge-patch+json": patchType = .merge
            case "application/json-patch+json": patchType = .json
            case "application/strategic-merge-patch+json":
                // The real server refuses strategic merge for custom resources: there are no Go structs to read patch strategies from.
                guard Self.isBuiltInGroup(type.group) else {
                    throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
                }
                patchType = .strategic
            case "application/apply-patch+yaml", "application/apply-patch+cbor":
                let options = try writeOptions(query)
                guard let manager = options.fieldManager, !manager.isEmpty else {
                    throw APIError(code: 400, reason: "BadRequest", message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
                }
                patchType = .apply(force: isTrue(query["force"]))
            default:
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")
            }
            if request.body.isEmpty { throw .badRequest("the body of the request was empty") }
            let result = try store.patch(key, namespace: namespace, name: name, subresource: path.subresource, type: patchType, body: request.body, options: try writeOptions(query))
            return .json(result.created ? 201 : 200, result.object)
        case "DELETE":
            guard path.subresource == nil else { throw .methodNotAllowed() }
            let options = try deleteOptions(request)
            switch try store.delete(key, namespace: namespace, name: name, options: options) {
            case .deleted(let object): return .json(200, object)
            case .pending(let object):
                // The real handler answers 202 only for the legacy `orphanDependents: false`;
                // a delete held by finalizers (foreground, namespaces) is otherwise a plain 200.
                let legacyCascade = (try? JSONValue.parse(request.body))?["orphanDependents"].boolValue == false
                return .json(legacyCascade ? 202 : 200, object)
            }
        default:
            throw .methodNotAllowed()
        }
    }

    private func list(_ key: ResourceKey, _ type: ResourceType, _ namespace: String?, _ options: ListOptions, _ request: APIRequest) throws(APIError) -> APIResponse {
        let result = try store.list(key, namespace: namespace, options: options)
        if request.acceptsTable {
            return .json(200, TableRenderer(type: type).table(for: result.items, resourceVersion: result.resourceVersion, continueToken: result.continueToken, remaining: result.remainingItemCount))
        }
        // Items stay serialized: a 50,000-object list is concatenated, not re-encoded.
        return .complete(status: 200, contentType: "application/json", body: result.serializedList(), headers: [])
    }

    private func watch(_ key: ResourceKey, _ type: ResourceType, _ namespace: String?, _ options: ListOptions, _ request: APIRequest) throws(APIError) -> APIResponse {
        let bookmarks = isTrue(request.query["allowWatchBookmarks"])
        let subscription = try store.watch(key, namespace: namespace, options: options, allowBookmarks: bookmarks)
        var timeout = watchDefaults.randomTimeout()
        if let raw = request.query["timeoutSeconds"] {
            guard let seconds = Int(raw), seconds >= 0 else { throw .badRequest("invalid timeoutSeconds: \(raw)") }
            if seconds > 0 { timeout = Duration.seconds(seconds) }
        }
        return .watch(WatchStreamSource(subscription: subscription, timeout: timeout, table: request.acceptsTable ? TableRenderer(type: type) : nil))
    }

    // MARK: - Decoding

    private func decodeObject(_ request: APIRequest) throws(APIError) -> JSONValue {
        let value: JSONValue
        switch request.contentType {
        case "application/json", "":
            do { value = try JSONValue.parse(request.body) } catch {
                throw .badRequest("error decoding JSON: \(error)")
            }
        case "application/yaml", "application/x-yaml", "text/yaml":
            value = try Self.decodeYAML(request.body)
        case ProtobufBodies.contentType:
            value = try ProtobufBodies.decode(request.body)
        default:
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        }
        guard case .object = value else {
            throw .badRequest("the object provided is unrecognized (must be of type object)")
        }
        return value
    }

    static func decodeYAML(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        // JSON is YAML; parsing it directly keeps the common path cheap.
        if let json = try? JSONValue.parse(bytes) { return json }
        do {
            return try YAMLParser.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .badRequest("error converting YAML to JSON: \(error)")
        }
    }

    /// The real server defaults an absent apiVersion/kind from the URL but rejects a different one.
    private func checkKind(_ body: inout JSONValue, _ type: ResourceType) throws(APIError) {
        let apiVersion = body["apiVersion"].stringValue ?? ""
        let kind = body["kind"].stringValue ?? ""
        if apiVersion.isEmpty { body["apiVersion"] = .string(type.apiVersion) }
        if kind.isEmpty { body["kind"] = .string(type.kind) }
        if !apiVersion.isEmpty, apiVersion != type.apiVersion {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
        }
        if !kind.isEmpty, kind != type.kind {
            throw .badRequest("\(kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): the kind in the data (\(kind)) does not match the expected kind (\(type.kind))")
        }
    }

    private func checkNamespace(_ body: inout JSONValue, _ namespace: String) throws(APIError) {
        if let inBody = body[path: ["metadata", "namespace"]].stringValue, !inBody.isEmpty {
            if inBody != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
        } else {
            body[path: ["metadata", "namespace"]] = .string(namespace)
        }
    }

    // MARK: - Query parameters

    private func listOptions(_ query: [String: String]) throws(APIError) -> ListOptions {
        var options = ListOptions()
        options.labelSelector = query["labelSelector"].flatMap { $0.isEmpty ? nil : $0 }
        options.fieldSelector = query["fieldSelector"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = query["limit"], !raw.isEmpty {
            guard let limit = Int(raw) else { throw .badRequest("invalid limit: \(raw)") }
            options.limit = limit > 0 ? limit : nil
        }
        options.continueToken = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        options.resourceVersion = query["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        options.resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        return options
    }

    private func writeOptions(_ query: [String: String]) throws(APIError) -> WriteOptions {
        var options = WriteOptions()
        options.dryRun = try dryRun(query["dryRun"])
        options.fieldManager = query["fieldManager"].flatMap { $0.isEmpty ? nil : $0 }
        if let validation = query["fieldValidation"], !validation.isEmpty {
            guard ["Strict", "Warn", "Ignore"].contains(validation) else {
                throw .badRequest("fieldValidation must be one of Ignore, Warn, or Strict, got \(validation)")
            }
            options.fieldValidation = validation
        }
        return options
    }

    private func dryRun(_ raw: String?) throws(APIError) -> Bool {
        guard let raw, !raw.isEmpty else { return false }
        guard raw == "All" else { throw .badRequest("unsupported dryRun value \(raw): only All is supported") }
        return true
    }

    /// DeleteOptions may come as a JSON body (kubectl sends one) or as query parameters.
    private func deleteOptions(_ request: APIRequest) throws(APIError) -> DeleteOptions {
        var options = DeleteOptions()
        let query = request.query
        options.propagationPolicy = query["propagationPolicy"]
        options.gracePeriodSeconds = query["gracePeriodSeconds"].flatMap { Int($0) }
        options.dryRun = try dryRun(query["dryRun"])
        if !request.body.isEmpty {
            let body: JSONValue
            do { body = try JSONValue.parse(request.body) } catch {
                throw .badRequest("error decoding DeleteOptions: \(error)")
            }
            if let policy = body["propagationPolicy"].stringValue { options.propagationPolicy = policy }
            if let grace = body["gracePeriodSeconds"].intValue { options.gracePeriodSeconds = Int(grace) }
            if let uid = body[path: ["preconditions", "uid"]].stringValue { options.preconditionUID = uid }
            if let rv = body[path: ["preconditions", "resourceVersion"]].stringValue { options.preconditionResourceVersion = rv }
            if let dry = body["dryRun"].arrayValue, dry.contains(.string("All")) { options.dryRun = true }
            if let orphan = body["orphanDependents"].boolValue, options.propagationPolicy == nil {
                options.propagationPolicy = orphan ? "Orphan" : "Foreground"
            }
        }
        if let policy = options.propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIError(code: 422, reason: "Invalid", message: "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")
        }
        return options
    }

    private func isTrue(_ raw: String?) -> Bool { raw == "true" || raw == "1" }

    static func isBuiltInGroup(_ group: String) -> Bool {
        group.isEmpty || !group.contains(".") || group.hasSuffix(".k8s.io")
    }

    static func randomSuffix() -> String {
        // Same alphabet as the real name generator: no vowels or look-alike digits.
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

/// How long a watch without `timeoutSeconds` stays open: the real server picks uniformly in [min, 2*min).
public struct WatchDefaults: Sendable {
    public var minimumTimeout: Duration
    public init(minimumTimeout: Duration = .seconds(1800)) { self.minimumTimeout = minimumTimeout }
    func randomTimeout() -> Duration {
        let base = minimumTimeout.components.seconds
        return .seconds(base + Int64.random(in: 0...max(base, 0)))
    }
}
