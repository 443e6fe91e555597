import Foundation
import JSON

/// The checks of the real server's built-in validation that operators most often trip over,
/// with its field paths and wording, so mistakes surface here rather than first on EKS.
///
/// Caveats: a subset; an object this accepts may still be refused by a real server
/// (e.g. container resource quantities and probe shapes are not checked).
enum BuiltInValidation {
    static func causes(for object: JSONValue, type: ResourceType) -> [StatusCause] {
        switch (type.group, type.plural) {
        case ("apps", "deployments"): return deployment(object)
        case ("", "services"): return service(object)
        case ("", "configmaps"): return dataKeys(object["data"], field: "data") + dataKeys(object["binaryData"], field: "binaryData")
        case ("", "secrets"): return secret(object)
        case ("policy", "poddisruptionbudgets"): return podDisruptionBudget(object)
        case ("autoscaling", "horizontalpodautoscalers"): return horizontalPodAutoscaler(object)
        default: return []
        }
    }

    static func required(_ field: String) -> StatusCause {
        StatusCause(reason: "FieldValueRequired", message: "Required value", field: field)
    }

    static func invalid(_ field: String, _ value: JSONValue, _ detail: String) -> StatusCause {
        let rendered = value.stringValue.map { "\"\($0)\"" } ?? value.serialized()
        return StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(rendered): \(detail)", field: field)
    }

    static func deployment(_ object: JSONValue) -> [StatusCause] {
        var causes: [StatusCause] = []
        let spec = object["spec"]
        if let replicas = spec["replicas"].intValue, replicas < 0 {
            causes.append(invalid("spec.replicas", spec["replicas"], "must be greater than or equal to 0"))
        }
        let selector = spec["selector"]
        let matchLabels = selector["matchLabels"].objectValue ?? [:]
        if selector.isNull {
            causes.append(required("spec.selector"))
        } else if matchLabels.isEmpty && (selector["matchExpressions"].arrayValue ?? []).isEmpty {
            causes.append(invalid("spec.selector", selector, "empty selector is invalid for deployment"))
        }
        let templateLabels = spec[path: ["template", "metadata", "labels"]].objectValue ?? [:]
        if !matchLabels.isEmpty && !matchLabels.allSatisfy({ templateLabels[$0.key] == $0.value }) {
            causes.append(invalid("spec.template.metadata.labels", spec[path: ["template", "metadata", "labels"]],
                                  "`selector` does not match template `labels`"))
        }
        causes += podSpec(spec[path: ["template", "spec"]], field: "spec.template.spec")
        return causes
    }

    static func podSpec(_ spec: JSONValue, field: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let containers = spec["containers"].arrayValue ?? []
        if containers.isEmpty { causes.append(required("\(field).containers")) }
        var names: Set<String> = []
        for (index, container) in containers.enumerated() {
            let path = "\(field).containers[\(index)]"
            let name = container["name"].stringValue ?? ""
            if name.isEmpty {
                causes.append(required("\(path).name"))
            } else {
                for problem in NameValidation.labelProblems(name) { causes.append(invalid("\(path).name", container["name"], problem)) }
                if !names.insert(name).inserted {
                    causes.append(StatusCause(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(path).name"))
                }
            }
            if (container["image"].stringValue ?? "").isEmpty { causes.append(required("\(path).image")) }
            for (portIndex, port) in (container["ports"].arrayValue ?? []).enumerated() {
                if let number = port["containerPort"].intValue, !(1...65535).contains(number) {
                    causes.append(invalid("\(path).ports[\(portIndex)].containerPort", port["containerPort"],
                                          "must be between 1 and 65535, inclusive"))
                } else if port["containerPort"].isNull {
                    causes.append(required("\(path).ports[\(portIndex)].containerPort"))
                }
            }
        }
        return causes
    }

    static func service(_ object: JSONValue) -> [StatusCause] {
        var causes: [StatusCause] = []
        let spec = object["spec"]
        let type = spec["type"].stringValue ?? "ClusterIP"
        let supported = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
        if !supported.contains(type) {
            causes.append(StatusCause(reason: "FieldValueNotSupported",
                                      message: "Unsupported value: \"\(type)\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                                      field: "spec.type"))
        }
        let ports = spec["ports"].arrayValue ?? []
        if ports.isEmpty && type != "ExternalName" && spec["clusterIP"].stringValue != "None" {
            causes.append(required("spec.ports"))
        }
        for (index, port) in ports.enumerated() {
            if let number = port["port"].intValue {
                if !(1...65535).contains(number) {
                    causes.append(invalid("spec.ports[\(index)].port", port["port"], "must be between 1 and 65535, inclusive"))
                }
            } else {
                causes.append(required("spec.ports[\(index)].port"))
            }
            if ports.count > 1 && (port["name"].stringValue ?? "").isEmpty {
                causes.append(required("spec.ports[\(index)].name"))
            }
        }
        return causes
    }

    /// ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
    static func dataKeys(_ data: JSONValue, field: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        for key in (data.objectValue ?? [:]).keys.sorted() {
            let valid = !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".." && key.utf8.allSatisfy { b in
                (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
            }
            if !valid {
                causes.append(invalid("\(field)[\(key)]", .string(key),
                                      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
            }
        }
        return causes
    }

    static func secret(_ object: JSONValue) -> [StatusCause] {
        var causes = dataKeys(object["data"], field: "data")
        for (key, value) in (object["data"].objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            // The wire form of Secret.data is base64; anything else fails decoding on a real server.
            if value.stringValue.map({ Data(base64Encoded: $0) == nil }) ?? !value.isNull {
                causes.append(invalid("data[\(key)]", value, "illegal base64 data"))
            }
        }
        return causes
    }

    static func podDisruptionBudget(_ object: JSONValue) -> [StatusCause] {
        let spec = object["spec"]
        if !spec["minAvailable"].isNull && !spec["maxUnavailable"].isNull {
            return [invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")]
        }
        return []
    }

    static func horizontalPodAutoscaler(_ object: JSONValue) -> [StatusCause] {
        var causes: [StatusCause] = []
        let spec = object["spec"]
        let target = spec["scaleTargetRef"]
        if (target["kind"].stringValue ?? "").isEmpty { causes.append(required("spec.scaleTargetRef.kind")) }
        if (target["name"].stringValue ?? "").isEmpty { causes.append(required("spec.scaleTargetRef.name")) }
        guard let maximum = spec["maxReplicas"].intValue else {
            causes.append(required("spec.maxReplicas"))
            return causes
        }
        if maximum < 1 { causes.append(invalid("spec.maxReplicas", spec["maxReplicas"], "must be greater than or equal to 1")) }
        if let minimum = spec["minReplicas"].intValue {
            if minimum < 1 { causes.append(invalid("spec.minReplicas", spec["minReplicas"], "must be greater than or equal to 1")) }
            if minimum > maximum {
                causes.append(invalid("spec.maxReplicas", spec["maxReplicas"], "must be greater than or equal to `minReplicas`"))
            }
        }
        return causes
    }
}
