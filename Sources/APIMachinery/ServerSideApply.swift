import JSON

/// One field another manager owns that an apply would change.
public struct ApplyConflict: Sendable, Equatable {
    public var manager: String
    /// The path in structured-merge-diff spelling, e.g. `.data.key` or `.spec.containers[name="app"].image`.
    public var field: String
    public var message: String

    public init(manager: String, field: String, message: String) {
        self.manager = manager
        self.field = field
        self.message = message
    }

    /// A `StatusCause` as the server reports it for a conflict.
    public var statusCause: JSONValue {
        ["reason": "FieldManagerConflict", "message": .string(message), "field": .string(field)]
    }
}

/// Why a server-side apply was refused.
public enum ApplyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another manager owns fields whose values would change: HTTP 409 unless `force`.
    case conflicts([ApplyConflict])
    /// The applied configuration itself is unacceptable: HTTP 400.
    case invalid(String)

    public var statusCode: Int {
        switch self {
        case .conflicts: return 409
        case .invalid: return 400
        }
    }

    public var message: String {
        switch self {
        case .invalid(let message): return message
        case .conflicts(let conflicts):
            if conflicts.count == 1 {
                return "Apply failed with 1 conflict: \(conflicts[0].message): \(conflicts[0].field)"
            }
            var text = "Apply failed with \(conflicts.count) conflicts: "
            var managers: [String] = []
            var byManager: [String: [ApplyConflict]] = [:]
            for conflict in conflicts {
                if byManager[conflict.manager] == nil { managers.append(conflict.manager) }
                byManager[conflict.manager, default: []].append(conflict)
            }
            text += managers.map { manager in
                let group = byManager[manager]!
                let head = group[0].message.replacingOccurrences("conflict with", with: "conflicts with")
                return head + ":" + group.map { "\n- " + $0.field }.joined()
            }.joined(separator: "\n")
            return text
        }
    }

    public var description: String { message }
}

/// One entry of `metadata.managedFields`.
public struct ManagedFieldsEntry: Sendable, Equatable {
    public var manager: String
    /// `Apply` or `Update`.
    public var operation: String
    public var apiVersion: String
    public var time: String?
    public var subresource: String?
    public var fields: FieldSet

    public init(manager: String, operation: String, apiVersion: String, time: String?, subresource: String?, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    init?(json: JSONValue) {
        guard let manager = json["manager"].stringValue, let operation = json["operation"].stringValue else { return nil }
        self.manager = manager
        self.operation = operation
        apiVersion = json["apiVersion"].stringValue ?? ""
        time = json["time"].stringValue
        subresource = json["subresource"].stringValue
        fields = FieldSet(fieldsV1: json["fieldsV1"])
    }

    public var json: JSONValue {
        var entry: JSONValue = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
        if let time { entry["time"] = .string(time) }
        if let subresource, !subresource.isEmpty { entry["subresource"] = .string(subresource) }
        return entry
    }

    /// Entries are one per manager, operation and subresource.
    func sameOwner(_ other: ManagedFieldsEntry) -> Bool {
        manager == other.manager && operation == other.operation && (subresource ?? "") == (other.subresource ?? "")
    }

    /// How conflict messages name the owner: `"kubectl" using v1`, with the operation for updaters.
    var conflictName: String {
        "\(FieldError.quoted(manager)) using \(apiVersion)"
    }
}

/// Server-side apply and managed-fields bookkeeping with the semantics of
/// sigs.k8s.io/structured-merge-diff as kube-apiserver uses it.
///
/// Guarantees:
/// - Apply merges the applied configuration into the live object: maps member by member,
///   associative lists (`PatchStrategy.ListType.map`) by key, sets by value, everything else
///   (and every list of an unknown type) replaced whole.
/// - A field another manager owns conflicts only if the apply changes its value; equal values
///   become shared ownership. `force` moves conflicting fields to the applier.
/// - Fields the manager applied before but no longer applies are removed unless another
///   manager owns them (or something beneath them).
/// - Identity and bookkeeping metadata (`name`, `namespace`, `uid`, `resourceVersion`,
///   `generation`, `creationTimestamp`, `deletionTimestamp`, `managedFields`, ...) and the
///   top-level `apiVersion`/`kind` are never tracked.
/// Caveats:
/// - Ownership lists leaf fields, list items and empty maps; the real server additionally marks
///   a map created by an Update with `.`. No decision depends on that difference.
/// - The caller resets `status` (main resource) or everything but `status` (the `/status`
///   subresource) before calling, as the real registry strategies do.
public enum ServerSideApply {
    static let untrackedMetadata: Set<String> = [
        "name", "namespace", "generateName", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
    ]

    // MARK: apply

    public static func apply(
        _ applied: JSONValue, to live: JSONValue?, manager: String, force: Bool, now: String,
        strategy: PatchStrategy?, subresource: String? = nil
    ) throws(ApplyError) -> JSONValue {
        guard case .object = applied else { throw .invalid("apply configuration must be a JSON object") }
        guard let apiVersion = applied["apiVersion"].stringValue, !apiVersion.isEmpty else {
            throw .invalid("apiVersion must be set in the apply configuration")
        }
        guard let kind = applied["kind"].stringValue, !kind.isEmpty else {
            throw .invalid("kind must be set in the apply configuration")
        }
        if !applied[path: ["metadata", "managedFields"]].isNull {
            throw .invalid("metadata.managedFields must be nil")
        }
        let config = removingNulls(applied)
        let liveObject = live ?? .emptyObject
        var entries = managedFields(of: liveObject)
        if let live, entries.isEmpty, !isEmptyContent(live) {
            // An object nobody has tracked yet: the server hands its fields to a placeholder
            // manager so a first apply can still detect that it changes them.
            let fields = try fieldSet(of: live, strategy: strategy)
            if !fields.isEmpty {
                entries.append(ManagedFieldsEntry(manager: "before-first-apply", operation: "Update",
                                                  apiVersion: live["apiVersion"].stringValue ?? apiVersion,
                                                  time: now, subresource: nil, fields: fields))
            }
        }

        let appliedSet = try fieldSet(of: config, strategy: strategy)
        var merged = merge(live: liveObject, applied: config, strategy: strategy)
        let me = ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now,
                                    subresource: subresource, fields: appliedSet)

        // Conflicts: fields this apply changes that someone else owns.
        let changed = FieldSet(Set(appliedSet.paths.filter { !valuesEqual(at: $0, liveObject, merged) }))
        var conflicts: [ApplyConflict] = []
        for entry in entries where !entry.sameOwner(me) {
            for path in entry.fields.intersection(changed).sortedPaths {
                conflicts.append(ApplyConflict(manager: entry.manager, field: FieldSet.render(path),
                                               message: "conflict with \(entry.conflictName)"))
            }
        }
        if !conflicts.isEmpty {
            if !force { throw .conflicts(conflicts) }
            for i in entries.indices where !entries[i].sameOwner(me) {
                entries[i].fields = entries[i].fields.subtracting(changed)
            }
        }

        // Fields this manager stopped applying go unless another manager holds them.
        let previous = entries.first(where: { $0.sameOwner(me) })?.fields ?? FieldSet()
        let others = entries.filter { !$0.sameOwner(me) }.reduce(FieldSet()) { $0.union($1.fields) }
        let dropped = previous.subtracting(appliedSet).sortedPaths.sorted { $0.count < $1.count }
        for path in dropped where !others.containsPrefix(path) && !isKeyField(path) {
            remove(path[...], from: &merged)
        }

        if let index = entries.firstIndex(where: { $0.sameOwner(me) }) {
            entries[index] = me
        } else {
            entries.append(me)
        }
        setManagedFields(entries, on: &merged)
        return merged
    }

    /// True if applying `applied` as `manager` would change the object or the manager's
    /// ownership, so an unchanged desired state needs no write.
    public static func wouldChange(applied: JSONValue, live: JSONValue?, manager: String, strategy: PatchStrategy?) -> Bool {
        guard let live else { return true }
        let result: JSONValue
        do {
            result = try apply(applied, to: live, manager: manager, force: true, now: "", strategy: strategy)
        } catch {
            return true
        }
        let mine = { (object: JSONValue) in
            managedFields(of: object).first { $0.manager == manager && $0.operation == "Apply" && ($0.subresource ?? "").isEmpty }?.fields
        }
        var a = result
        var b = live
        a[path: ["metadata", "managedFields"]] = .null
        b[path: ["metadata", "managedFields"]] = .null
        if !a.semanticallyEquals(b) { return true }
        return mine(result) != mine(live)
    }

    // MARK: update bookkeeping

    /// Records a non-apply write (create, update, patch): the fields that changed between `old`
    /// and `new` become owned by `manager` and are taken from everyone else. Returns `new` with
    /// updated `metadata.managedFields`.
    public static func recordUpdate(
        old: JSONValue?, new: JSONValue, manager: String, operation: String = "Update",
        subresource: String?, now: String
    ) -> JSONValue {
        let strategy = PatchStrategy.builtIn(apiVersion: new["apiVersion"].stringValue ?? "", kind: new["kind"].stringValue ?? "")
        return recordUpdate(old: old, new: new, manager: manager, operation: operation, subresource: subresource,
                            now: now, strategy: strategy)
    }

    /// `recordUpdate` with the strategy given (e.g. a CRD's, from `PatchStrategy(schema:)`).
    public static func recordUpdate(
        old: JSONValue?, new: JSONValue, manager: String, operation: String = "Update",
        subresource: String?, now: String, strategy: PatchStrategy?
    ) -> JSONValue {
        let oldFieldsJSON = old?[path: ["metadata", "managedFields"]] ?? .null
        let newFieldsJSON = new[path: ["metadata", "managedFields"]]
        if !newFieldsJSON.isNull && !newFieldsJSON.semanticallyEquals(oldFieldsJSON) {
            // The client rewrote managedFields itself; the server honours that, and an empty
            // list resets tracking.
            var result = new
            if newFieldsJSON.arrayValue?.isEmpty == true { result[path: ["metadata", "managedFields"]] = .null }
            return result
        }
        let oldObject = old ?? .emptyObject
        var entries = managedFields(of: oldObject)
        let oldSet = trackedFields(of: oldObject, strategy: strategy)
        let newSet = trackedFields(of: new, strategy: strategy)
        let changed = FieldSet(Set(newSet.paths.filter { !oldSet.contains($0) || !valuesEqual(at: $0, oldObject, new) }))
        let removed = oldSet.subtracting(newSet)
        let me = ManagedFieldsEntry(manager: manager, operation: operation, apiVersion: new["apiVersion"].stringValue ?? "",
                                    time: now, subresource: subresource, fields: changed)
        for i in entries.indices {
            entries[i].fields = entries[i].fields.subtracting(changed).subtracting(removed)
        }
        if let index = entries.firstIndex(where: { $0.sameOwner(me) }) {
            if !changed.isEmpty {
                entries[index].fields = entries[index].fields.union(changed)
                entries[index].time = now
                entries[index].apiVersion = me.apiVersion
            }
        } else if !changed.isEmpty {
            entries.append(me)
        }
        var result = new
        setManagedFields(entries, on: &result)
        return result
    }

    // MARK: managedFields

    public static func managedFields(of object: JSONValue) -> [ManagedFieldsEntry] {
        (object[path: ["metadata", "managedFields"]].arrayValue ?? []).compactMap(ManagedFieldsEntry.init(json:))
    }

    static func setManagedFields(_ entries: [ManagedFieldsEntry], on object: inout JSONValue) {
        let kept = entries.filter { !$0.fields.isEmpty }
        object[path: ["metadata", "managedFields"]] = kept.isEmpty ? .null : .array(kept.map(\.json))
    }

    static func isEmptyContent(_ object: JSONValue) -> Bool {
        var stripped = object
        stripped["apiVersion"] = .null
        stripped["kind"] = .null
        for key in untrackedMetadata { stripped[path: ["metadata", key]] = .null }
        if stripped["metadata"].objectValue?.isEmpty == true { stripped["metadata"] = .null }
        return stripped.objectValue?.isEmpty ?? true
    }

    // MARK: field sets

    /// The fields an object sets: leaf values, list items and empty maps, under the strategy.
    /// Errors: an associative-list item without any key field is `ApplyError.invalid`.
    public static func fieldSet(of object: JSONValue, strategy: PatchStrategy?) throws(ApplyError) -> FieldSet {
        try fieldSet(of: object, strategy: strategy, lenient: false)
    }

    /// Like `fieldSet`, for objects already accepted by other means (updates): an item that
    /// lacks its key fields is tracked by position instead of failing the write.
    static func trackedFields(of object: JSONValue, strategy: PatchStrategy?) -> FieldSet {
        do {
            return try fieldSet(of: object, strategy: strategy, lenient: true)
        } catch {
            return FieldSet()  // unreachable: lenient collection does not throw
        }
    }

    static func fieldSet(of object: JSONValue, strategy: PatchStrategy?, lenient: Bool) throws(ApplyError) -> FieldSet {
        var paths: Set<[PathElement]> = []
        guard case .object(let members) = object else { return FieldSet() }
        for (key, value) in members where key != "apiVersion" && key != "kind" {
            var value = value
            if key == "metadata", case .object(var meta) = value {
                for k in untrackedMetadata { meta.removeValue(forKey: k) }
                if meta.isEmpty { continue }
                value = .object(meta)
            }
            try collect(value, strategy: strategy?.child(key), path: [.field(key)], lenient: lenient, into: &paths)
        }
        return FieldSet(paths)
    }

    static func collect(
        _ value: JSONValue, strategy: PatchStrategy?, path: [PathElement], lenient: Bool, into paths: inout Set<[PathElement]>
    ) throws(ApplyError) {
        if strategy?.atomic == true {
            paths.insert(path)
            return
        }
        switch value {
        case .object(let members):
            if members.isEmpty { paths.insert(path); return }
            for (key, child) in members {
                try collect(child, strategy: strategy?.child(key), path: path + [.field(key)], lenient: lenient, into: &paths)
            }
        case .array(let items):
            switch strategy?.listType {
            case .map(let keys)?:
                for (position, item) in items.enumerated() {
                    let element: PathElement
                    do {
                        element = .key(try itemKey(item, keys: keys, path: path))
                    } catch {
                        if !lenient { throw error }
                        element = .index(position)
                    }
                    let itemPath = path + [element]
                    paths.insert(itemPath)
                    for (key, child) in item.objectValue ?? [:] {
                        try collect(child, strategy: strategy?.items?.child(key), path: itemPath + [.field(key)], lenient: lenient, into: &paths)
                    }
                }
            case .set?:
                for item in items { paths.insert(path + [.value(item)]) }
            default:
                paths.insert(path)
            }
        default:
            paths.insert(path)
        }
    }

    /// The key of an associative-list item; `protocol` defaults to TCP as the API's defaulting does.
    static func itemKey(_ item: JSONValue, keys: [String], path: [PathElement]) throws(ApplyError) -> JSONValue {
        guard case .object(let members) = item else {
            throw .invalid(".\(FieldSet.render(path).dropFirst()): expected an object item in an associative list")
        }
        var key: [String: JSONValue] = [:]
        for k in keys {
            if let v = members[k], !v.isNull { key[k] = v } else if k == "protocol" { key[k] = "TCP" }
        }
        if key.isEmpty {
            throw .invalid("\(FieldSet.render(path)): associative list with keys has an element that omits all key fields \(keys.map { FieldError.quoted($0) }.joined(separator: ", "))")
        }
        return .object(key)
    }

    static func itemMatches(_ item: JSONValue, _ key: JSONValue) -> Bool {
        for (k, v) in key.objectValue ?? [:] {
            let have = item[k].isNull && k == "protocol" ? "TCP" : item[k]
            if !have.semanticallyEquals(v) { return false }
        }
        return true
    }

    // MARK: merge and paths

    static func merge(live: JSONValue, applied: JSONValue, strategy: PatchStrategy?) -> JSONValue {
        if strategy?.atomic == true { return applied }
        switch (live, applied) {
        case (.object(var result), .object(let patch)):
            for (key, value) in patch {
                result[key] = merge(live: result[key] ?? .null, applied: value, strategy: strategy?.child(key))
            }
            return .object(result)
        case (.array(let liveItems), .array(let appliedItems)):
            switch strategy?.listType {
            case .map(let keys)?:
                var result = liveItems
                for item in appliedItems {
                    guard let key = try? itemKey(item, keys: keys, path: []) else { continue }
                    if let index = result.firstIndex(where: { itemMatches($0, key) }) {
                        result[index] = merge(live: result[index], applied: item, strategy: strategy?.items)
                    } else {
                        result.append(item)
                    }
                }
                return .array(result)
            case .set?:
                var result = liveItems
                for item in appliedItems where !result.contains(where: { $0.semanticallyEquals(item) }) { result.append(item) }
                return .array(result)
            default:
                return applied
            }
        default:
            return applied
        }
    }

    static func value(at path: ArraySlice<PathElement>, in object: JSONValue) -> JSONValue? {
        guard let first = path.first else { return object }
        let next: JSONValue?
        switch first {
        case .field(let name): next = object.objectValue?[name]
        case .key(let key): next = object.arrayValue?.first { itemMatches($0, key) }
        case .value(let v): next = object.arrayValue?.first { $0.semanticallyEquals(v) }
        case .index(let i): next = object.arrayValue.flatMap { $0.indices.contains(i) ? $0[i] : nil }
        }
        guard let next else { return nil }
        return value(at: path.dropFirst(), in: next)
    }

    /// Compares the values at a path; for list items only presence matters, since their
    /// fields are members of their own.
    static func valuesEqual(at path: [PathElement], _ a: JSONValue, _ b: JSONValue) -> Bool {
        let x = value(at: path[...], in: a)
        let y = value(at: path[...], in: b)
        switch path.last {
        case .key?, .value?, .index?: return (x == nil) == (y == nil)
        default:
            switch (x, y) {
            case (nil, nil): return true
            case (let x?, let y?): return x.semanticallyEquals(y)
            default: return false
            }
        }
    }

    static func isKeyField(_ path: [PathElement]) -> Bool {
        guard path.count >= 2, case .field(let name) = path[path.count - 1], case .key(let key) = path[path.count - 2] else { return false }
        return key.objectValue?[name] != nil
    }

    static func remove(_ path: ArraySlice<PathElement>, from object: inout JSONValue) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch (first, object) {
        case (.field(let name), .object(var members)):
            guard var child = members.removeValue(forKey: name) else { return }
            if !rest.isEmpty {
                remove(rest, from: &child)
                members[name] = child
            }
            object = .object(members)
        case (.key(let key), .array(var items)):
            guard let index = items.firstIndex(where: { itemMatches($0, key) }) else { return }
            if rest.isEmpty { items.remove(at: index) } else { remove(rest, from: &items[index]) }
            object = .array(items)
        case (.value(let v), .array(var items)):
            items.removeAll { $0.semanticallyEquals(v) }
            object = .array(items)
        case (.index(let i), .array(var items)):
            guard items.indices.contains(i) else { return }
            if rest.isEmpty { items.remove(at: i) } else { remove(rest, from: &items[i]) }
            object = .array(items)
        default:
            return
        }
    }

    static func removingNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (k, v) in members where !v.isNull { out[k] = removingNulls(v) }
            return .object(out)
        case .array(let items): return .array(items.map(removingNulls))
        default: return value
        }
    }
}
