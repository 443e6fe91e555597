import JSON

/// JSON merge patch (RFC 7386), the `application/merge-patch+json` patch type.
///
/// Objects merge member by member, `null` removes a member, and anything else (arrays
/// included) replaces the target wholesale.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let o) = target { result = o } else { result = [:] }
        for (key, value) in patchMembers {
            if case .null = value {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The smallest merge patch that turns `from` into `to` (`apply(diff(from: a, to: b), to: a) == b`
    /// whenever `b` contains no `null` member values, which merge patches cannot express).
    public static func diff(from: JSONValue, to: JSONValue) -> JSONValue {
        guard case .object(let old) = from, case .object(let new) = to else { return to }
        var patch: [String: JSONValue] = [:]
        for (key, oldValue) in old where new[key] == nil {
            _ = oldValue
            patch[key] = .null
        }
        for (key, newValue) in new {
            guard let oldValue = old[key] else {
                patch[key] = newValue
                continue
            }
            if oldValue.semanticallyEquals(newValue) { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = diff(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}
