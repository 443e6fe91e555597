import KubeAPI
import Foundation
import JSON
@testable import ControllerRuntime

/// An in-memory API server for unit tests: stores objects per resource, bumps
/// resourceVersions, streams watch events, and records every request so tests can count writes.
actor FakeResourceClient: ResourceClient {
    struct Request: Equatable {
        var verb: String
        var resource: String
        var name: String?
        var resourceVersion: String?
    }

    private var objects: [APIResource: [ObjectKey: JSONValue]] = [:]
    private var version: Int64 = 100
    private var watchers: [(resource: APIResource, namespace: String?, continuation: AsyncThrowingStream<ResourceWatchEvent, any Error>.Continuation)] = []
    private(set) var requests: [Request] = []
    /// Errors to throw from the next `list` calls, first first.
    var listFailures: [ResourceClientError] = []
    /// Errors to throw from the next `watch` calls.
    var watchFailures: [ResourceClientError] = []
    private var watchOpenedWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var watchesOpened = 0

    var writeCount: Int { requests.filter { !["list", "watch", "get"].contains($0.verb) }.count }
    var resourceVersion: String { String(version) }

    func failNextList(_ error: ResourceClientError) { listFailures.append(error) }
    func failNextWatch(_ error: ResourceClientError) { watchFailures.append(error) }

    /// Stores an object without telling watchers, as if the change happened while no watch
    /// was open (to simulate missed events).
    @discardableResult
    func seed(_ type: APIResource, _ object: JSONValue) -> JSONValue {
        var object = object
        version += 1
        object[path: ["metadata", "resourceVersion"]] = .string(String(version))
        if object[path: ["metadata", "uid"]].isNull { object[path: ["metadata", "uid"]] = .string("uid-\(version)") }
        if object[path: ["metadata", "generation"]].isNull { object[path: ["metadata", "generation"]] = 1 }
        objects[type, default: [:]][key(of: object)] = object
        return object
    }

    /// Removes an object without telling watchers.
    func forget(_ type: APIResource, _ key: ObjectKey) {
        objects[type]?[key] = nil
        version += 1
    }

    func stored(_ type: APIResource, _ key: ObjectKey) -> JSONValue? { objects[type]?[key] }

    /// Sends an event to open watches as the server would, after storing the change.
    func emit(_ type: APIResource, _ event: ResourceWatchEvent) {
        for watcher in watchers where watcher.resource == type { watcher.continuation.yield(event) }
    }

    /// Ends every open watch with an error (a broken connection) or normally.
    func breakWatches(with error: (any Error)? = nil) {
        let open = watchers
        watchers = []
        for watcher in open { watcher.continuation.finish(throwing: error) }
    }

    /// Returns once `count` watches have been opened in total.
    func waitForWatches(count: Int) async {
        if watchesOpened >= count { return }
        await withCheckedContinuation { watchOpenedWaiters.append((count, $0)) }
    }

    // MARK: ResourceClient

    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        requests.append(Request(verb: "list", resource: type.plural))
        if !listFailures.isEmpty { throw listFailures.removeFirst() }
        let all = (objects[type] ?? [:]).filter { namespace == nil || $0.key.namespace == namespace }.sorted { $0.key < $1.key }
        let start = continueToken.flatMap(Int.init) ?? 0
        let end = limit.map { min(start + $0, all.count) } ?? all.count
        let next = end < all.count ? String(end) : nil
        return ObjectListPage(items: all[start..<end].map(\.value), resourceVersion: String(version), continueToken: next)
    }

    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        requests.append(Request(verb: "watch", resource: type.plural, resourceVersion: resourceVersion))
        if !watchFailures.isEmpty { throw watchFailures.removeFirst() }
        let (stream, continuation) = AsyncThrowingStream<ResourceWatchEvent, any Error>.makeStream()
        watchers.append((type, namespace, continuation))
        watchesOpened += 1
        let ready = watchOpenedWaiters.filter { $0.count <= watchesOpened }
        watchOpenedWaiters.removeAll { $0.count <= watchesOpened }
        for waiter in ready { waiter.continuation.resume() }
        return stream
    }

    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue {
        requests.append(Request(verb: "get", resource: type.plural, name: name))
        guard let object = objects[type]?[ObjectKey(namespace: namespace ?? "", name: name)] else { throw ResourceClientError(statusCode: 404, reason: "NotFound") }
        return object
    }

    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue {
        requests.append(Request(verb: "create", resource: type.plural, name: object[path: ["metadata", "name"]].stringValue))
        var object = object
        if let namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
        if objects[type]?[key(of: object)] != nil { throw ResourceClientError(statusCode: 409, reason: "AlreadyExists") }
        object[path: ["metadata", "uid"]] = .null
        let stored = seed(type, object)
        emit(type, .added(stored))
        return stored
    }

    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue {
        requests.append(Request(verb: "update", resource: type.plural, name: name))
        let key = ObjectKey(namespace: namespace ?? "", name: name)
        guard let current = objects[type]?[key] else { throw ResourceClientError(statusCode: 404, reason: "NotFound") }
        if let expected = object[path: ["metadata", "resourceVersion"]].stringValue, expected != current[path: ["metadata", "resourceVersion"]].stringValue {
            throw ResourceClientError(statusCode: 409, reason: "Conflict", message: "the object has been modified")
        }
        var object = object
        object[path: ["metadata", "uid"]] = current[path: ["metadata", "uid"]]
        return store(type, object)
    }

    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue {
        requests.append(Request(verb: "apply", resource: type.plural, name: name))
        let key = ObjectKey(namespace: namespace ?? "", name: name)
        var merged = objects[type]?[key] ?? .emptyObject
        merge(object, into: &merged)
        if objects[type]?[key] == nil { merged[path: ["metadata", "uid"]] = .null }
        return store(type, merged)
    }

    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue {
        requests.append(Request(verb: "patch", resource: type.plural, name: name))
        let key = ObjectKey(namespace: namespace ?? "", name: name)
        guard var object = objects[type]?[key] else { throw ResourceClientError(statusCode: 404, reason: "NotFound") }
        for operation in operations {
            let path = pointer(operation["path"].stringValue ?? "")
            switch operation["op"].stringValue {
            case "test":
                if value(in: object, at: path) != operation["value"] { throw ResourceClientError(statusCode: 422, reason: "Invalid", message: "test failed") }
            case "add", "replace":
                if let last = path.last, let index = Int(last) {
                    var array = object[path: Array(path.dropLast())].arrayValue ?? []
                    if index <= array.count { array.insert(operation["value"], at: index) }
                    object[path: Array(path.dropLast())] = .array(array)
                } else if path.last == "-" {
                    var array = object[path: Array(path.dropLast())].arrayValue ?? []
                    array.append(operation["value"])
                    object[path: Array(path.dropLast())] = .array(array)
                } else {
                    object[path: path] = operation["value"]
                }
            case "remove":
                if let last = path.last, let index = Int(last) {
                    var array = object[path: Array(path.dropLast())].arrayValue ?? []
                    guard array.indices.contains(index) else { throw ResourceClientError(statusCode: 422, reason: "Invalid") }
                    array.remove(at: index)
                    object[path: Array(path.dropLast())] = .array(array)
                } else {
                    object[path: path] = .null
                }
            default:
                throw ResourceClientError(statusCode: 400, reason: "BadRequest")
            }
        }
        return store(type, object)
    }

    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue {
        requests.append(Request(verb: "patch", resource: type.plural, name: name))
        let key = ObjectKey(namespace: namespace ?? "", name: name)
        guard var object = objects[type]?[key] else { throw ResourceClientError(statusCode: 404, reason: "NotFound") }
        merge(patch, into: &object)
        return store(type, object)
    }

    func delete(_ type: APIResource, namespace: String?, name: String) async throws {
        requests.append(Request(verb: "delete", resource: type.plural, name: name))
        let key = ObjectKey(namespace: namespace ?? "", name: name)
        guard let object = objects[type]?[key] else { throw ResourceClientError(statusCode: 404, reason: "NotFound") }
        if !(object[path: ["metadata", "finalizers"]].arrayValue ?? []).isEmpty {
            var marked = object
            marked[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:00:00Z"
            _ = store(type, marked)
            return
        }
        objects[type]?[key] = nil
        version += 1
        var gone = object
        gone[path: ["metadata", "resourceVersion"]] = .string(String(version))
        emit(type, .deleted(gone))
    }

    // MARK: private

    private func store(_ type: APIResource, _ object: JSONValue) -> JSONValue {
        let existed = objects[type]?[key(of: object)] != nil
        var object = object
        // An object being deleted whose last finalizer goes is removed, as the server does.
        if !object[path: ["metadata", "deletionTimestamp"]].isNull, (object[path: ["metadata", "finalizers"]].arrayValue ?? []).isEmpty {
            objects[type]?[key(of: object)] = nil
            version += 1
            object[path: ["metadata", "resourceVersion"]] = .string(String(version))
            emit(type, .deleted(object))
            return object
        }
        let stored = seed(type, object)
        emit(type, existed ? .modified(stored) : .added(stored))
        return stored
    }

    private func value(in object: JSONValue, at path: [String]) -> JSONValue {
        var current = object
        for component in path {
            if let index = Int(component), current.arrayValue != nil { current = current[index] } else { current = current[component] }
        }
        return current
    }

    private func key(of object: JSONValue) -> ObjectKey {
        ObjectKey(namespace: object[path: ["metadata", "namespace"]].stringValue ?? "", name: object[path: ["metadata", "name"]].stringValue ?? "")
    }

    private func pointer(_ path: String) -> [String] {
        path.split(separator: "/").map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
    }

    private func merge(_ patch: JSONValue, into target: inout JSONValue) {
        guard case .object(let members) = patch else { target = patch; return }
        if target.objectValue == nil { target = .emptyObject }
        for (key, value) in members {
            if value.isNull { target[key] = .null; continue }
            if value.objectValue != nil {
                var child = target[key]
                merge(value, into: &child)
                target[key] = child
            } else {
                target[key] = value
            }
        }
    }
}

/// Fluent fixtures for API objects.
enum Fixture {
    static let configMaps = APIResource.configMaps
    static let platforms = APIResource(group: "platform.medsearch.io", version: "v1alpha1", plural: "medicalsearchplatforms", kind: "MedicalSearchPlatform", namespaced: true)

    static func configMap(_ namespace: String, _ name: String, data: [String: String] = [:], owner: OwnerRef? = nil) -> JSONValue {
        var object: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)]]
        if !data.isEmpty { object["data"] = .object(data.mapValues { .string($0) }) }
        if let owner { object[path: ["metadata", "ownerReferences"]] = [owner.json] }
        return object
    }
}
