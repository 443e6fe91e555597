import DevAPIServer
import Foundation
import JSON

/// Resource keys and object builders shared by the store tests.
enum StoreKeys {
    static let namespaces = ResourceKey(group: "", version: "v1", plural: "namespaces")
    static let configMaps = ResourceKey(group: "", version: "v1", plural: "configmaps")
    static let secrets = ResourceKey(group: "", version: "v1", plural: "secrets")
    static let events = ResourceKey(group: "", version: "v1", plural: "events")
    static let deployments = ResourceKey(group: "apps", version: "v1", plural: "deployments")
    static let crds = ResourceKey(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions")
    static let widgets = ResourceKey(group: "example.com", version: "v1", plural: "widgets")
}

/// Builders shared by the store tests (namespaced so they cannot clash with other suites' helpers).
enum StoreFixture {
    static func makeStore(history: Int = 1000, bufferLimit: Int = 1000) -> ObjectStore {
        ObjectStore(configuration: StoreConfiguration(
            watchHistory: history, watcherBufferLimit: bufferLimit, bookmarkIntervalSeconds: nil,
            now: { Date(timeIntervalSince1970: 1_700_000_000) }))
    }

    static func configMap(_ name: String, namespace: String = "default", labels: [String: String] = [:], data: [String: String] = [:])
        -> JSONValue
    {
        var object: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)]]
        if !labels.isEmpty { object[path: ["metadata", "labels"]] = .object(labels.mapValues { .string($0) }) }
        if !data.isEmpty { object["data"] = .object(data.mapValues { .string($0) }) }
        return object
    }

    static func deployment(_ name: String, replicas: Int64 = 1) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .int(replicas),
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "app", "image": "nginx:1.27"]]],
                ],
            ],
        ]
    }

    static func ownerReference(to owner: JSONValue, blockOwnerDeletion: Bool = false) -> JSONValue {
        [
            "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner[path: ["metadata", "name"]],
            "uid": owner[path: ["metadata", "uid"]], "blockOwnerDeletion": .bool(blockOwnerDeletion),
        ]
    }

    /// A CRD for `widgets.example.com` with a status subresource and a small structural schema.
    static func widgetCRD(scope: String = "Namespaced") -> JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": "widgets.example.com"],
            "spec": [
                "group": "example.com", "scope": .string(scope),
                "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
                "versions": [[
                    "name": "v1", "served": true, "storage": true,
                    "subresources": ["status": .emptyObject],
                    "additionalPrinterColumns": [["name": "Size", "type": "integer", "jsonPath": ".spec.size"]],
                    "schema": ["openAPIV3Schema": [
                        "type": "object",
                        "properties": [
                            "spec": [
                                "type": "object", "required": ["size"],
                                "properties": [
                                    "size": ["type": "integer", "minimum": 1, "maximum": 10],
                                    "color": ["type": "string", "enum": ["red", "blue"], "default": "red"],
                                ],
                            ],
                            "status": ["type": "object", "properties": ["phase": ["type": "string"]]],
                        ],
                    ]],
                ]],
            ],
        ]
    }

    static func widget(_ name: String, size: Int64, extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: [String: JSONValue] = ["size": .int(size)]
        for (key, value) in extra { spec[key] = value }
        return ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    /// Ends the subscription and returns everything it had queued (events already sent stay readable).
    static func drain(_ subscription: WatchSubscription) async -> [WatchEvent] {
        subscription.cancel()
        var events: [WatchEvent] = []
        for await event in subscription { events.append(event) }
        return events
    }

    static func patchBytes(_ value: JSONValue) -> [UInt8] { value.serializedBytes() }
}

extension JSONValue {
    var objectName: String { self[path: ["metadata", "name"]].stringValue ?? "" }
    var objectResourceVersion: Int64 { Int64(self[path: ["metadata", "resourceVersion"]].stringValue ?? "") ?? -1 }
}

