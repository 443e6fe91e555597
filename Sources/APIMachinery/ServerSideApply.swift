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
            // Grouped per owner, owners in the server's order (by manager, then operation).
            var owners: [String] = []
            var byOwner: [String: [ApplyConflict]] = [:]
            for conflict in conflicts {
                if byOwner[conflict.message] == nil { owners.append(conflict.message) }
                byOwner[conflict.message, default: []].append(conflict)
            }
            let lines = owners.sorted().flatMap { owner in
                ["conflicts with" + owner.dropFirst("conflict with".count) + ":"] + byOwner[owner]!.map { "- " + $0.field }
            }
            return "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
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

    /// How the server names an owner in conflicts: appliers by name, updaters with the API
    /// version they wrote (`"kubectl-client-side-apply" using v1`), plus the subresource if any.
    var conflictName: String {
        var name = FieldError.quoted(manager)
        if let subresource, !subresource.isEmpty { name += " with subresource \(FieldError.quoted(subresource))" }
        return operation == "Update" ? "\(name) using \(apiVersion)" : name
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
///   subresource) before calling, as the real registry strategies do, and passes
///   `subresource: "status"` for `/status` writes: entries are per subresource, and sharing one
///   would make a status apply prune the fields the same manager applied to the spec.
/// - Lists are associative only where the strategy says so: pass `PatchStrategy.builtIn` for
///   built-in kinds and `PatchStrategy(schema:)` for custom resources; nil makes every list atomic.
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
        if let live, entries.isEmpty {
            // An object nobody has tracked yet: the server hands its fields to a placeholder
            // manager so a first apply can still detect that it changes them.
            let fields = trackedFields(of: live, strategy: strategy)
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
        let changed = FieldSet(root: changedMembers(appliedSet.root, live: liveObject, merged: merged, isItem: false))
        if !changed.isEmpty {
            var conflicts: [ApplyConflict] = []
            for entry in entries where !entry.sameOwner(me) {
                for field in entry.fields.intersection(changed).renderedPaths {
                    conflicts.append(ApplyConflict(manager: entry.manager, field: field, message: "conflict with \(entry.conflictName)"))
                }
            }
            if !conflicts.isEmpty {
                if !force { throw .conflicts(conflicts) }
                for i in entries.indices where !entries[i].sameOwner(me) {
                    entries[i].fields = entries[i].fields.subtracting(changed)
                }
            }
        }

        // Fields this manager stopped applying go unless another manager holds them (or
        // something beneath them). Like structured-merge-diff, which treats named fields as
        // members, a field the manager no longer mentions at all goes as a whole, so dropping
        // the last label removes `labels` rather than leaving `{}` behind.
        let previous = entries.first(where: { $0.sameOwner(me) })?.fields ?? FieldSet()
        if !previous.isEmpty {
            let others = entries.filter { !$0.sameOwner(me) }.reduce(FieldSet()) { $0.union($1.fields) }
            var dropped: [[String]] = []
            var prefix: [String] = []
            collectDropped(previous.root, applied: appliedSet.root, others: others.root, prefix: &prefix, into: &dropped)
            for keys in dropped { remove(keys[...], from: &merged) }
        }

        if let index = entries.firstIndex(where: { $0.sameOwner(me) }) {
            entries[index] = me
        } else {
            entries.append(me)
        }
        setManagedFields(entries, on: &merged)
        return merged
    }

    /// The paths to remove because the manager owned them and no longer applies them: a
    /// subtree nobody else holds anything in goes whole; otherwise the walk descends and
    /// removes only what is unclaimed. Key fields of surviving items and the identity metadata
    /// are never removed.
    static func collectDropped(_ previous: FieldSet.Node, applied: FieldSet.Node?, others: FieldSet.Node?,
                               prefix: inout [String], into out: inout [[String]]) {
        for (key, child) in previous.children {
            prefix.append(key)
            defer { prefix.removeLast() }
            let appliedChild = applied?.children[key]
            let othersChild = others?.children[key]
            let claimedByOthers = othersChild.map { !$0.isEmpty } ?? false
            if appliedChild == nil && !claimedByOthers {
                // metadata itself always stays (name, namespace, ... are not tracked).
                if prefix == ["f:metadata"] {
                    collectDropped(child, applied: nil, others: nil, prefix: &prefix, into: &out)
                } else if !isKeyField(prefix) {
                    out.append(prefix)
                }
                continue
            }
            collectDropped(child, applied: appliedChild, others: othersChild, prefix: &prefix, into: &out)
        }
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

    /// The part of `live` that `manager` owns through apply, with apiVersion, kind, name and
    /// namespace: what that manager would have to apply to keep exactly its fields (like
    /// client-go's `Extract...` functions). nil when the manager owns nothing.
    public static func extract(from live: JSONValue, manager: String, subresource: String? = nil) -> JSONValue? {
        guard let entry = managedFields(of: live).first(where: {
            $0.manager == manager && $0.operation == "Apply" && ($0.subresource ?? "") == (subresource ?? "")
        }) else { return nil }
        var result = extract(entry.fields.root, from: live) ?? .emptyObject
        result["apiVersion"] = live["apiVersion"]
        result["kind"] = live["kind"]
        result[path: ["metadata", "name"]] = live[path: ["metadata", "name"]]
        result[path: ["metadata", "namespace"]] = live[path: ["metadata", "namespace"]]
        return result
    }

    static func extract(_ node: FieldSet.Node, from value: JSONValue) -> JSONValue? {
        if node.children.isEmpty { return node.isMember ? value : nil }
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, child) in node.children where key.hasPrefix("f:") {
                let name = String(key.dropFirst(2))
                if let member = members[name], let extracted = extract(child, from: member) { out[name] = extracted }
            }
            return .object(out)
        case .array(let items):
            // Owned items in their live order.
            var picked: [(Int, JSONValue)] = []
            for (key, child) in node.children {
                guard let item = childValue(value, key), let index = items.firstIndex(of: item),
                      let extracted = extract(child, from: item) else { continue }
                picked.append((index, extracted))
            }
            return .array(picked.sorted { $0.0 < $1.0 }.map(\.1))
        default:
            return node.isMember ? value : nil
        }
    }

    // MARK: update bookkeeping

    /// Records a non-apply write (create, update, patch): the fields that changed between `old`
    /// and `new` become owned by `manager` and are taken from everyone else. Returns `new` with
    /// updated `metadata.managedFields`. Uses the built-in strategy for the object's kind.
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
        var changed = FieldSet.Node()
        var removed = FieldSet.Node()
        diff(tracked(old ?? .emptyObject), tracked(new), strategy: strategy, changed: &changed, removed: &removed)
        var result = new
        if changed.isEmpty && removed.isEmpty {
            result[path: ["metadata", "managedFields"]] = oldFieldsJSON
            return result
        }
        var entries = managedFields(of: old ?? .emptyObject)
        let taken = FieldSet(root: changed.union(removed))
        let me = ManagedFieldsEntry(manager: manager, operation: operation, apiVersion: new["apiVersion"].stringValue ?? "",
                                    time: now, subresource: subresource, fields: FieldSet(root: changed))
        for i in entries.indices {
            entries[i].fields = entries[i].fields.subtracting(taken)
        }
        if let index = entries.firstIndex(where: { $0.sameOwner(me) }) {
            if !changed.isEmpty {
                entries[index].fields = entries[index].fields.union(me.fields)
                entries[index].time = now
                entries[index].apiVersion = me.apiVersion
            }
        } else if !changed.isEmpty {
            entries.append(me)
        }
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

    /// The object without what is never tracked: type meta and identity/bookkeeping metadata.
    static func tracked(_ object: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        members.removeValue(forKey: "apiVersion")
        members.removeValue(forKey: "kind")
        if case .object(var meta)? = members["metadata"] {
            for key in untrackedMetadata { meta.removeValue(forKey: key) }
            members["metadata"] = meta.isEmpty ? nil : .object(meta)
        }
        return .object(members)
    }

    // MARK: field sets

    /// The fields an object sets: leaf values, list items and empty maps, under the strategy.
    /// Errors: an associative-list item without any key field is `ApplyError.invalid`.
    public static func fieldSet(of object: JSONValue, strategy: PatchStrategy?) throws(ApplyError) -> FieldSet {
        var root = FieldSet.Node()
        guard case .object(let members) = tracked(object) else { return FieldSet() }
        for (key, value) in members {
            try collect(value, strategy: strategy?.child(key), into: &root.children["f:" + key, default: FieldSet.Node()], lenient: false)
        }
        return FieldSet(root: root)
    }

    /// Like `fieldSet`, for objects already accepted by other means (updates): an item that
    /// lacks its key fields is tracked by position instead of failing the write.
    static func trackedFields(of object: JSONValue, strategy: PatchStrategy?) -> FieldSet {
        var root = FieldSet.Node()
        collectLeniently(tracked(object), strategy: strategy, into: &root)
        root.isMember = false
        return FieldSet(root: root)
    }

    static func collectLeniently(_ value: JSONValue, strategy: PatchStrategy?, into node: inout FieldSet.Node) {
        do {
            try collect(value, strategy: strategy, into: &node, lenient: true)
        } catch {
            // Lenient collection falls back to positions instead of throwing.
        }
    }

    static func collect(_ value: JSONValue, strategy: PatchStrategy?, into node: inout FieldSet.Node, lenient: Bool) throws(ApplyError) {
        if strategy?.atomic == true {
            node.isMember = true
            return
        }
        switch value {
        case .object(let members):
            if members.isEmpty { node.isMember = true; return }
            for (key, child) in members {
                try collect(child, strategy: strategy?.child(key), into: &node.children["f:" + key, default: FieldSet.Node()], lenient: lenient)
            }
        case .array(let items):
            switch strategy?.listType {
            case .map(let keys)?:
                for (position, item) in items.enumerated() {
                    let element: String
                    do {
                        element = try itemKeyString(item, keys: keys)
                    } catch {
                        if !lenient { throw error }
                        element = "i:\(position)"
                    }
                    try collectItem(item, strategy: strategy?.items, into: &node.children[element, default: FieldSet.Node()], lenient: lenient)
                }
            case .set?:
                for item in items { node.children["v:" + item.serialized(), default: FieldSet.Node()].isMember = true }
            default:
                node.isMember = true
            }
        default:
            node.isMember = true
        }
    }

    static func collectItem(_ item: JSONValue, strategy: PatchStrategy?, into node: inout FieldSet.Node, lenient: Bool) throws(ApplyError) {
        node.isMember = true
        for (key, child) in item.objectValue ?? [:] {
            try collect(child, strategy: strategy?.child(key), into: &node.children["f:" + key, default: FieldSet.Node()], lenient: lenient)
        }
    }

    /// The fields that differ between `old` and `new`: `changed` gets what `new` sets anew or
    /// differently, `removed` what only `old` had.
    static func diff(_ old: JSONValue, _ new: JSONValue, strategy: PatchStrategy?, changed: inout FieldSet.Node, removed: inout FieldSet.Node) {
        if old == new || old.semanticallyEquals(new) { return }
        if strategy?.atomic == true {
            changed.isMember = true
            return
        }
        switch (old, new) {
        case (.object(let o), .object(let n)) where !o.isEmpty && !n.isEmpty:
            for (key, newValue) in n {
                let k = "f:" + key
                if let oldValue = o[key] {
                    var c = FieldSet.Node(), r = FieldSet.Node()
                    diff(oldValue, newValue, strategy: strategy?.child(key), changed: &c, removed: &r)
                    if !c.isEmpty { changed.children[k, default: FieldSet.Node()] = changed.children[k, default: FieldSet.Node()].union(c) }
                    if !r.isEmpty { removed.children[k, default: FieldSet.Node()] = removed.children[k, default: FieldSet.Node()].union(r) }
                } else {
                    collectLeniently(newValue, strategy: strategy?.child(key), into: &changed.children[k, default: FieldSet.Node()])
                }
            }
            for (key, oldValue) in o where n[key] == nil {
                collectLeniently(oldValue, strategy: strategy?.child(key), into: &removed.children["f:" + key, default: FieldSet.Node()])
            }
        case (.array(let o), .array(let n)):
            switch strategy?.listType {
            case .map(let keys)?:
                var oldItems: [String: JSONValue] = [:]
                for (position, item) in o.enumerated() { oldItems[itemKeyOrPosition(item, keys: keys, position: position)] = item }
                var seen: Set<String> = []
                for (position, item) in n.enumerated() {
                    let element = itemKeyOrPosition(item, keys: keys, position: position)
                    seen.insert(element)
                    if let previous = oldItems[element] {
                        var c = FieldSet.Node(), r = FieldSet.Node()
                        diff(previous, item, strategy: strategy?.items, changed: &c, removed: &r)
                        c.isMember = false
                        r.isMember = false
                        if !c.isEmpty { changed.children[element] = c }
                        if !r.isEmpty { removed.children[element] = r }
                    } else {
                        collectItemLeniently(item, strategy: strategy?.items, into: &changed.children[element, default: FieldSet.Node()])
                    }
                }
                for (element, item) in oldItems where !seen.contains(element) {
                    collectItemLeniently(item, strategy: strategy?.items, into: &removed.children[element, default: FieldSet.Node()])
                }
            case .set?:
                for item in n where !o.contains(where: { $0.semanticallyEquals(item) }) {
                    changed.children["v:" + item.serialized(), default: FieldSet.Node()].isMember = true
                }
                for item in o where !n.contains(where: { $0.semanticallyEquals(item) }) {
                    removed.children["v:" + item.serialized(), default: FieldSet.Node()].isMember = true
                }
            default:
                changed.isMember = true
            }
        default:
            var oldSet = FieldSet.Node(), newSet = FieldSet.Node()
            collectLeniently(old, strategy: strategy, into: &oldSet)
            collectLeniently(new, strategy: strategy, into: &newSet)
            changed = changed.union(newSet)
            removed = removed.union(oldSet.subtracting(newSet))
        }
    }

    static func collectItemLeniently(_ item: JSONValue, strategy: PatchStrategy?, into node: inout FieldSet.Node) {
        do {
            try collectItem(item, strategy: strategy, into: &node, lenient: true)
        } catch {
            // Lenient collection falls back to positions instead of throwing.
        }
    }

    static func itemKeyOrPosition(_ item: JSONValue, keys: [String], position: Int) -> String {
        do {
            return try itemKeyString(item, keys: keys)
        } catch {
            return "i:\(position)"
        }
    }

    /// The fields of `node` whose values differ between `live` and `merged`; for list items only
    /// presence counts, since their fields are members of their own.
    static func changedMembers(_ node: FieldSet.Node, live: JSONValue?, merged: JSONValue?, isItem: Bool) -> FieldSet.Node {
        var result = FieldSet.Node()
        switch (live, merged) {
        case (nil, nil): return result
        case (let l?, let m?) where l == m || l.semanticallyEquals(m): return result
        default: break
        }
        if node.isMember { result.isMember = isItem ? (live == nil) != (merged == nil) : true }
        for (key, child) in node.children {
            let sub = changedMembers(child, live: childValue(live, key), merged: childValue(merged, key), isItem: !key.hasPrefix("f:"))
            if !sub.isEmpty { result.children[key] = sub }
        }
        return result
    }

    /// The `k:` spelling of an associative-list item; `protocol` defaults to TCP as the API's
    /// defaulting does.
    static func itemKeyString(_ item: JSONValue, keys: [String]) throws(ApplyError) -> String {
        guard case .object(let members) = item else {
            throw .invalid("expected an object item in an associative list, got \(item.serialized())")
        }
        var key: [String: JSONValue] = [:]
        for k in keys {
            if let v = members[k], !v.isNull { key[k] = v } else if k == "protocol" { key[k] = "TCP" }
        }
        if key.isEmpty {
            throw .invalid("associative list with keys has an element that omits all key fields \(keys.map { FieldError.quoted($0) }.joined(separator: ", ")) (and doesn't have default values for any key fields)")
        }
        return "k:" + JSONValue.object(key).serialized()
    }

    static func itemMatches(_ item: JSONValue, _ key: JSONValue) -> Bool {
        for (k, v) in key.objectValue ?? [:] {
            let have = item[k].isNull && k == "protocol" ? "TCP" : item[k]
            if !have.semanticallyEquals(v) { return false }
        }
        return true
    }

    /// Follows one FieldsV1 step from a value.
    static func childValue(_ value: JSONValue?, _ key: String) -> JSONValue? {
        guard let value else { return nil }
        let body = key.dropFirst(2)
        switch key.prefix(2) {
        case "f:": return value.objectValue?[String(body)]
        case "k:":
            guard let items = value.arrayValue, let keyObject = parsedElement(body) else { return nil }
            return items.first { itemMatches($0, keyObject) }
        case "v:":
            guard let items = value.arrayValue, let wanted = parsedElement(body) else { return nil }
            return items.first { $0.semanticallyEquals(wanted) }
        case "i:":
            guard let items = value.arrayValue, let i = Int(body), items.indices.contains(i) else { return nil }
            return items[i]
        default: return nil
        }
    }

    static func parsedElement(_ text: Substring) -> JSONValue? {
        do {
            return try JSONValue.parse(Array(text.utf8))
        } catch {
            return nil  // an unreadable managedFields key names nothing in the object
        }
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
                var positions: [String: Int] = [:]
                for (i, item) in liveItems.enumerated() { positions[itemKeyOrPosition(item, keys: keys, position: -1 - i)] = i }
                for item in appliedItems {
                    let key = itemKeyOrPosition(item, keys: keys, position: -1)
                    if let index = positions[key] {
                        result[index] = merge(live: result[index], applied: item, strategy: strategy?.items)
                    } else {
                        positions[key] = result.count
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

    static func isKeyField(_ keys: [String]) -> Bool {
        guard keys.count >= 2, keys[keys.count - 1].hasPrefix("f:"), keys[keys.count - 2].hasPrefix("k:"),
              let key = parsedElement(keys[keys.count - 2].dropFirst(2)) else { return false }
        return key.objectValue?[String(keys[keys.count - 1].dropFirst(2))] != nil
    }

    static func remove(_ path: ArraySlice<String>, from object: inout JSONValue) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        let body = first.dropFirst(2)
        switch (first.prefix(2), object) {
        case ("f:", .object(var members)):
            let name = String(body)
            guard var child = members.removeValue(forKey: name) else { return }
            if !rest.isEmpty {
                remove(rest, from: &child)
                members[name] = child
            }
            object = .object(members)
        case ("k:", .array(var items)), ("v:", .array(var items)):
            guard let element = parsedElement(body) else { return }
            let matches = first.hasPrefix("k:") ? { (item: JSONValue) in itemMatches(item, element) } : { $0.semanticallyEquals(element) }
            guard let index = items.firstIndex(where: matches) else { return }
            if rest.isEmpty { items.remove(at: index) } else { remove(rest, from: &items[index]) }
            object = .array(items)
        case ("i:", .array(var items)):
            guard let i = Int(body), items.indices.contains(i) else { return }
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
