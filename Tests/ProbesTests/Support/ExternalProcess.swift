import ChildProcess
import Foundation

/// What a finished helper program printed, for failure messages.
struct ProcessOutcome: CustomStringConvertible {
    let status: Int32
    let output: String

    var description: String { "exit \(status): \(output.suffix(3000))" }
}

/// A temporary directory removed on `remove()`; world-traversable so a server started as
/// another user (postgres, when tests run as root) can reach its own files inside it.
struct TemporaryDirectory: Sendable {
    let path: String

    init(prefix: String) throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: created)
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let target = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        chmod(target, mode)
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A not yet started process with stdout and stderr going to `outputFile` (created empty) and
/// no stdin; the caller closes the returned handle once the process has started.
private func processWritingTo(_ outputFile: String, _ executable: String, _ arguments: [String]) throws -> (Process, FileHandle) {
    _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    return (process, output)
}

/// Runs a program to completion without blocking a thread; output goes to a file so a full
/// pipe cannot stall the child.
func runToCompletion(_ executable: String, _ arguments: [String], outputFile: String) async throws -> ProcessOutcome {
    let (process, output) = try processWritingTo(outputFile, executable, arguments)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.runSerialized() } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try output.close()
    let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    return ProcessOutcome(status: status, output: text)
}

/// A long-running server process, stopped by `stop()` (SIGKILL, then waiting for the exit).
///
/// SIGKILL because Foundation starts children with the test runner's signal mask, in which
/// SIGTERM is blocked, so a server that does not reset its mask (redis-server) ignores it.
/// Servers here hold only throwaway data, so nothing is lost.
final class BackgroundProcess: Sendable {
    private let process: Process
    private let exited: Task<Int32, Never>

    init(_ executable: String, _ arguments: [String], outputFile: String) throws {
        let (process, output) = try processWritingTo(outputFile, executable, arguments)
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            continuation.yield(finished.terminationStatus)
            continuation.finish()
        }
        try process.runSerialized()
        try output.close()
        self.process = process
        exited = Task { await stream.first(where: { _ in true }) ?? -1 }
    }

    var isRunning: Bool { process.isRunning }

    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = await exited.value
    }
}

/// A server process exited before it listened; its log. Usually its port, free a moment
/// before, was taken (another test's listener, some connection's ephemeral port) first.
struct ExitedBeforeListening: Error { let log: String }

/// Runs `start` up to three times while it throws `ExitedBeforeListening` (each attempt picks
/// new ports); any other error ends at once.
func startRetryingOnEarlyExit<Server>(_ name: String, _ start: () async throws -> Server) async throws -> Server {
    var logs: [String] = []
    for _ in 0..<3 {
        do {
            return try await start()
        } catch let exited as ExitedBeforeListening {
            logs.append(exited.log)
        }
    }
    throw TestSetupError("\(name) did not start in 3 attempts: \(logs.joined(separator: " | "))")
}

/// Whether the tests run as root, in which case PostgreSQL must run as another user.
var runningAsRoot: Bool { geteuid() == 0 }

/// Finds `name` in a list of likely directories.
func findExecutable(_ name: String, in directories: [String]) -> String? {
    directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
}
