import JSON

/// A watch about to be streamed: the store subscription plus how to render and when to stop.
struct WatchStreamSource: Sendable {
    /// Nil when the watch ends right after `leadingLines` (a forced 410, for instance).
    let subscription: WatchSubscription?
    let timeout: Duration
    /// Lines sent before any store event, e.g. an ERROR event with a 410 Status.
    var leadingLines: [[UInt8]] = []
    /// Set when the client asked for `as=Table`: each event's object becomes a one-row Table.
    let table: TableRenderer?

    /// One newline-terminated `{"type":…,"object":…}` line, the framing kubectl and client-go decode.
    func line(for event: WatchEvent) -> [UInt8] {
        guard let table, event.type == .added || event.type == .modified || event.type == .deleted else {
            return event.serializedLine()
        }
        let type = event.type.rawValue
        let row = event.object
        let object = table.table(for: [row], resourceVersion: row[path: ["metadata", "resourceVersion"]].stringValue, continueToken: nil, remaining: nil)
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"type":"#.utf8)
        JSONValue.writeString(type, to: &out)
        out.append(contentsOf: #","object":"#.utf8)
        object.write(to: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func errorEvent(_ error: APIError) -> [UInt8] {
        var out: [UInt8] = Array(#"{"type":"ERROR","object":"#.utf8)
        error.statusObject().write(to: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

}
