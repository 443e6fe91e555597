import ChildProcess
import Foundation
import JSON
import Synchronization

/// One `env` entry of an exec plugin stanza.
///
/// Caveats: values may be secrets; they are passed to the plugin and never printed.
public struct ExecEnvironmentVariable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension ExecEnvironmentVariable: CustomStringConvertible {
    public var description: String { "\(name)=<hidden>" }
}

/// Whether an exec plugin may talk to the user (kubeconfig `interactiveMode`).
public enum ExecInteractiveMode: String, Sendable, Equatable {
    case never = "Never"
    case ifAvailable = "IfAvailable"
    case always = "Always"
}

/// Everything needed to run a client.authentication.k8s.io exec credential plugin.
public struct ExecCredentialConfig: Sendable {
    public static let supportedAPIVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    public var apiVersion: String
    /// Absolute path, or a bare name looked up in the plugin environment's PATH.
    public var command: String
    public var args: [String]
    public var env: [ExecEnvironmentVariable]
    public var interactiveMode: ExecInteractiveMode
    public var installHint: String?
    /// `spec.cluster` of KUBERNETES_EXEC_INFO, present when the kubeconfig sets provideClusterInfo.
    public var clusterInfo: JSONValue?
    /// Environment the plugin inherits before `env` is applied (the operator's own by default).
    public var baseEnvironment: [String: String]
    /// The plugin is stopped (SIGTERM, then SIGKILL) when it runs longer than this.
    public var timeout: Duration
    /// Where the stanza came from, for messages: kubeconfig file, context and field path.
    public var origin: (file: String?, context: String?, field: String)

    public init(
        apiVersion: String, command: String, args: [String] = [], env: [ExecEnvironmentVariable] = [],
        interactiveMode: ExecInteractiveMode = .ifAvailable, installHint: String? = nil, clusterInfo: JSONValue? = nil,
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment, timeout: Duration = .seconds(120),
        origin: (file: String?, context: String?, field: String) = (nil, nil, "user.exec")
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.interactiveMode = interactiveMode
        self.installHint = installHint
        self.clusterInfo = clusterInfo
        self.baseEnvironment = baseEnvironment
        self.timeout = timeout
        self.origin = origin
    }

    /// The KUBERNETES_EXEC_INFO value: an ExecCredential whose spec says we cannot prompt.
    public var execInfo: JSONValue {
        var spec: JSONValue = ["interactive": false]
        if let clusterInfo { spec["cluster"] = clusterInfo }
        return ["apiVersion": .string(apiVersion), "kind": "ExecCredential", "spec": spec]
    }
}

extension ExecCredentialConfig: CustomStringConvertible {
    /// The command and arguments only; `env` and the inherited environment may hold secrets.
    public var description: String {
        "exec plugin \(([command] + args).joined(separator: " ")) (\(apiVersion))"
    }
}

/// Runs exec credential plugins and reads the ExecCredential they print.
///
/// Guarantees: the plugin's stdout is never included in errors (it holds the token); its
/// stderr is, trimmed. Waiting happens on Dispatch threads and a continuation, so the
/// cooperative thread pool is never blocked. Cancelling the calling task stops the plugin.
public enum ExecCredentialRunner {
    public static func run(_ config: ExecCredentialConfig) async throws -> (credentials: RequestCredentials, expiration: Date?) {
        func failure(_ problem: String) -> KubeConfigError {
            KubeConfigError(file: config.origin.file, context: config.origin.context, field: config.origin.field, problem: problem)
        }
        if config.interactiveMode == .always {
            throw failure("exec plugin \"\(config.command)\" requires an interactive terminal (interactiveMode: Always), which an operator does not have")
        }
        var environment = config.baseEnvironment
        for variable in config.env { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = config.execInfo.serialized()

        guard let executable = locate(config.command, path: environment["PATH"]) else {
            var problem = "exec plugin command \"\(config.command)\" not found"
            if let hint = config.installHint { problem += "; \(hint)" }
            throw failure(problem)
        }
        let outcome: PluginProcess.Outcome
        do {
            outcome = try await PluginProcess.run(
                executable: executable, arguments: config.args, environment: environment, timeout: config.timeout)
        } catch let error as KubeConfigError {
            throw failure(error.problem)
        }
        try Task.checkCancellation()
        if outcome.timedOut {
            throw failure("exec plugin \"\(config.command)\" did not finish within \(config.timeout)")
        }
        guard outcome.status == 0 else {
            var problem = outcome.killedBySignal
                ? "exec plugin \"\(config.command)\" was killed by signal \(outcome.status)"
                : "exec plugin \"\(config.command)\" failed with exit status \(outcome.status)"
            let stderr = String(decoding: outcome.stderr.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !stderr.isEmpty { problem += ": \(stderr)" }
            throw failure(problem)
        }
        return try parse(stdout: outcome.stdout, config: config, failure: failure)
    }

    static func parse(stdout: [UInt8], config: ExecCredentialConfig, failure: (String) -> KubeConfigError) throws(KubeConfigError)
        -> (credentials: RequestCredentials, expiration: Date?)
    {
        let name = "exec plugin \"\(config.command)\""
        let credential: JSONValue
        do {
            credential = try JSONValue.parse(stdout)
        } catch {
            throw failure("\(name) printed something that is not JSON (\(error.message) at line \(error.line))")
        }
        guard credential["kind"] == "ExecCredential" else {
            throw failure("\(name) printed an object whose kind is not ExecCredential")
        }
        guard let version = credential["apiVersion"].stringValue, version == config.apiVersion else {
            throw failure("\(name) is configured for \(config.apiVersion) but returned apiVersion \(credential["apiVersion"].stringValue ?? "(none)")")
        }
        let status = credential["status"]
        guard status.objectValue != nil else { throw failure("\(name) returned no status") }
        let token = status["token"].stringValue ?? ""
        let certificate = status["clientCertificateData"].stringValue ?? ""
        let key = status["clientKeyData"].stringValue ?? ""
        if certificate.isEmpty != key.isEmpty {
            throw failure("\(name) returned \(certificate.isEmpty ? "clientKeyData without clientCertificateData" : "clientCertificateData without clientKeyData")")
        }
        if token.isEmpty && certificate.isEmpty {
            throw failure("\(name) returned neither a token nor a client certificate")
        }
        var expiration: Date?
        if let text = status["expirationTimestamp"].stringValue {
            guard let date = RFC3339.date(from: text) else {
                throw failure("\(name) returned an expirationTimestamp that is not RFC 3339: \(text)")
            }
            expiration = date
        }
        let credentials = RequestCredentials(
            authorizationHeader: token.isEmpty ? nil : "Bearer \(token)",
            clientCertificatePEM: certificate.isEmpty ? nil : Array(certificate.utf8),
            clientKeyPEM: key.isEmpty ? nil : Array(key.utf8))
        return (credentials, expiration)
    }

    /// A command with a `/` is a path; a bare name is searched in PATH as a shell would.
    static func locate(_ command: String, path: String?) -> String? {
        if command.contains("/") {
            return FileManager.default.isExecutableFile(atPath: command) ? command : nil
        }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// RFC 3339 timestamps as Kubernetes writes them, with or without fractional seconds.
enum RFC3339 {
    static func date(from text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// A plugin run: its output and exit collected off the cooperative thread pool, bounded by a
/// timeout that covers everything (a plugin that exits while something it started keeps its
/// output open counts as not finished).
///
/// The plugin is an `IsolatedChild`: it inherits no descriptor of the operator's, default
/// signal dispositions (the operator's `run` ignores SIGTERM), and its own process group, so
/// stopping it also stops what it started (a shell script's children).
final class PluginProcess: Sendable {
    struct Outcome: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var timedOut: Bool
        var killedBySignal = false
    }

    private struct Progress {
        var stdout: [UInt8]?
        var stderr: [UInt8]?
        var termination: IsolatedChild.Termination?
        var timedOut = false
        var continuation: CheckedContinuation<Void, Never>?

        var isComplete: Bool { timedOut || (termination != nil && stdout != nil && stderr != nil) }
    }

    private let child: IsolatedChild
    private let progress = Mutex(Progress())

    private init(child: IsolatedChild) { self.child = child }

    static func run(executable: String, arguments: [String], environment: [String: String], timeout: Duration) async throws -> Outcome {
        let stdout = try CloseOnExecPipe()
        let stderr = try CloseOnExecPipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else {
            throw KubeConfigError(file: nil, context: nil, field: nil, problem: "cannot start exec plugin \(executable): /dev/null cannot be opened")
        }
        let child: IsolatedChild
        do {
            defer { close(null) }
            child = try IsolatedChild.spawn(
                executable: executable, arguments: arguments, environment: environment,
                stdin: null, stdout: stdout.writing.fileDescriptor, stderr: stderr.writing.fileDescriptor)
        } catch {
            throw KubeConfigError(file: nil, context: nil, field: nil, problem: "cannot start exec plugin \(executable): \(error)")
        }
        // The child has its copies; ours would keep the readers below from ever seeing the end.
        try? stdout.writing.close()
        try? stderr.writing.close()
        let plugin = PluginProcess(child: child)
        return await withTaskCancellationHandler {
            await plugin.collect(stdout: stdout, stderr: stderr, timeout: timeout)
        } onCancel: {
            child.signalGroup(SIGTERM)
        }
    }

    /// Records a step and wakes the waiter once the outcome is complete.
    private func update(_ change: (inout Progress) -> Void) {
        let ready: CheckedContinuation<Void, Never>? = progress.withLock { state in
            change(&state)
            guard state.isComplete, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return continuation
        }
        ready?.resume()
    }

    private func collect(stdout: CloseOnExecPipe, stderr: CloseOnExecPipe, timeout: Duration) async -> Outcome {
        // Blocking reads, both at once so a chatty plugin cannot block on a full pipe, each on a
        // thread of its own: on Linux the concurrency pool is built on Dispatch's global
        // threads, and two reads blocked there starved it for about a second each time.
        for (pipe, isStdout) in [(stdout, true), (stderr, false)] {
            let reader = Thread { [self] in
                let data = Array(pipe.reading.readDataToEndOfFile())
                update { if isStdout { $0.stdout = data } else { $0.stderr = data } }
            }
            reader.name = "exec plugin \(isStdout ? "stdout" : "stderr")"
            reader.start()
        }
        Task { [self] in
            let termination = await child.waitForTermination()
            update { $0.termination = termination }
        }
        let deadline = Task { [self] in
            try await Task.sleep(for: timeout)
            // One step, so a run completing right at the deadline is not also reported as timed out.
            update { if !$0.isComplete { $0.timedOut = true } }
            guard progress.withLock({ $0.timedOut }) else { return }
            child.signalGroup(SIGTERM)
            try await Task.sleep(for: .seconds(2))
            child.signalGroup(SIGKILL)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let complete = progress.withLock { state in
                if state.isComplete { return true }
                state.continuation = continuation
                return false
            }
            if complete { continuation.resume() }
        }
        let collected = progress.withLock { $0 }
        if !collected.timedOut { deadline.cancel() }
        switch collected.termination {
        case .exited(let status) where !collected.timedOut:
            return Outcome(status: status, stdout: collected.stdout ?? [], stderr: collected.stderr ?? [], timedOut: false)
        case .signalled(let signal) where !collected.timedOut:
            return Outcome(status: signal, stdout: collected.stdout ?? [], stderr: collected.stderr ?? [], timedOut: false, killedBySignal: true)
        default:
            return Outcome(status: -1, stdout: collected.stdout ?? [], stderr: collected.stderr ?? [], timedOut: true)
        }
    }
}
