import JSON

/// The defaulting the real server's built-in types get from their generated defaulters,
/// limited to the fields clients commonly read back or diff against.
enum BuiltInDefaults {
    static func apply(to object: inout JSONValue, type: ResourceType, old: JSONValue?) {
        switch (type.group, type.plural) {
        case ("", "namespaces"):
            if old == nil {
                object[path: ["spec", "finalizers"]] = [.string(Finalizer.namespaceContents)]
                object[path: ["status", "phase"]] = "Active"
            }
            // The real server labels every namespace with its own name, for namespace selectors.
            if let name = object[path: ["metadata", "name"]].stringValue {
                object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
            }
        case ("", "secrets"):
            if object["type"].stringValue?.isEmpty ?? true { object["type"] = "Opaque" }
        case ("", "services"):
            defaultService(&object, old: old)
        case ("apps", "deployments"):
            defaultDeployment(&object)
        default:
            break
        }
    }

    static func defaultService(_ object: inout JSONValue, old: JSONValue?) {
        var spec = object["spec"]
        if spec["type"].stringValue?.isEmpty ?? true { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"].isNull { spec["sessionAffinity"] = "None" }
        if spec["type"].stringValue != "ExternalName" {
            if let oldIP = old?[path: ["spec", "clusterIP"]], !oldIP.isNull {
                // clusterIP is immutable once allocated.
                spec["clusterIP"] = oldIP
                spec["clusterIPs"] = old?[path: ["spec", "clusterIPs"]] ?? [oldIP]
            } else if spec["clusterIP"].stringValue?.isEmpty ?? true {
                let address = allocatedClusterIP(for: object[path: ["metadata", "namespace"]].stringValue ?? "",
                                                 name: object[path: ["metadata", "name"]].stringValue ?? "")
                spec["clusterIP"] = .string(address)
                spec["clusterIPs"] = [.string(address)]
            }
            if spec["ipFamilies"].isNull { spec["ipFamilies"] = ["IPv4"] }
            if spec["ipFamilyPolicy"].isNull { spec["ipFamilyPolicy"] = "SingleStack" }
            if spec["internalTrafficPolicy"].isNull { spec["internalTrafficPolicy"] = "Cluster" }
        }
        if let ports = spec["ports"].arrayValue {
            spec["ports"] = .array(ports.map { port in
                var port = port
                if port["protocol"].isNull { port["protocol"] = "TCP" }
                if port["targetPort"].isNull { port["targetPort"] = port["port"] }
                return port
            })
        }
        object["spec"] = spec
    }

    /// A stable address in 10.96.0.0/12 derived from the name, so re-creating a Service gives the same IP.
    static func allocatedClusterIP(for namespace: String, name: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in (namespace + "/" + name).utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let offset = hash % (1 << 20 - 2) + 1
        return "10.\(96 + (offset >> 16) & 0x0f).\((offset >> 8) & 0xff).\(offset & 0xff)"
    }

    static func defaultDeployment(_ object: inout JSONValue) {
        var spec = object["spec"]
        if spec["replicas"].isNull { spec["replicas"] = 1 }
        if spec["revisionHistoryLimit"].isNull { spec["revisionHistoryLimit"] = 10 }
        if spec["progressDeadlineSeconds"].isNull { spec["progressDeadlineSeconds"] = 600 }
        if spec["strategy"].isNull { spec["strategy"] = ["type": "RollingUpdate"] }
        if spec[path: ["strategy", "type"]].stringValue == "RollingUpdate" {
            if spec[path: ["strategy", "rollingUpdate", "maxUnavailable"]].isNull {
                spec[path: ["strategy", "rollingUpdate", "maxUnavailable"]] = "25%"
            }
            if spec[path: ["strategy", "rollingUpdate", "maxSurge"]].isNull {
                spec[path: ["strategy", "rollingUpdate", "maxSurge"]] = "25%"
            }
        }
        var pod = spec[path: ["template", "spec"]]
        if case .object = pod {
            if pod["restartPolicy"].isNull { pod["restartPolicy"] = "Always" }
            if pod["terminationGracePeriodSeconds"].isNull { pod["terminationGracePeriodSeconds"] = 30 }
            if pod["dnsPolicy"].isNull { pod["dnsPolicy"] = "ClusterFirst" }
            if pod["schedulerName"].isNull { pod["schedulerName"] = "default-scheduler" }
            if pod["securityContext"].isNull { pod["securityContext"] = .emptyObject }
            if let containers = pod["containers"].arrayValue {
                pod["containers"] = .array(containers.map { container in
                    var container = container
                    if container["terminationMessagePath"].isNull { container["terminationMessagePath"] = "/dev/termination-log" }
                    if container["terminationMessagePolicy"].isNull { container["terminationMessagePolicy"] = "File" }
                    if container["imagePullPolicy"].isNull {
                        let image = container["image"].stringValue ?? ""
                        let tagged = image.split(separator: "/").last?.contains(":") ?? false
                        container["imagePullPolicy"] = (!tagged || image.hasSuffix(":latest")) ? "Always" : "IfNotPresent"
                    }
                    if container["resources"].isNull { container["resources"] = .emptyObject }
                    return container
                })
            }
            spec[path: ["template", "spec"]] = pod
        }
        object["spec"] = spec
    }
}
