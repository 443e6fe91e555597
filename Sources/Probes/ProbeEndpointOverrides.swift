import Foundation

/// Maps data-store endpoints (host:port as AWS reports them) to other addresses, so tests and
/// local demos can point probes at servers on loopback without touching the platform spec.
///
/// Format (environment variable `MEDSEARCH_PROBE_ENDPOINT_OVERRIDES`, see docs/probes.md):
/// comma-separated `from=to` entries, each side `host:port`, IPv6 hosts in brackets:
/// `mydb.abc.us-east-1.rds.amazonaws.com:5432=127.0.0.1:55432,cache.example:6379=[::1]:56379`.
/// Host names match case-insensitively; whitespace around entries is ignored.
///
/// Caveats: the probe still verifies TLS against the original host name (the certificate a
/// port-forwarded or stand-in server presents must name it), unless the probe's TLS
/// configuration names another server.
public struct ProbeEndpointOverrides: Sendable, Hashable {
    /// The environment variable read by `fromEnvironment`.
    public static let environmentVariable = "MEDSEARCH_PROBE_ENDPOINT_OVERRIDES"

    /// A `host:port` pair.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Why an override list could not be read; names the entry, which holds no secrets.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let entry: String
        public let problem: String
        public var description: String { "invalid probe endpoint override \"\(entry)\": \(problem)" }
    }

    /// Keys have lowercased hosts.
    public private(set) var mappings: [Endpoint: Endpoint]

    public init(_ mappings: [Endpoint: Endpoint] = [:]) {
        var normalized: [Endpoint: Endpoint] = [:]
        for (from, to) in mappings {
            normalized[Endpoint(host: from.host.lowercased(), port: from.port)] = to
        }
        self.mappings = normalized
    }

    /// Parses the documented format; an empty string means no overrides.
    public init(parsing text: String) throws(ParseError) {
        var mappings: [Endpoint: Endpoint] = [:]
        for rawEntry in text.split(separator: ",") {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            let sides = entry.split(separator: "=", omittingEmptySubsequences: false)
            guard sides.count == 2 else {
                throw ParseError(entry: entry, problem: "expected exactly one '=' between two host:port endpoints")
            }
            let from = try Self.endpoint(String(sides[0]).trimmingCharacters(in: .whitespaces), entry: entry)
            let to = try Self.endpoint(String(sides[1]).trimmingCharacters(in: .whitespaces), entry: entry)
            let key = Endpoint(host: from.host.lowercased(), port: from.port)
            if let existing = mappings[key], existing != to {
                throw ParseError(entry: entry, problem: "\(from) is already mapped to \(existing)")
            }
            mappings[key] = to
        }
        self.mappings = mappings
    }

    /// Reads `MEDSEARCH_PROBE_ENDPOINT_OVERRIDES` from `environment`; unset means none.
    public static func fromEnvironment(_ environment: [String: String]) throws(ParseError) -> ProbeEndpointOverrides {
        try ProbeEndpointOverrides(parsing: environment[environmentVariable] ?? "")
    }

    /// Where to connect for `host:port`: its override, or itself.
    public func resolve(host: String, port: Int) -> Endpoint {
        mappings[Endpoint(host: host.lowercased(), port: port)] ?? Endpoint(host: host, port: port)
    }

    private static func endpoint(_ text: String, entry: String) throws(ParseError) -> Endpoint {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(entry: entry, problem: "\"\(text)\" is not [ipv6]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ParseError(entry: entry, problem: "\"\(text)\" has no port")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw ParseError(entry: entry, problem: "IPv6 addresses must be written in brackets")
            }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) else {
            throw ParseError(entry: entry, problem: "\"\(text)\" has no valid host")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ParseError(entry: entry, problem: "\"\(portText)\" is not a port between 1 and 65535")
        }
        return Endpoint(host: String(host), port: port)
    }
}
