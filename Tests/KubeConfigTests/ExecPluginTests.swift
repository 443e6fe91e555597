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

    @Test func slowPlugin_isStoppedAtItsTimeout() async throws {
        let dir = try TemporaryDirectory()
        let script = try dir.write("slow.sh", "#!/bin/sh\nsleep 5\n", executable: true)
        let config = ExecCredentialConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: script, baseEnvironment: ExecFixture.environment,
            timeout: .milliseconds(200))
        await #expect {
            try await ExecCredentialRunner.run(config)
        } throws: { error in
            String(describing: error).contains("did not finish within")
        }
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
