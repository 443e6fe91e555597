import Foundation

/// Kubernetes `MicroTime` / `Time` formatting (RFC 3339 in UTC), for Lease and Event fields.
enum KubernetesTime {
    /// `2026-11-25T21:30:00.123456Z`, the MicroTime form the API server stores for Leases.
    static func micro(_ date: Date) -> String {
        let (base, fraction) = split(date)
        let micros = Int((fraction * 1_000_000).rounded(.down))
        return base + "." + pad(micros, 6) + "Z"
    }

    /// `2026-11-25T21:30:00Z`, the `Time` form (whole seconds).
    static func seconds(_ date: Date) -> String {
        split(date).base + "Z"
    }

    private static func split(_ date: Date) -> (base: String, fraction: Double) {
        let interval = date.timeIntervalSince1970
        let whole = interval.rounded(.down)
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let base = "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
        return (base, interval - whole)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
