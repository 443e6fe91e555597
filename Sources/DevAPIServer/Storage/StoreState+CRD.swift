import APIMachinery
import JSON

extension StoreState {
    /// Checks a CRD the way the apiextensions server does and fills in its defaults and status.
    func prepareCustomResourceDefinition(_ object: inout JSONValue, type: ResourceType) throws(APIError) {
        let name = object[path: ["metadata", "name"]].stringValue ?? ""
        let spec = object["spec"]
        var causes: [StatusCause] = []
        func required(_ field: String) {
            causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: field))
        }
        let group = spec["group"].stringValue ?? ""
        let plural = spec[path: ["names", "plural"]].stringValue ?? ""
        let kind = spec[path: ["names", "kind"]].stringValue ?? ""
        if group.isEmpty { required("spec.group") }
        if plural.isEmpty { required("spec.names.plural") }
        if kind.isEmpty { required("spec.names.kind") }
        if !group.isEmpty && !plural.isEmpty && name != "\(plural).\(group)" {
            causes.append(StatusCause(reason: "FieldValueInvalid",
                                      message: "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group",
                                      field: "metadata.name"))
        }
        let scope = spec["scope"].stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            causes.append(StatusCause(reason: "FieldValueNotSupported",
                                      message: "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\"",
                                      field: "spec.scope"))
        }
        let versions = spec["versions"].arrayValue ?? []
        if versions.isEmpty {
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"null\": must have exactly one version marked as storage version",
                                      field: "spec.versions"))
        } else if versions.filter({ $0["storage"].boolValue == true }).count != 1 {
            causes.append(StatusCause(reason: "FieldValueInvalid",
                                      message: "Invalid value: \(versions.filter { $0["storage"].boolValue == true }.count): must have exactly one version marked as storage version",
                                      field: "spec.versions"))
        }
        for (index, version) in versions.enumerated() {
            if (version["name"].stringValue ?? "").isEmpty { required("spec.versions[\(index)].name") }
            if version["served"].boolValue == nil { required("spec.versions[\(index)].served") }
            let schema = version[path: ["schema", "openAPIV3Schema"]]
            if schema.isNull {
                required("spec.versions[\(index)].schema.openAPIV3Schema")
                continue
            }
            do { _ = try StructuralSchema(schema, fieldPath: "spec.versions[\(index)].schema.openAPIV3Schema") } catch {
                causes += error.errors.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field) }
            }
        }
        if !causes.isEmpty { throw .invalid(type, name, causes) }

        var names = spec["names"]
        if names["singular"].stringValue?.isEmpty ?? true { names["singular"] = .string(kind.lowercased()) }
        if names["listKind"].stringValue?.isEmpty ?? true { names["listKind"] = .string(kind + "List") }
        object[path: ["spec", "names"]] = names
        if object[path: ["spec", "conversion"]].isNull { object[path: ["spec", "conversion"]] = ["strategy": "None"] }

        let now = self.now
        var stored = Set((object[path: ["status", "storedVersions"]].arrayValue ?? []).compactMap(\.stringValue))
        for version in versions where version["storage"].boolValue == true {
            if let name = version["name"].stringValue { stored.insert(name) }
        }
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
             "lastTransitionTime": .string(now)]
        }
        object["status"] = [
            "acceptedNames": names,
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "storedVersions": .array(stored.sorted().map { .string($0) }),
        ]
    }

    /// Starts serving every served version of a stored CRD (again, after an update).
    mutating func registerCustomResources(from crd: JSONValue) {
        let name = crd[path: ["metadata", "name"]].stringValue ?? ""
        for key in customResources[name] ?? [] {
            typesByKey[key] = nil
            schemas[key] = nil
            customPatchStrategies[key] = nil
        }
        let spec = crd["spec"]
        let names = spec["names"]
        let group = spec["group"].stringValue ?? ""
        let plural = names["plural"].stringValue ?? ""
        let storage = StorageID(group: group, plural: plural)
        var keys: [ResourceKey] = []
        for version in spec["versions"].arrayValue ?? [] where version["served"].boolValue == true {
            let versionName = version["name"].stringValue ?? ""
            let schemaJSON = version[path: ["schema", "openAPIV3Schema"]]
            var columns = (version["additionalPrinterColumns"].arrayValue ?? []).map { column in
                PrinterColumn(name: column["name"].stringValue ?? "", type: column["type"].stringValue ?? "string",
                              jsonPath: column["jsonPath"].stringValue ?? "", description: column["description"].stringValue ?? "",
                              priority: Int(column["priority"].intValue ?? 0), format: column["format"].stringValue ?? "")
            }
            // The real server shows Age when a CRD declares no columns of its own.
            if version["additionalPrinterColumns"].isNull { columns = [ResourceType.age] }
            let type = ResourceType(
                group: group, version: versionName, kind: names["kind"].stringValue ?? "",
                listKind: names["listKind"].stringValue, plural: plural, singular: names["singular"].stringValue,
                shortNames: (names["shortNames"].arrayValue ?? []).compactMap(\.stringValue),
                categories: (names["categories"].arrayValue ?? []).compactMap(\.stringValue),
                namespaced: spec["scope"].stringValue == "Namespaced",
                hasStatusSubresource: !version[path: ["subresources", "status"]].isNull,
                printerColumns: columns,
                schema: schemaJSON.isNull ? ["type": "object", "x-kubernetes-preserve-unknown-fields": true] : schemaJSON,
                storage: version["storage"].boolValue == true)
            typesByKey[type.key] = type
            if let schema = try? StructuralSchema(type.schema ?? .emptyObject) {
                schemas[type.key] = schema
                customPatchStrategies[type.key] = PatchStrategy(schema: schema)
            }
            if type.storage { storageTypes[storage] = type }
            keys.append(type.key)
        }
        if storageTypes[storage] == nil, let first = keys.first, let type = typesByKey[first] { storageTypes[storage] = type }
        customResources[name] = keys
        crdByStorage[storage] = name
    }

    /// Stops serving a deleted CRD's resources; objects still stored go with it.
    mutating func unregisterCustomResources(crdName: String, work: inout [GarbageCollectionWork]) {
        guard let keys = customResources.removeValue(forKey: crdName) else { return }
        guard let storage = keys.first?.storageID else { return }
        for key in (buckets[storage]?.objects.keys).map(Array.init) ?? [] {
            remove(ObjectAddress(storage: storage, key: key), work: &work)
        }
        for key in keys {
            typesByKey[key] = nil
            schemas[key] = nil
            customPatchStrategies[key] = nil
        }
        storageTypes[storage] = nil
        crdByStorage[storage] = nil
        buckets[storage] = nil
        endWatchers(of: storage)
    }

    func crdName(owning storage: StorageID) -> String? { crdByStorage[storage] }

    /// Deletes a terminating CRD's custom resources; true once none remain.
    mutating func deleteCustomResources(ofCRD name: String, work: inout [GarbageCollectionWork]) -> Bool {
        guard let storage = customResources[name]?.first?.storageID, let type = storageTypes[storage] else { return true }
        for (key, object) in buckets[storage]?.objects ?? [:] where object.header.deletionTimestamp == nil {
            _ = try? beginDeletion(type, address: ObjectAddress(storage: storage, key: key), policy: nil, dryRun: false, work: &work)
        }
        return buckets[storage]?.objects.isEmpty ?? true
    }
}
