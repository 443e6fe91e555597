import ChildProcess
import Foundation
import Synchronization
import Testing

/// What `/proc/<pid>/fd` says each open descriptor of `pid` above stderr is ("pipe:[123]",
/// "socket:[456]", …).
func openDescriptors(of pid: Int32) -> [String] {
    let directory = "/proc/\(pid)/fd"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { (Int($0) ?? 0) > 2 }.compactMap {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")
    }
}

/// Spawns `/bin/sleep` with posix_spawn and no file actions: the child inherits every
/// descriptor that is not close-on-exec, which is what a racing spawn does to a new one.
func spawnInheritingEverything() throws -> pid_t {
    var pid: pid_t = 0
    let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("5"), nil]
    defer { arguments.forEach { free($0) } }
    let code = posix_spawn(&pid, "/bin/sleep", nil, nil, arguments, environ)
    guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO) }
    return pid
}

@Suite struct CloseOnExecPipeTests {
    @Test func ends_areNotInheritedByAChildThatInheritsEverythingElse() throws {
        let guarded = try CloseOnExecPipe()
        let foundation = Pipe()  // the control: Foundation's pipe is inherited
        let guardedIdentity = try FileManager.default.destinationOfSymbolicLink(
            atPath: "/proc/self/fd/\(guarded.writing.fileDescriptor)")
        let foundationIdentity = try FileManager.default.destinationOfSymbolicLink(
            atPath: "/proc/self/fd/\(foundation.fileHandleForWriting.fileDescriptor)")
        let child = try spawnInheritingEverything()
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        let inherited = openDescriptors(of: child)
        #expect(inherited.contains(foundationIdentity))
        #expect(!inherited.contains(guardedIdentity))
    }

    @Test func asAChildsStdin_deliversEndOfFileOnceTheParentCloses() async throws {
        let stdin = try CloseOnExecPipe()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cloexec-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cat")
        process.standardInput = stdin.reading
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.runSerialized()
        try stdin.reading.close()
        try stdin.writing.write(contentsOf: Data("through the pipe".utf8))
        try stdin.writing.close()
        // cat exits only on end-of-file, so this returning at all is the assertion's half.
        #expect(process.waitForExit(upTo: .seconds(10)))
        #expect(try String(contentsOf: output, encoding: .utf8) == "through the pipe")
    }
}

@Suite struct SerializedSpawnTests {
    /// Many concurrent spawns: no child may hold another child's exit-notification socket
    /// (Foundation would then never see that sibling exit). Seen as one socket open in two
    /// children. Descriptors other threads of the test process open can still slip into a
    /// child (Foundation's close-what-I-saw emulation), but each can slip into one child only,
    /// so they never show up as shared.
    @Test func concurrentSpawns_neverHandAChildAnotherChildsDescriptors() async throws {
        let children = try await withThrowingTaskGroup(of: [Process].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var started: [Process] = []
                    for _ in 0..<20 {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
                        process.arguments = ["5"]
                        try process.runSerialized()
                        started.append(process)
                    }
                    return started
                }
            }
            var all: [Process] = []
            for try await batch in group { all += batch }
            return all
        }
        defer { for child in children { kill(child.processIdentifier, SIGKILL) } }
        var holders: [String: [Int32]] = [:]
        for child in children {
            for socket in Set(openDescriptors(of: child.processIdentifier).filter({ $0.hasPrefix("socket:") })) {
                holders[socket, default: []].append(child.processIdentifier)
            }
        }
        let shared = holders.filter { $0.value.count > 1 }
        #expect(shared.isEmpty, "sockets held by more than one child: \(shared)")
        for child in children { kill(child.processIdentifier, SIGKILL) }
        for child in children { _ = child.waitForExit(upTo: .seconds(10)) }
        #expect(children.allSatisfy { !$0.isRunning })
    }

    /// The property the leak-freedom rests on: a spawn waits while the lock is held elsewhere.
    /// Synchronous on purpose: while the lock is held, concurrency threads of other tests may
    /// block in `runSerialized()`, so nothing here may wait for one.
    @Test func runSerialized_waitsWhileAnotherHolderHasTheSpawnLock() throws {
        let spawned = Mutex(false)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            withNoSpawnInProgress {
                entered.signal()
                release.wait()
            }
        }
        holder.start()
        entered.wait()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        let spawner = Thread {
            try? process.runSerialized()
            spawned.withLock { $0 = true }
        }
        spawner.start()
        usleep(200_000)
        let spawnedWhileHeld = spawned.withLock { $0 }
        release.signal()
        #expect(!spawnedWhileHeld, "the spawn went ahead while the lock was held")
        let deadline = ContinuousClock.now + .seconds(10)
        while !spawned.withLock({ $0 }) && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(spawned.withLock { $0 })
        #expect(process.waitForExit(upTo: .seconds(10)))
        #expect(process.terminationStatus == 0)
    }

    @Test func waitForExit_upTo_returnsFalseWhileTheChildRuns() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["5"]
        try process.runSerialized()
        #expect(!process.waitForExit(upTo: .milliseconds(50)))
        kill(process.processIdentifier, SIGKILL)
        #expect(process.waitForExit(upTo: .seconds(10)))
    }
}

@Suite struct AnnouncedPortTests {
    @Test func announcedLoopbackPort_readsThePortAServerPrintedOnceItIsThere() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("announced-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(announcedLoopbackPort(inOutputFile: path) == nil)  // not created yet
        try Data("WARNING: This is a development server.\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(announcedLoopbackPort(inOutputFile: path) == nil)
        // What moto_server (werkzeug) prints when started with -p 0.
        try Data("WARNING: This is a development server.\n * Running on http://127.0.0.1:41234\nPress CTRL+C to quit\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        #expect(announcedLoopbackPort(inOutputFile: path) == 41234)
    }
}
