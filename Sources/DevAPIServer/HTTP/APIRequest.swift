import Foundation
import JSON

/// One fully received HTTP request, as the API handlers see it.
struct APIRequest: Sendable {
    var method: String
    /// The path without the query string, percent-decoded per segment.
    var path: String
    var query: [String: String]
    /// Header names are lower-cased so lookups need not care how the client spelled them.
    var headers: [String: String]
    var body: [UInt8]
    /// Who the request authenticated as; nil until authentication ran or when anonymous.
    var user: String?

    init(method: String, uri: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        var lowered: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            // Repeated headers (Accept can come twice) are joined the way HTTP allows.
            if let existing = lowered[key] { lowered[key] = existing + "," + value } else { lowered[key] = value }
        }
        self.headers = lowered
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts.first ?? "")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.percentDecoded(kv[0])
                let value = kv.count > 1 ? Self.percentDecoded(kv[1]) : ""
                // First occurrence wins, as Go's url.Values.Get does.
                if query[key] == nil { query[key] = value }
            }
        }
        self.query = query
    }

    /// Path segments with empty ones dropped (`/api/v1/` and `/api/v1` route alike).
    var pathSegments: [String] {
        path.split(separator: "/").map { Self.percentDecoded($0, plusIsSpace: false) }
    }

    var contentType: String {
        let raw = headers["content-type"] ?? ""
        return raw.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// True when the client offered a `meta.k8s.io` Table rendering, as `kubectl get` does.
    var acceptsTable: Bool {
        guard let accept = headers["accept"] else { return false }
        for offer in accept.split(separator: ",") {
            let params = offer.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            if params.contains("as=Table"), params.contains("g=meta.k8s.io"), params.contains("v=v1") { return true }
        }
        return false
    }

    static func percentDecoded(_ text: Substring, plusIsSpace: Bool = true) -> String {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return String(text) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "+"), plusIsSpace {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = bytes.next(), let low = bytes.next(),
                      let h = hexValue(high), let l = hexValue(low) {
                out.append(h << 4 | l)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
