import JSON

/// Strategic merge patch (`application/strategic-merge-patch+json`) as
/// k8s.io/apimachinery/pkg/util/strategicpatch applies it to built-in kinds.
///
/// Guarantees:
/// - Maps merge recursively and `null` deletes, as in a JSON merge patch.
/// - Lists with a merge key merge item by item; scalar lists with the merge strategy merge
///   as sets; other lists are replaced.
/// - Directives: `$patch: replace | merge | delete` on maps and list items,
///   `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`, `$retainKeys`.
///   No directive survives into the result.
/// Errors:
/// - An unknown `$patch` value or a malformed directive is a 400 `PatchError`, as the server answers.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSONValue, to original: JSONValue, strategy: PatchStrategy) throws(PatchError) -> JSONValue {
        guard case .object(let patchMembers) = patch else {
            throw .badRequest("strategic merge patch must be a JSON object")
        }
        let originalMembers = original.objectValue ?? [:]
        return try mergeMap(originalMembers, patchMembers, strategy: strategy).map(JSONValue.object) ?? .emptyObject
    }

    static let directivePrefixDelete = "$deleteFromPrimitiveList/"
    static let directivePrefixOrder = "$setElementOrder/"

    /// Merges a patch map into an original map; nil means the map itself is deleted.
    static func mergeMap(_ original: [String: JSONValue], _ patch: [String: JSONValue], strategy: PatchStrategy?) throws(PatchError) -> [String: JSONValue]? {
        var patch = patch
        var result = original
        if let directive = patch.removeValue(forKey: "$patch") {
            switch directive.stringValue {
            case "replace": return try stripDirectives(patch)
            case "delete": return nil
            case "merge": break
            default: throw .badRequest("Unknown patch type: \(directive.stringValue ?? directive.serialized())")
            }
        }
        if let retain = patch.removeValue(forKey: "$retainKeys") {
            guard case .array(let keys) = retain else { throw .badRequest("$retainKeys must be a list of field names") }
            let keep = Set(keys.compactMap(\.stringValue))
            for key in Array(result.keys) where !keep.contains(key) { result.removeValue(forKey: key) }
        }
        var orders: [String: [JSONValue]] = [:]
        for key in Array(patch.keys) {
            if key.hasPrefix(directivePrefixDelete) {
                let field = String(key.dropFirst(directivePrefixDelete.count))
                guard case .array(let removed) = patch.removeValue(forKey: key)! else {
                    throw .badRequest("\(key) must be a list")
                }
                if case .array(let items) = result[field] ?? .null {
                    result[field] = .array(items.filter { item in !removed.contains(where: { $0.semanticallyEquals(item) }) })
                }
            } else if key.hasPrefix(directivePrefixOrder) {
                let field = String(key.dropFirst(directivePrefixOrder.count))
                guard case .array(let order) = patch.removeValue(forKey: key)! else {
                    throw .badRequest("\(key) must be a list")
                }
                orders[field] = order
            }
        }
        for (key, patchValue) in patch {
            let childStrategy = strategy?.child(key)
            if case .null = patchValue {
                result.removeValue(forKey: key)
                continue
            }
            let originalValue = result[key] ?? .null
            if childStrategy?.replace == true {
                result[key] = try stripDirectives(patchValue)
                continue
            }
            switch (originalValue, patchValue) {
            case (_, .object(let p)):
                let o = originalValue.objectValue ?? [:]
                if let merged = try mergeMap(o, p, strategy: childStrategy) {
                    result[key] = .object(merged)
                } else {
                    result.removeValue(forKey: key)
                }
            case (_, .array(let p)):
                let o = originalValue.arrayValue ?? []
                result[key] = .array(try mergeList(o, p, strategy: childStrategy))
            default:
                result[key] = patchValue
            }
        }
        for (field, order) in orders {
            guard case .array(let items) = result[field] ?? .null else { continue }
            result[field] = .array(reorder(items, by: order, mergeKey: strategy?.child(field)?.mergeKey))
        }
        return result
    }

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], strategy: PatchStrategy?) throws(PatchError) -> [JSONValue] {
        // A `{"$patch": "replace"}` item replaces the list with the other patch items.
        var patch = patch
        if let index = patch.firstIndex(where: { $0["$patch"].stringValue == "replace" && $0.objectValue?.count == 1 }) {
            patch.remove(at: index)
            return try patch.map { item throws(PatchError) in try stripDirectives(item) }
        }
        switch strategy?.listType {
        case .set?:
            var result = original
            for item in patch where !result.contains(where: { $0.semanticallyEquals(item) }) {
                result.append(item)
            }
            return result
        case .map(let keys)?:
            guard let mergeKey = keys.first else { return try patch.map { item throws(PatchError) in try stripDirectives(item) } }
            var result = original
            for item in patch {
                guard case .object(var members) = item else {
                    throw .badRequest("list item of a merge list must be an object: \(item.serialized())")
                }
                let keyValue = members[mergeKey] ?? .null
                if keyValue.isNull {
                    throw .badRequest("map: \(item.serialized()) does not contain declared merge key: \(mergeKey)")
                }
                let existing = result.firstIndex { $0[mergeKey].semanticallyEquals(keyValue) }
                if members["$patch"]?.stringValue == "delete" {
                    result.removeAll { $0[mergeKey].semanticallyEquals(keyValue) }
                    continue
                }
                if let existing {
                    let merged = try mergeMap(result[existing].objectValue ?? [:], members, strategy: strategy?.items)
                    if let merged { result[existing] = .object(merged) } else { result.remove(at: existing) }
                } else {
                    members.removeValue(forKey: "$patch")
                    if let merged = try mergeMap([:], members, strategy: strategy?.items) { result.append(.object(merged)) }
                }
            }
            return result
        default:
            return try patch.map { item throws(PatchError) in try stripDirectives(item) }
        }
    }

    /// Orders merged items as `$setElementOrder` lists them; items it does not name keep their
    /// relative order after the named ones.
    static func reorder(_ items: [JSONValue], by order: [JSONValue], mergeKey: String?) -> [JSONValue] {
        func identity(_ item: JSONValue) -> JSONValue {
            if let mergeKey { return item[mergeKey] }
            return item
        }
        let wanted = order.map { entry in mergeKey.map { entry[$0] } ?? entry }
        var named: [JSONValue] = []
        for key in wanted {
            if let match = items.first(where: { identity($0).semanticallyEquals(key) }) { named.append(match) }
        }
        let rest = items.filter { item in !wanted.contains(where: { identity(item).semanticallyEquals($0) }) }
        return named + rest
    }

    /// Removes directives from a value inserted as is (new keys, replaced lists).
    static func stripDirectives(_ value: JSONValue) throws(PatchError) -> JSONValue {
        switch value {
        case .object(let members): return .object(try stripDirectives(members))
        case .array(let items): return .array(try items.map { item throws(PatchError) in try stripDirectives(item) })
        default: return value
        }
    }

    static func stripDirectives(_ members: [String: JSONValue]) throws(PatchError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in members where !key.hasPrefix("$") {
            if case .null = value { continue }
            out[key] = try stripDirectives(value)
        }
        return out
    }
}
