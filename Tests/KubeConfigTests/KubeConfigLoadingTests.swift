import Foundation
import Testing
@testable import KubeConfig

/// A kubeconfig with one context whose user body is given.
func singleContextConfig(user: String, cluster: String = "server: https://127.0.0.1:6443", namespace: String? = nil) -> String {
    """
    apiVersion: v1
    kind: Config
    current-context: dev
    clusters:
    - name: local
      cluster:
        \(cluster.split(separator: "\n").joined(separator: "\n    "))
    users:
    - name: bob
      user:
        \(user.split(separator: "\n").joined(separator: "\n    "))
    contexts:
    - name: dev
      context:
        cluster: local
        user: bob
    \(namespace.map { "    namespace: \($0)" } ?? "")
    """
}

@Suite struct KubeConfigAuthTests {
    @Test func token_becomesABearerHeader() async throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", singleContextConfig(user: "token: abc123"))
        let connection = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
        #expect(connection.server == "https://127.0.0.1:6443")
        #expect(connection.namespace == "default")
        #expect(connection.origin == "context dev in \(file)")
        #expect(try await connection.credentials.credentials().authorizationHeader == "Bearer abc123")
    }

    @Test func usernameAndPassword_becomeBasicAuth() async throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", singleContextConfig(user: "username: admin\npassword: s3cret"))
        let connection = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
        let credentials = try await connection.credentials.credentials()
        #expect(credentials.authorizationHeader == "Basic \(base64("admin:s3cret"))")
        #expect(credentials.description == "basic auth")
    }

    @Test func clientCertificateData_isDecodedToPEM() async throws {
        let dir = try TemporaryDirectory()
        let user = "client-certificate-data: \(base64("CERT PEM"))\nclient-key-data: \(base64("KEY PEM"))"
        let file = try dir.write("config", singleContextConfig(user: user))
        let credentials = try await KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
            .credentials.credentials()
        #expect(credentials.clientCertificatePEM == Array("CERT PEM".utf8))
        #expect(credentials.clientKeyPEM == Array("KEY PEM".utf8))
        #expect(credentials.authorizationHeader == nil)
    }

    @Test func relativeFilePaths_resolveAgainstTheKubeconfigDirectory() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("kube/pki/ca.crt", "CA PEM")
        try dir.write("kube/pki/client.crt", "CLIENT PEM")
        try dir.write("kube/pki/client.key", "KEY PEM")
        try dir.write("kube/token", "from-file\n")
        let file = try dir.write("kube/config", singleContextConfig(
            user: "client-certificate: pki/client.crt\nclient-key: ./pki/client.key\ntokenFile: token",
            cluster: "server: https://127.0.0.1:6443/\ncertificate-authority: pki/ca.crt\ntls-server-name: api.internal"))
        let connection = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
        #expect(connection.server == "https://127.0.0.1:6443")
        #expect(connection.certificateAuthorityPEM == Array("CA PEM".utf8))
        #expect(connection.tlsServerName == "api.internal")
        let credentials = try await connection.credentials.credentials()
        #expect(credentials.authorizationHeader == "Bearer from-file")
        #expect(credentials.clientCertificatePEM == Array("CLIENT PEM".utf8))
        #expect(credentials.clientKeyPEM == Array("KEY PEM".utf8))
        let merged = try KubeConfigLoader.loadMerged(explicitPath: file, environment: [:])
        #expect(merged.users["bob"]?.tokenFile == "\(dir.path)/kube/token")
    }

    @Test func tokenFile_isReReadSoRotationIsPickedUp() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("token", "first")
        let file = try dir.write("config", singleContextConfig(user: "tokenFile: token\ntoken: ignored-static"))
        let provider = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:]).credentials
        #expect(try await provider.credentials().authorizationHeader == "Bearer first")
        try dir.write("token", "second")
        #expect(try await provider.credentials().authorizationHeader == "Bearer second")
    }

    @Test func certificateAuthorityData_andInsecureAndProxy_areCarried() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", singleContextConfig(
            user: "token: t",
            cluster: "server: https://127.0.0.1:6443\ncertificate-authority-data: \(base64("CA"))\nproxy-url: socks5://127.0.0.1:1080"))
        let connection = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
        #expect(connection.certificateAuthorityPEM == Array("CA".utf8))
        #expect(connection.proxyURL == "socks5://127.0.0.1:1080")
        #expect(connection.insecureSkipTLSVerify == false)

        let insecure = try dir.write("insecure", singleContextConfig(
            user: "token: t", cluster: "server: https://127.0.0.1:6443\ninsecure-skip-tls-verify: true"))
        #expect(try KubeConfigLoader.load(explicitPath: insecure, context: nil, namespace: nil, environment: [:]).insecureSkipTLSVerify)
    }

    @Test func contextWithoutUser_isAnonymous() async throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", """
            current-context: anon
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
            contexts: [{name: anon, context: {cluster: c, namespace: team}}]
            """)
        let connection = try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:])
        #expect(connection.namespace == "team")
        #expect(try await connection.credentials.credentials() == RequestCredentials())
    }

    @Test func unusedBrokenUser_doesNotBreakTheSelectedContext() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", """
            current-context: dev
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
            users:
            - name: good
              user: {token: t}
            - name: broken
              user: {exec: {apiVersion: client.authentication.k8s.io/v9, command: x}}
            contexts:
            - {name: dev, context: {cluster: c, user: good}}
            - {name: other, context: {cluster: c, user: broken}}
            """)
        #expect(throws: Never.self) { try KubeConfigLoader.load(explicitPath: file, context: nil, namespace: nil, environment: [:]) }
        #expect(throws: KubeConfigError.self) { try KubeConfigLoader.load(explicitPath: file, context: "other", namespace: nil, environment: [:]) }
    }
}

@Suite struct KubeConfigMergeTests {
    @Test func kubeconfigList_mergesWithTheFirstFileWinningEachName() async throws {
        let dir = try TemporaryDirectory()
        let first = try dir.write("a/config", """
            clusters:
            - name: shared
              cluster: {server: "https://127.0.0.1:1111"}
            users:
            - name: u
              user: {token: from-a}
            contexts:
            - name: one
              context: {cluster: shared, user: u}
            """)
        let second = try dir.write("b/config", """
            current-context: two
            clusters:
            - name: shared
              cluster: {server: "https://127.0.0.1:2222"}
            - name: own
              cluster: {server: "https://127.0.0.1:3333", certificate-authority: ca.pem}
            users:
            - name: u
              user: {token: from-b}
            contexts:
            - name: two
              context: {cluster: own, user: u, namespace: b-ns}
            - name: one
              context: {cluster: own, user: u}
            """)
        try dir.write("b/ca.pem", "CA OF B")
        let third = try dir.write("c/config", "current-context: one\ncontexts: [{name: three, context: {cluster: shared}}]\n")
        let environment = ["KUBECONFIG": "\(first):\(dir.path)/missing:\(second)::\(third):\(first)"]

        let merged = try KubeConfigLoader.loadMerged(explicitPath: nil, environment: environment)
        #expect(merged.files == [first, second, third])
        #expect(merged.currentContext == "two")
        #expect(merged.clusters["shared"]?.server == "https://127.0.0.1:1111")
        #expect(merged.contexts["one"]?.cluster == "shared")
        #expect(Set(merged.contexts.keys) == ["one", "two", "three"])
        #expect(merged.clusters["own"]?.certificateAuthority == "\(dir.path)/b/ca.pem")

        let connection = try KubeConfigLoader.load(explicitPath: nil, context: nil, namespace: nil, environment: environment)
        #expect(connection.server == "https://127.0.0.1:3333")
        #expect(connection.namespace == "b-ns")
        #expect(connection.certificateAuthorityPEM == Array("CA OF B".utf8))
        #expect(try await connection.credentials.credentials().authorizationHeader == "Bearer from-a")

        let overridden = try KubeConfigLoader.load(explicitPath: nil, context: "one", namespace: "forced", environment: environment)
        #expect(overridden.server == "https://127.0.0.1:1111")
        #expect(overridden.namespace == "forced")
    }

    @Test func explicitPath_overridesKUBECONFIG() throws {
        let dir = try TemporaryDirectory()
        let listed = try dir.write("listed", singleContextConfig(user: "token: a", cluster: "server: https://127.0.0.1:1"))
        let explicit = try dir.write("explicit", singleContextConfig(user: "token: b", cluster: "server: https://127.0.0.1:2"))
        let connection = try KubeConfigLoader.load(explicitPath: explicit, context: nil, namespace: nil, environment: ["KUBECONFIG": listed])
        #expect(connection.server == "https://127.0.0.1:2")
    }

    @Test func explicitPath_mustExist() {
        #expect {
            try KubeConfigLoader.load(explicitPath: "/nonexistent/kubeconfig", context: nil, namespace: nil, environment: [:])
        } throws: { error in
            (error as? KubeConfigError)?.description == "kubeconfig /nonexistent/kubeconfig: file not found"
        }
    }

    @Test func withoutKUBECONFIG_readsHomeKubeConfig() throws {
        let dir = try TemporaryDirectory()
        try dir.write(".kube/config", singleContextConfig(user: "token: a", cluster: "server: https://127.0.0.1:7"))
        let connection = try KubeConfigLoader.load(explicitPath: nil, context: nil, namespace: nil, environment: ["HOME": dir.path])
        #expect(connection.server == "https://127.0.0.1:7")
    }

    @Test func kubeconfigListWithNoExistingFile_isAnError() {
        #expect(throws: KubeConfigError.self) {
            try KubeConfigLoader.load(explicitPath: nil, context: nil, namespace: nil, environment: ["KUBECONFIG": "/nope/a:/nope/b"])
        }
    }
}

@Suite struct SecretHidingTests {
    @Test func descriptionsOfUsersAndExecConfigs_neverShowSecretValues() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", singleContextConfig(user: "token: s3cr3t-token\nclient-certificate-data: \(base64("C"))\nclient-key-data: \(base64("K"))"))
        let merged = try KubeConfigLoader.loadMerged(explicitPath: file, environment: [:])
        let user = try #require(merged.users["bob"])
        #expect(String(describing: user) == "user bob (token, client certificate) from \(file)")
        #expect(!String(reflecting: user).contains("s3cr3t"))

        let exec = ExecCredentialConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: "aws", args: ["eks", "get-token"],
            env: [ExecEnvironmentVariable(name: "AWS_SECRET_ACCESS_KEY", value: "hunter2")], baseEnvironment: [:])
        #expect(String(describing: exec) == "exec plugin aws eks get-token (client.authentication.k8s.io/v1)")
        #expect(!String(reflecting: exec.env).contains("hunter2"))
    }

    @Test func relativeKubeconfigPath_isMadeAbsoluteAgainstTheWorkingDirectory() {
        let files = KubeConfigLoader.precedence(explicitPath: nil, environment: ["KUBECONFIG": "rel/config:/abs/config"])
        #expect(files == [FileManager.default.currentDirectoryPath + "/rel/config", "/abs/config"])
    }
}
