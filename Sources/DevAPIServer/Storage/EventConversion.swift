import JSON

/// core/v1 and events.k8s.io/v1 Events are one resource in two shapes, as on a real server:
/// stored in the core shape, converted at the edges, so `kubectl get events` and
/// `kubectl describe` show events an operator writes through events.k8s.io/v1.
enum EventConversion {
    static let coreKey = ResourceKey(group: "", version: "v1", plural: "events")

    /// events.k8s.io/v1 field ↔ core/v1 field (same value, different name).
    static let renamed: [(events: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    static func isEventsAPI(_ type: ResourceType) -> Bool { type.group == "events.k8s.io" && type.plural == "events" }

    static func isEvent(_ type: ResourceType) -> Bool { type.plural == "events" && (type.group.isEmpty || type.group == "events.k8s.io") }

    static func toCore(_ event: JSONValue) -> JSONValue {
        guard case .object = event else { return event }
        var core = event
        for (eventsName, coreName) in renamed {
            let value = core[eventsName]
            core[eventsName] = .null
            if !value.isNull { core[coreName] = value }
        }
        core["apiVersion"] = "v1"
        return core
    }

    static func toEventsAPI(_ core: JSONValue) -> JSONValue {
        guard case .object = core else { return core }
        var event = core
        for (eventsName, coreName) in renamed {
            let value = event[coreName]
            event[coreName] = .null
            if !value.isNull { event[eventsName] = value }
        }
        // eventTime is required in events.k8s.io/v1; core events written by older clients lack it.
        if event["eventTime"].isNull, let time = event["deprecatedLastTimestamp"].stringValue ?? event["deprecatedFirstTimestamp"].stringValue {
            event["eventTime"] = .string(time.replacingOccurrences(of: "Z", with: ".000000Z"))
        }
        event["apiVersion"] = "events.k8s.io/v1"
        return event
    }

    /// The object in the shape `type` serves (a no-op for everything but Events across the two APIs).
    static func present(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        guard isEvent(type) else { return object }
        let isCore = object["apiVersion"].stringValue == "v1"
        if isEventsAPI(type) && isCore { return toEventsAPI(object) }
        if !isEventsAPI(type) && !isCore { return toCore(object) }
        return object
    }
}
