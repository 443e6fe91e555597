import ChildProcess
import Foundation

/// The outcome of running a real client program (curl, openssl) against the server under test.
struct CommandResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String { "exit \(status)\nstdout: \(stdout.prefix(2000))\nstderr: \(stderr.prefix(4000))" }
}

/// A scratch directory removed when the test is done with it.
final class ScratchDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tls-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Runs `executable` to completion without blocking a thread: output goes to files (a pipe
/// could fill up and stall the child) and the exit is awaited through the termination handler.
func runCommand(_ executable: String, _ arguments: [String], in scratch: ScratchDirectory) async throws -> CommandResult {
    let id = UUID().uuidString
    let outPath = scratch.path("stdout-\(id)")
    let errPath = scratch.path("stderr-\(id)")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardOutput = outHandle
    process.standardError = errHandle
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
        do {
            try process.runSerialized()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try outHandle.close()
    try errHandle.close()
    return CommandResult(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

let curlPath = "/usr/bin/curl"
let opensslPath = "/usr/bin/openssl"
