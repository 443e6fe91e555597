import Foundation
import Testing
@testable import KubeConfig

@Suite struct MalformedKubeConfigTests {
    /// (kubeconfig text, context override, expected description with FILE for the path)
    static let cases: [(String, String?, String)] = [
        (singleContextConfig(user: "token: t").replacingOccurrences(of: "current-context: dev\n", with: ""), nil,
         "kubeconfig FILE: current-context: not set; pass --context or set current-context"),
        (singleContextConfig(user: "token: t"), "nope",
         "kubeconfig FILE: context \"nope\": contexts[name=nope]: no such context (named by --context)"),
        (singleContextConfig(user: "token: t").replacingOccurrences(of: "cluster: local", with: "cluster: gone"), nil,
         "kubeconfig FILE: context \"dev\": contexts[name=dev].context.cluster: names cluster \"gone\", which is not defined"),
        (singleContextConfig(user: "token: t").replacingOccurrences(of: "user: bob", with: "user: alice"), nil,
         "kubeconfig FILE: context \"dev\": contexts[name=dev].context.user: names user \"alice\", which is not defined"),
        (singleContextConfig(user: "token: t", cluster: "certificate-authority-data: '%%%not base64'\nserver: https://127.0.0.1:1"), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.certificate-authority-data: not valid base64"),
        (singleContextConfig(user: "token: t", cluster: "insecure-skip-tls-verify: true"), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.server: missing"),
        (singleContextConfig(user: "token: t", cluster: "server: localhost:6443"), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.server: \"localhost:6443\" is not an http(s) URL with a host"),
        (singleContextConfig(user: "token: t", cluster: "server: https://127.0.0.1:1\ncertificate-authority: ca.pem"), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.certificate-authority: file not found: DIR/ca.pem"),
        (singleContextConfig(user: "token: t", cluster: "server: https://127.0.0.1:1\ncertificate-authority: a\ncertificate-authority-data: YQ=="), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.certificate-authority-data: certificate-authority-data and certificate-authority are both set; keep one"),
        (singleContextConfig(user: "token: t", cluster: "server: https://127.0.0.1:1\nproxy-url: ftp://127.0.0.1"), nil,
         "kubeconfig FILE: context \"dev\": clusters[name=local].cluster.proxy-url: not an http, https or socks5 URL"),
        (singleContextConfig(user: "client-certificate-data: \(base64("C"))\nclient-key: missing.key"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.client-key: file not found: DIR/missing.key"),
        (singleContextConfig(user: "client-certificate-data: \(base64("C"))"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.client-key: missing (a client certificate needs its key)"),
        (singleContextConfig(user: "client-key-data: '!!!'"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.client-key-data: not valid base64"),
        (singleContextConfig(user: "token: s3cr3t-token\npassword: hunter2"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.username: more than one authentication method: a token and a username/password; keep one"),
        (singleContextConfig(user: "tokenFile: gone"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.tokenFile: file not found: DIR/gone"),
        (singleContextConfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1alpha1\n  command: x"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.exec.apiVersion: unknown exec API version \"client.authentication.k8s.io/v1alpha1\"; expected one of client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1"),
        (singleContextConfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: x"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.exec.interactiveMode: missing (required by client.authentication.k8s.io/v1; use Never or IfAvailable)"),
        (singleContextConfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.exec.command: missing"),
        (singleContextConfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: x\n  interactiveMode: Always"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.exec.interactiveMode: Always needs a terminal, which an operator does not have; use IfAvailable or Never"),
        (singleContextConfig(user: "client-certificate-data: \(base64("C"))\nclient-key-data: \(base64("K"))\nexec: {apiVersion: client.authentication.k8s.io/v1beta1, command: x}"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.exec: cannot be combined with a client certificate; the plugin supplies the certificate"),
        (singleContextConfig(user: "auth-provider: {name: oidc}"), nil,
         "kubeconfig FILE: context \"dev\": users[name=bob].user.auth-provider: not supported; configure an exec plugin instead (e.g. kubelogin, aws eks get-token)"),
        ("clusters: [{name: a, cluster: {server: x}}, {name: a, cluster: {server: y}}]\n", nil,
         "kubeconfig FILE: clusters[name=a]: the name appears more than once in this file"),
        ("users: [{user: {token: t}}]\n", nil, "kubeconfig FILE: users[0].name: missing"),
        ("clusters: {a: b}\n", nil, "kubeconfig FILE: clusters: expected a list"),
        ("users: [{name: u, user: {token: 12345}}]\n", nil, "kubeconfig FILE: users[name=u].user.token: expected a string"),
        ("- just\n- a list\n", nil, "kubeconfig FILE: expected a mapping at the top level"),
        ("current-context: a\nclusters:\n  - name: x\n   cluster: {}\n", nil,
         "kubeconfig FILE: not valid YAML: FILE:4:4: did not find expected '-' indicator while parsing a block collection that started at line 3, column 3"),
    ]

    @Test(arguments: cases)
    func malformedKubeconfig_namesFileContextAndField(_ text: String, _ context: String?, _ expected: String) throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("config", text)
        do {
            _ = try KubeConfigLoader.load(explicitPath: file, context: context, namespace: nil, environment: [:])
            Issue.record("loaded without error; expected: \(expected)")
        } catch {
            #expect(error.description == expected.replacingOccurrences(of: "FILE", with: file).replacingOccurrences(of: "DIR", with: dir.path))
            #expect(!error.description.contains("s3cr3t") && !error.description.contains("hunter2"))
        }
    }
}
