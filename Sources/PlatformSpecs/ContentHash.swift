/// A 64-bit FNV-1a digest, used only to notice that configuration changed so pods roll.
///
/// Not a security hash: nothing relies on it being hard to collide, and it avoids pulling
/// a crypto library into a pure module.
enum ContentHash {
    static func hex(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
