import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process that starts clean, for programs the operator runs in production (exec
/// credential plugins): it inherits only its stdin, stdout and stderr, every signal has its
/// default disposition and none is blocked, and it leads a new process group.
///
/// Why not Foundation's `Process`: it closes only the descriptors it saw open just before the
/// spawn (a socket SwiftNIO opens at that moment is inherited, and NIO's sockets are not
/// close-on-exec on Linux), and it keeps dispositions set to "ignore". swift-service-lifecycle
/// ignores SIGTERM in `run` so it can catch it, so every child of `run` ignored SIGTERM and a
/// cancelled plugin ran on until its timeout's SIGKILL.
///
/// Here descriptors ≥ 3 are closed inside the child by `posix_spawn` itself
/// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+, looked up at run time because the
/// Swift Glibc module does not export it); where it is missing, every descriptor open at spawn
/// time is closed explicitly, under the spawn lock.
public final class IsolatedChild: Sendable {
    /// How the child ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    public let pid: pid_t
    private let state = Mutex(WaitState())

    private struct WaitState {
        var termination: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
    }

    /// Starts `executable` (an absolute path) with `arguments` (without argv[0]) and exactly
    /// `environment`; the three descriptors become its 0, 1 and 2 (the caller keeps and closes
    /// its own copies).
    ///
    /// Errors: `POSIXError` from posix_spawn (ENOENT for a missing executable, EACCES, …).
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String],
        stdin: Int32, stdout: Int32, stderr: Int32
    ) throws -> IsolatedChild {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // dup2 clears close-on-exec on the copy, so CloseOnExecPipe ends work as stdio.
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var every = sigset_t()
        sigfillset(&every)
        posix_spawnattr_setsigdefault(&attributes, &every)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let code: Int32 = withNoSpawnInProgress {
            if let closeFrom = closeFromAction {
                _ = closeFrom(&actions, 3)
            } else {
                for descriptor in openDescriptorsAboveStderr() {
                    posix_spawn_file_actions_addclose(&actions, descriptor)
                }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO) }
        let child = IsolatedChild(pid: pid)
        child.startWaiting()
        return child
    }

    private init(pid: pid_t) { self.pid = pid }

    /// How it ended, once it has; nil while it runs.
    public var termination: Termination? { state.withLock { $0.termination } }

    /// Waits for the child to end, without holding a concurrency thread.
    public func waitForTermination() async -> Termination {
        await withCheckedContinuation { continuation in
            let finished: Termination? = state.withLock { state in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let finished { continuation.resume(returning: finished) }
        }
    }

    /// Sends `signal` to the child's process group: the child and what it started, which may
    /// outlive it (a background job holding its output open).
    ///
    /// The group is signalled even after the child has been reaped: a process group's id is not
    /// reused while any member lives (POSIX), so it reaches only what is left of the group, or
    /// nothing. The lone pid is signalled (if the group is gone) only until it is reaped, after
    /// which the number may belong to a stranger.
    public func signalGroup(_ signal: Int32) {
        if kill(-pid, signal) == 0 { return }
        state.withLock { state in
            guard state.termination == nil else { return }
            kill(pid, signal)
        }
    }

    /// One thread blocked in waitpid for this child's lifetime: exec plugins are short-lived
    /// and rare, and a thread cannot be confused by other children the way SIGCHLD handling can.
    private func startWaiting() {
        let thread = Thread { [self] in
            // Wait without reaping, then reap under the lock `signalGroup` takes: the pid cannot
            // be reused (and a stranger signalled) until it is reaped.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
            let (termination, waiters) = state.withLock { state in
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                // WIFEXITED / WTERMSIG are macros the Swift Glibc module does not export.
                let signal = status & 0x7f
                let termination: Termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
                state.termination = termination
                defer { state.waiters = [] }
                return (termination, state.waiters)
            }
            waiters.forEach { $0.resume(returning: termination) }
        }
        thread.name = "waitpid \(pid)"
        thread.start()
    }
}

private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

/// glibc's posix_spawn_file_actions_addclosefrom_np, if this glibc has it.
private let closeFromAction: CloseFrom? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return nil
    }
    return unsafeBitCast(symbol, to: CloseFrom.self)
}()

private func openDescriptorsAboveStderr() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return names.compactMap { Int32($0) }.filter { $0 > 2 }
}
