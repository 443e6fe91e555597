import ChildProcess
import Foundation
import Testing

/// Runs `body` with `/dev/null` open for reading, the usual stdin of a child.
private func withNullInput<T>(_ body: (Int32) throws -> T) throws -> T {
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    guard null >= 0 else { throw POSIXError(.EIO) }
    defer { close(null) }
    return try body(null)
}

/// Spawns `arguments` under /bin/sh -c with both outputs going to one close-on-exec pipe;
/// the parent's copy of the write end is closed, so reading to the end finishes when every
/// holder in the child's group has gone.
private func spawnShell(_ script: String) throws -> (IsolatedChild, CloseOnExecPipe) {
    let output = try CloseOnExecPipe()
    let child = try withNullInput { null in
        try IsolatedChild.spawn(
            executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"],
            stdin: null, stdout: output.writing.fileDescriptor, stderr: output.writing.fileDescriptor)
    }
    try output.writing.close()
    return (child, output)
}

/// The signals set in one of the hexadecimal masks of /proc/<pid>/status ("SigIgn", "SigBlk").
private func signalMask(_ field: String, of pid: pid_t) throws -> Set<Int32> {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
    let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16))
    return Set((1...64).filter { mask & (1 << UInt64($0 - 1)) != 0 }.map(Int32.init))
}

/// How the child ended, waiting at most `limit`; on timeout it is killed and nil returned, so
/// a child that ignores what it was sent fails the test instead of hanging it.
private func termination(of child: IsolatedChild, within limit: Duration = .seconds(10)) async -> IsolatedChild.Termination? {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if let ended = child.termination { return ended }
        try? await Task.sleep(for: .milliseconds(20))
    }
    child.signalGroup(SIGKILL)
    _ = await child.waitForTermination()
    return nil
}

@Suite struct IsolatedChildTests {
    @Test func spawn_runsTheProgramWithExactlyItsEnvironment_andReportsItsExitStatus() async throws {
        // In this process's environment, but not in the one given to the child.
        setenv("MEDSEARCH_ISOLATED_CHILD_MARK", "inherited", 1)
        let (child, output) = try spawnShell(#"echo "out $MEDSEARCH_ISOLATED_CHILD_MARK $PATH"; echo err >&2; exit 3"#)
        let text = String(decoding: output.reading.readDataToEndOfFile(), as: UTF8.self)
        #expect(await child.waitForTermination() == .exited(3))
        #expect(child.termination == .exited(3))
        #expect(text == "out  /usr/bin:/bin\nerr\n")
    }

    @Test func child_inheritsOnlyItsThreeStandardDescriptors() async throws {
        // Neither is close-on-exec: a pipe as Foundation makes them, a socket as NIO makes them.
        let leaky = Pipe()
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        let (child, _) = try spawnShell("exec sleep 30")
        defer { child.signalGroup(SIGKILL) }
        // posix_spawn returns once the program has been executed, so its table is final here.
        #expect(openDescriptors(of: child.pid) == [])
        withExtendedLifetime(leaky) {}
        child.signalGroup(SIGKILL)
        #expect(await child.waitForTermination() == .signalled(SIGKILL))
    }

    /// swift-service-lifecycle ignores SIGTERM so it can catch it; children must not inherit
    /// that (nor a blocked mask), or a plugin cannot be stopped politely.
    @Test func child_hasDefaultSignalDispositionsAndNothingBlocked_evenWhenTheParentIgnoresOrBlocksThem() async throws {
        let previous = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previous) }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var saved = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &saved)
        let spawned = Result { try spawnShell("exec sleep 30") }
        pthread_sigmask(SIG_SETMASK, &saved, nil)
        let (child, _) = try spawned.get()
        defer { child.signalGroup(SIGKILL) }

        #expect(!(try signalMask("SigIgn", of: child.pid)).contains(SIGUSR2))
        #expect(!(try signalMask("SigBlk", of: child.pid)).contains(SIGUSR1))
        child.signalGroup(SIGUSR2)  // default action: terminate
        #expect(await termination(of: child) == .signalled(SIGUSR2))
    }

    @Test func signalGroup_reachesWhatTheChildStarted() async throws {
        // The background sleep holds the output pipe; reading to the end returns only once it is gone too.
        let (child, output) = try spawnShell("sleep 30 & wait")
        try await Task.sleep(for: .milliseconds(200))
        child.signalGroup(SIGTERM)
        #expect(await termination(of: child) == .signalled(SIGTERM))
        // Returns at once if the group signal reached the sleep; otherwise after its 30 s.
        let started = ContinuousClock.now
        _ = output.reading.readDataToEndOfFile()
        #expect(ContinuousClock.now - started < .seconds(20), "the background sleep outlived the group signal")
    }

    @Test func signalGroup_afterTheChildHasExited_stillReachesWhatItLeftRunning() async throws {
        let (child, output) = try spawnShell("sleep 30 &\necho $!")
        #expect(await termination(of: child) == .exited(0))
        let line = String(decoding: output.reading.availableData, as: UTF8.self)
        let leftBehind = try #require(Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        child.signalGroup(SIGTERM)
        #expect(await waitUntilEnded(leftBehind, upTo: .seconds(10)), "the background sleep outlived the group signal")
    }

    @Test func spawn_ofAMissingExecutable_throwsENOENT() throws {
        let output = try CloseOnExecPipe()
        #expect(throws: POSIXError(.ENOENT)) {
            try IsolatedChild.spawn(
                executable: "/nonexistent/plugin", arguments: [], environment: [:],
                stdin: output.reading.fileDescriptor, stdout: output.writing.fileDescriptor, stderr: output.writing.fileDescriptor)
        }
    }
}
