import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Foundation's `Process.run()` on Linux emulates "close every other descriptor in the
// child" by listing the descriptors open *before* it spawns. A descriptor another thread
// creates in that window (a `Pipe`, or the socket pair another `Process.run()` uses to
// learn of its child's exit) is inherited by the new child, and lives as long as it does.
// Seen in the test suite: node's stdin pipe leaked into moto_server, so node never read
// end-of-file. The tools below close that window for this process's own children.

/// One spawn at a time in this process, so no `Process.run()` creates its exit-notification
/// socket while another is copying descriptors into a child.
private let spawnLock = Mutex(())

/// Runs `body` while no `runSerialized()` spawn is in progress, for code that creates
/// descriptors a child must not inherit and cannot mark close-on-exec atomically.
public func withNoSpawnInProgress<T>(_ body: () throws -> T) rethrows -> T {
    try spawnLock.withLock { _ in try body() }
}

extension Process {
    /// `run()`, serialised with every other `runSerialized()` of this process.
    ///
    /// Errors: whatever `run()` throws (missing executable, …).
    public func runSerialized() throws {
        try spawnLock.withLock { _ in try run() }
    }

    /// Waits at most `limit` for the process to exit, blocking the caller (for `defer` and
    /// other synchronous clean-up) in short sleeps rather than a busy loop; true if it exited.
    ///
    /// Unlike `waitUntilExit()`, which polls a run loop that has no sources when called off the
    /// launching thread (a concurrency thread, say), and so keeps a core at 100 % for as long
    /// as the child lives. Async callers that must not block use `terminationHandler`.
    public func waitForExit(upTo limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(5_000)
        }
        return true
    }
}

/// A pipe whose ends are close-on-exec, so no child inherits them by accident (a spawn that
/// is not serialised can still race the few instructions between pipe() and fcntl()); hand one end
/// to a `Process` as its stdin/stdout (the spawn duplicates it onto 0/1/2 without the flag)
/// and close that end in the parent after `run`.
public struct CloseOnExecPipe: Sendable {
    public let reading: FileHandle
    public let writing: FileHandle

    public init() throws {
        // Glibc's module does not export pipe2, so the flag is set right after pipe(); under
        // the spawn lock, so no `runSerialized()` can spawn between the two calls.
        let descriptors: [Int32] = try withNoSpawnInProgress {
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            return descriptors
        }
        reading = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true)
        writing = FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
    }
}

/// Waits up to `limit` for `pid`, a process this one did not start (a grandchild, say), to end;
/// true once it has gone or is a zombie (ended, but its parent or the reaper of orphans has not
/// collected it yet), false if it still runs at the deadline.
public func waitUntilEnded(_ pid: pid_t, upTo limit: Duration) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // "1234 (sleep) Z …": the state follows the parenthesised command name.
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        if stat.isEmpty || state == "Z" { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

/// The port of the first `http://127.0.0.1:<port>` in the file a server writes its output to,
/// for servers started on port 0 that announce where they listen (moto_server: " * Running on
/// http://127.0.0.1:41234"); nil until the line is there.
public func announcedLoopbackPort(inOutputFile path: String) -> Int? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let match = text.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)/) else { return nil }
    return Int(match.1)
}
