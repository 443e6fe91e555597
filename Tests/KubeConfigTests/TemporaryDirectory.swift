import Foundation

/// A scratch directory for one test, removed when the test drops it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("kubeconfig-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` at `relative` (creating folders) and returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ contents: String, executable: Bool = false) throws -> String {
        let full = (path as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full)
        }
        return full
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(relative))
            .map { String(decoding: $0, as: UTF8.self) }
    }
}

func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
