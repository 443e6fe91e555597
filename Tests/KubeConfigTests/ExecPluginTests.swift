import ChildProcess
import Foundation
import JSON
import Testing
@testable import KubeConfig

/// A kubeconfig whose user runs `./plugin.sh` from the kubeconfig's directory, plus the script.
struct ExecFixture {
    let dir: TemporaryDirectory
    let kubeconfig: String
    /// PATH for the plugin's shell tools; no other host environment leaks into the tests.
    static let environment = ["PATH": "/usr/bin:/bin"]

    /// `script` is the plugin body; it can read $EXPIRES and $MY_SETTING from the kubeconfig env.
    init(script: String, expires: String = "2099-01-01T00:00:00Z", apiVersion: String = "client.authentication.k8s.io/v1") throws {
        dir = try TemporaryDirectory()
        try dir.write("bin/plugin.sh", "#!/bin/sh\n" + script, executable: true)
        kubeconfig = try dir.write("config", """
            current-context: dev
            clusters:
            - name: local
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: \(base64("CA PEM"))
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension: {audience: medsearch}
            users:
            - name: bob
              user:
                exec:
                  apiVersion: \(apiVersion)
                  command: bin/plugin.sh
                  args: [--cluster, local]
                  env:
                  - {name: EXPIRES, value: "\(expires)"}
                  - {name: MY_SETTING, value: from-kubeconfig}
                  interactiveMode: IfAvailable
                  provideClusterInfo: true
                  installHint: install plugin.sh from the team wiki
            contexts:
            - {name: dev, context: {cluster: local, user: bob}}
            """)
    }

    func provider() throws -> CredentialProvider {
        try KubeConfigLoader.load(explicitPath: kubeconfig, context: nil, namespace: nil, environment: Self.environment).credentials
    }

    /// Counts runs in a file, records what it was given, and prints a token numbered by run.
    static let countingScript = """
        dir="$(dirname "$0")"
        n=$(cat "$dir/count" 2>/dev/null || echo 0)
        n=$((n + 1))
        echo "$n" > "$dir/count"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
        printf '%s %s' "$MY_SETTING" "$*" > "$dir/given"
        printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s","expirationTimestamp":"%s"}}' "$n" "$EXPIRES"
        """
}

@Suite struct ExecPluginTests {
    @Test func execPlugin_isCachedUntilInvalidated() async throws {
        let fixture = try ExecFixture(script: ExecFixture.countingScript)
        let provider = try fixture.provider()
        #expect(try await provider.credentials().authorizationHeader == "Bearer tok-1")
        #expect(try await provider.credentials().authorizationHeader == "Bearer tok-1")
        #expect(fixture.dir.read("bin/count") == "1\n")
        provider.invalidate()
        #expect(try await provider.credentials().authorizationHeader == "Bearer tok-2")
    }

    @Test func execPlugin_whenCredentialHasExpired_runsAgain() async throws {
        let fixture = try ExecFixture(script: ExecFixture.countingScript, expires: "2001-01-01T00:00:00.5Z")
        let provider = try fixture.provider()
        #expect(try await provider.credentials().authorizationHeader == "Bearer tok-1")
        #expect(try await provider.credentials().authorizationHeader == "Bearer tok-2")
        #expect(fixture.dir.read("bin/count") == "2\n")
    }

    @Test func execPlugin_receivesExecInfoArgsAndKubeconfigEnvironment() async throws {
        let fixture = try ExecFixture(script: ExecFixture.countingScript)
        _ = try await fixture.provider().credentials()
        #expect(fixture.dir.read("bin/given") == "from-kubeconfig --cluster local")
        let info = try JSONValue.parse(try #require(fixture.dir.read("bin/exec-info")))
        #expect(info["apiVersion"] == "client.authentication.k8s.io/v1")
        #expect(info["kind"] == "ExecCredential")
        #expect(info[path: ["spec", "interactive"]] == false)
        #expect(info[path: ["spec", "cluster", "server"]] == "https://127.0.0.1:6443")
        #expect(info[path: ["spec", "cluster", "certificate-authority-data"]] == .string(base64("CA PEM")))
        #expect(info[path: ["spec", "cluster", "config", "audience"]] == "medsearch")
    }

    @Test func failingPlugin_reportsExitStatusAndStderrButNotStdout() async throws {
        let fixture = try ExecFixture(script: """
            echo '{"status":{"token":"leaked-token"}}'
            echo "error: you must log in first" >&2
            exit 3
            """)
        let provider = try fixture.provider()
        await #expect {
            try await provider.credentials()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("exit status 3: error: you must log in first") && !text.contains("leaked-token")
                && text.contains("users[name=bob].user.exec") && text.contains("context \"dev\"")
        }
    }

    @Test func pluginAnsweringAnotherAPIVersion_isRejected() async throws {
        let fixture = try ExecFixture(script: """
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'
            """)
        await #expect {
            try await fixture.provider().credentials()
        } throws: { error in
            String(describing: error).contains("configured for client.authentication.k8s.io/v1 but returned apiVersion client.authentication.k8s.io/v1beta1")
        }
    }

    @Test func pluginReturningACertificate_yieldsClientCertificateCredentials() async throws {
        let fixture = try ExecFixture(script: """
            printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'
            """, apiVersion: "client.authentication.k8s.io/v1beta1")
        let credentials = try await fixture.provider().credentials()
        #expect(credentials.clientCertificatePEM == Array("CERT".utf8))
        #expect(credentials.clientKeyPEM == Array("KEY".utf8))
        #expect(credentials.authorizationHeader == nil)
    }

    @Test func pluginPrintingGarbage_isAnErrorWithoutTheOutput() async throws {
        let fixture = try ExecFixture(script: "echo 'token=abc not json'\n")
        await #expect {
            try await fixture.provider().credentials()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("not JSON") && !text.contains("abc")
        }
    }

    @Test func missingCommand_errorIncludesTheInstallHint() async throws {
        let config = ExecCredentialConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: "medsearch-no-such-plugin", installHint: "brew install it",
            baseEnvironment: ExecFixture.environment)
        await #expect {
            try await ExecCredentialRunner.run(config)
        } throws: { error in
            String(describing: error).hasSuffix("exec plugin command \"medsearch-no-such-plugin\" not found; brew install it")
        }
    }

    /// The second body exits at once, but what it started keeps stdout open: that has not
    /// finished either, and the timeout bounds it (and stops it) instead of a wait for the pipe.
    @Test(arguments: ["sleep 30 &\necho $! > \"$(dirname \"$0\")/pid\"\nwait\n", "sleep 30 &\necho $! > \"$(dirname \"$0\")/pid\"\nexit 0\n"])
    func pluginThatDoesNotFinish_isStoppedAtItsTimeout(body: String) async throws {
        let dir = try TemporaryDirectory()
        let script = try dir.write("slow.sh", "#!/bin/sh\n" + body, executable: true)
        let config = ExecCredentialConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: script, baseEnvironment: ExecFixture.environment,
            timeout: .milliseconds(200))
        let started = ContinuousClock.now
        await #expect {
            try await ExecCredentialRunner.run(config)
        } throws: { error in
            String(describing: error).contains("did not finish within")
        }
        // Not a speed check: anything well short of the sleep's 30 s means the timeout, not the
        // sleep, ended the run (a loaded CI machine took 5.4 s for the 200 ms timeout).
        #expect(ContinuousClock.now - started < .seconds(20))
        let sleeper = try #require(Int32(try String(contentsOfFile: dir.path + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await waitUntilEnded(sleeper, upTo: .seconds(10)), "the plugin's background sleep outlived the timeout")
    }

    @Test func refreshTime_isSlightlyBeforeExpiry() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(CredentialProvider.refreshTime(expiration: now.addingTimeInterval(3600), now: now) == now.addingTimeInterval(3590))
        #expect(CredentialProvider.refreshTime(expiration: now.addingTimeInterval(50), now: now) == now.addingTimeInterval(45))
        #expect(CredentialProvider.refreshTime(expiration: now.addingTimeInterval(-5), now: now) == now.addingTimeInterval(-5))
    }
}

@Suite struct ExecPluginExitTests {
    @Test func pluginKilledBySignal_saysSoInsteadOfAnExitStatus() async throws {
        let dir = try TemporaryDirectory()
        let script = try dir.write("self-kill.sh", "#!/bin/sh\nkill -9 $$\n", executable: true)
        let config = ExecCredentialConfig(apiVersion: "client.authentication.k8s.io/v1", command: script, baseEnvironment: ExecFixture.environment)
        await #expect {
            try await ExecCredentialRunner.run(config)
        } throws: { error in
            String(describing: error).contains("was killed by signal 9")
        }
    }
}

/// The plugin runs isolated from the operator process (see `IsolatedChild`).
@Suite struct ExecPluginIsolationTests {
    @Test func plugin_inheritsNoDescriptorOfTheOperatorsBeyondItsStdio() async throws {
        // Neither is close-on-exec, as a Foundation pipe or a SwiftNIO socket is not.
        let pipe = Pipe()
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        let dir = try TemporaryDirectory()
        // `ls` lists the shell's table from outside. Besides the script file, the shell holds a
        // saved copy of its stdout while `> file` is in effect, so the plugin's own stdout and
        // stderr pipes are recorded first (a command substitution does not redirect the shell).
        let script = try dir.write("list-fds.sh", """
            #!/bin/sh
            d=$(dirname "$0")
            out=$(readlink /proc/$$/fd/1)
            err=$(readlink /proc/$$/fd/2)
            ls -l /proc/$$/fd/ > "$d/fds"
            printf '%s\\n%s\\n' "$out" "$err" > "$d/stdio"
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'
            """, executable: true)
        let config = ExecCredentialConfig(apiVersion: "client.authentication.k8s.io/v1", command: script, baseEnvironment: ExecFixture.environment)
        _ = try await ExecCredentialRunner.run(config)
        withExtendedLifetime(pipe) {}
        // "lr-x------ 1 user group 64 Nov 26 04:00 10 -> /tmp/…/list-fds.sh"
        let held = try String(contentsOfFile: dir.path + "/fds", encoding: .utf8).split(separator: "\n").compactMap { line -> (Int, String)? in
            guard let arrow = line.range(of: " -> ") else { return nil }
            let number = line[..<arrow.lowerBound].split(separator: " ").last.flatMap { Int($0) }
            return number.map { ($0, String(line[arrow.upperBound...])) }
        }
        #expect(held.count >= 3, "\(held)")
        let stdio = Set(try String(contentsOfFile: dir.path + "/stdio", encoding: .utf8).split(separator: "\n").map(String.init))
        #expect(stdio.count == 2 && stdio.allSatisfy { $0.hasPrefix("pipe:") }, "\(stdio)")
        // Any other pipe, or any socket, came from the test process.
        let foreign = held.filter { $0.0 > 2 && !stdio.contains($0.1) && ($0.1.hasPrefix("pipe:") || $0.1.hasPrefix("socket:")) }
        #expect(foreign.isEmpty, "\(held)")
    }

    @Test func cancellingTheCaller_stopsThePluginAndWhatItStarted() async throws {
        let dir = try TemporaryDirectory()
        let script = try dir.write("slow.sh", "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nsleep 30\n", executable: true)
        let config = ExecCredentialConfig(apiVersion: "client.authentication.k8s.io/v1", command: script, baseEnvironment: ExecFixture.environment)
        let run = Task { try await ExecCredentialRunner.run(config) }
        var pid: Int32?
        for _ in 0..<1000 where pid == nil {
            try await Task.sleep(for: .milliseconds(20))
            pid = (try? String(contentsOfFile: dir.path + "/pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let plugin = try #require(pid)
        let started = ContinuousClock.now
        run.cancel()
        _ = await run.result
        // Well short of the sleep's 30 s (and the 120 s default timeout): SIGTERM reached the
        // plugin and its sleep.
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(kill(plugin, 0) != 0, "the plugin still runs")
    }
}
