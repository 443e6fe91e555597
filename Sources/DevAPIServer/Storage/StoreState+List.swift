import APIMachinery
import Foundation
import JSON

/// The parsed label and field selectors of a list or watch, checked against the kind.
struct ObjectFilter: Sendable {
    var namespace: String?
    var labels: LabelSelector?
    var fields: FieldSelector?

    init(type: ResourceType, namespace: String?, options: ListOptions) throws(APIError) {
        self.namespace = type.namespaced && !(namespace ?? "").isEmpty ? namespace : nil
        if let text = options.labelSelector, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            do { labels = try LabelSelector.parse(text) } catch { throw .badRequest("unable to parse requirement: \(error.message)") }
        }
        if let text = options.fieldSelector, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            let selector: FieldSelector
            do { selector = try FieldSelector.parse(text) } catch { throw .badRequest("invalid field selector: \(error.message)") }
            let known = Set(type.selectableFields)
            for requirement in selector.requirements where !known.contains(requirement.field) {
                if type.isCustomResource {
                    throw .badRequest("\"\(requirement.field)\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
                }
                throw .badRequest("field label not supported: \(requirement.field)")
            }
            fields = selector
        }
    }

    var selectsEverything: Bool { labels == nil && fields == nil }

    func matches(_ header: ObjectHeader) -> Bool {
        if let namespace, header.namespace != namespace { return false }
        if let labels, !labels.matches(header.labels) { return false }
        if let fields, !fields.matches({ header.field($0) }) { return false }
        return true
    }
}

/// The opaque `continue` token: the snapshot resourceVersion and the last key returned,
/// base64 JSON in the same shape the real server uses.
struct ContinueToken: Sendable, Equatable {
    var resourceVersion: Int64
    var startAfter: String

    func encoded() -> String {
        let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(resourceVersion), "start": .string(startAfter + "\u{0}")]
        // URL-safe and unpadded like the real server's, so the token survives query strings unescaped.
        return Data(json.serializedBytes()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(resourceVersion: Int64, startAfter: String) {
        self.resourceVersion = resourceVersion
        self.startAfter = startAfter
    }

    init(decoding text: String) throws(APIError) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard),
              let json = try? JSONValue.parse(Array(data)),
              json["v"].stringValue == "meta.k8s.io/v1",
              let version = json["rv"].intValue, version > 0,
              var start = json["start"].stringValue
        else { throw .badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)") }
        if start.hasSuffix("\u{0}") { start.removeLast() }
        resourceVersion = version
        startAfter = start
    }
}

extension StoreState {
    static let expiredContinueMessage =
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."

    mutating func list(_ key: ResourceKey, namespace: String?, options: ListOptions) throws(APIError) -> ListResult {
        let type = try type(for: key)
        let filter = try ObjectFilter(type: type, namespace: namespace, options: options)
        var snapshot = resourceVersion
        var startAfter: String?
        if let text = options.continueToken, !text.isEmpty {
            if let version = options.resourceVersion, !version.isEmpty, version != "0" {
                throw .badRequest("specifying resource version is not allowed when using continue")
            }
            let token = try ContinueToken(decoding: text)
            if token.resourceVersion < history.compactedThrough { throw .expired(Self.expiredContinueMessage) }
            snapshot = token.resourceVersion
            startAfter = token.startAfter
        } else {
            snapshot = try checkListResourceVersion(options)
        }
        let limit = (options.limit ?? 0) > 0 ? options.limit! : Int.max
        guard var bucket = buckets[type.storageID] else {
            return ListResult(type: type, itemBytes: [], resourceVersion: String(snapshot))
        }
        var keys = bucket.orderedKeys()
        buckets[type.storageID] = bucket
        // An older snapshot is the present with every later change undone, from the history.
        let pastStates = snapshot < resourceVersion ? states(of: type.storageID, at: snapshot) : [:]
        let reappearing = pastStates.compactMap { key, state in state != nil && bucket.objects[key] == nil ? key : nil }
        if !reappearing.isEmpty { keys = (keys + reappearing).sorted() }
        var index = 0
        let lowerBound = startAfter ?? filter.namespace.map { $0 + "/" } ?? ""
        // Binary search to the first key past the continue point (or the namespace's first key).
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if startAfter != nil ? keys[mid] <= lowerBound : keys[mid] < lowerBound { low = mid + 1 } else { high = mid }
        }
        index = low
        let namespacePrefix = filter.namespace.map { $0 + "/" }
        var items: [[UInt8]] = []
        var lastKey: String?
        var remaining = 0
        while index < keys.count {
            let key = keys[index]
            index += 1
            if let namespacePrefix, !key.hasPrefix(namespacePrefix) { break }
            let candidate: StoredObject?
            if let past = pastStates[key] { candidate = past } else { candidate = bucket.objects[key] }
            guard let object = candidate, filter.matches(object.header) else { continue }
            if items.count < limit {
                items.append(render(object, as: type))
                lastKey = key
            } else {
                // One more match means another page. Without selectors the rest of the key range is
                // the remaining count (as etcd reports it), found by binary search rather than a scan,
                // so paging through a large list stays linear.
                remaining = 1
                if filter.selectsEverything {
                    var end = keys.count
                    if let namespacePrefix {
                        var low = index, high = keys.count
                        while low < high {
                            let mid = (low + high) / 2
                            if keys[mid].hasPrefix(namespacePrefix) { low = mid + 1 } else { high = mid }
                        }
                        end = low
                    }
                    remaining = end - index + 1
                }
                break
            }
        }
        var result = ListResult(type: type, itemBytes: items, resourceVersion: String(snapshot))
        if remaining > 0, let lastKey {
            result.continueToken = ContinueToken(resourceVersion: snapshot, startAfter: lastKey).encoded()
            if filter.selectsEverything { result.remainingItemCount = remaining }
        }
        return result
    }

    /// The objects of a storage whose state at `version` differs from now, by key: their
    /// content then, or nil when they did not exist then. Needs `version >= history.compactedThrough`.
    func states(of storage: StorageID, at version: Int64) -> [String: StoredObject?] {
        var states: [String: StoredObject?] = [:]
        for event in history.events(after: version) where event.storage == storage {
            let key = event.header.storageKey
            // The first change after the snapshot tells what the object was at it.
            if states.keys.contains(key) { continue }
            if event.type == .added {
                states[key] = .some(nil)
            } else if let previous = event.previous, let bytes = event.previousBytes {
                states[key] = StoredObject(bytes: bytes, header: previous)
            }
        }
        return states
    }

    /// resourceVersion / resourceVersionMatch rules of a list without a continue token; answers
    /// the resourceVersion to list at.
    func checkListResourceVersion(_ options: ListOptions) throws(APIError) -> Int64 {
        let text = options.resourceVersion ?? ""
        let match = options.resourceVersionMatch ?? ""
        if !match.isEmpty && text.isEmpty {
            throw .badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
        }
        if !match.isEmpty && match != "NotOlderThan" && match != "Exact" {
            throw .badRequest("resourceVersionMatch: Unsupported value: \"\(match)\": supported values: \"Exact\", \"NotOlderThan\"")
        }
        guard !text.isEmpty, text != "0" || match == "Exact" else { return resourceVersion }
        guard let version = Int64(text), version > 0 || match != "Exact" else {
            throw .badRequest("resourceVersion: Invalid value: \"\(text)\": must be a positive integer")
        }
        if version > resourceVersion {
            throw APIError(code: 504, reason: "Timeout",
                           message: "Too large resource version: \(version), current: \(resourceVersion)",
                           details: StatusDetails(causes: [StatusCause(reason: "ResourceVersionTooLarge",
                                                                       message: "Too large resource version", field: "")],
                                                  retryAfterSeconds: 1))
        }
        if match == "Exact" && version < resourceVersion {
            // The past is rebuilt from the history; before it, it is compacted as in etcd.
            if version < history.compactedThrough {
                throw .expired("too old resource version: \(version) (\(history.compactedThrough + 1))")
            }
            return version
        }
        return resourceVersion
    }
}
