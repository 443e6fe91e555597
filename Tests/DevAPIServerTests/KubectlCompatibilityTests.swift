import ChildProcess
import DevAPIServer
import Foundation
import JSON
import Testing

/// Drives the real kubectl against an in-process dev server (HTTPS + bearer token or client
/// certificate), the way developers and the operator's end-to-end tests will use it.
@Suite("kubectl compatibility", .enabled(if: KubectlRunner.executable != nil, "kubectl not found on PATH: kubectl compatibility tests skipped"))
struct KubectlCompatibilityTests {
    @Test func kubectl_createsAppliesPatchesWatchesAndDeletesLikeAgainstARealServer() async throws {
        try await withKubectl(token: "kubectl-test-token") { kubectl, server in
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: """
                apiVersion: v1
                kind: Namespace
                metadata: {name: demo}
                """, printing: "namespace/demo created")

            let configMap = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: demo}
                data: {mode: fast}
                """
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: configMap, printing: "configmap/settings created")
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: configMap, printing: "configmap/settings unchanged")
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: configMap.replacingOccurrences(of: "fast", with: "safe"), printing: "configmap/settings configured")
            try await kubectl.expectSuccess(["apply", "--server-side", "--force-conflicts", "-f", "-"],
                                            stdin: configMap.replacingOccurrences(of: "fast", with: "ssa"), printing: "configmap/settings serverside-applied")
            let yaml = try await kubectl.expectSuccess(["get", "configmap", "settings", "-n", "demo", "-o", "yaml"])
            #expect(yaml.contains("mode: ssa"))

            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: Self.widgetCRD, printing: "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created")
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w1, namespace: demo}
                spec: {size: 3, color: red}
                """, printing: "widget.example.com/w1 created")
            let table = try await kubectl.expectSuccess(["get", "widgets", "-n", "demo"])
            let header = table.split(separator: "\n").first.map { $0.split(separator: " ").map(String.init) }
            #expect(header == ["NAME", "SIZE", "READY", "AGE"])
            #expect(table.contains("w1") && table.contains("3"))
            let explained = try await kubectl.expectSuccess(["explain", "widget.spec.size"])
            #expect(explained.contains("How big."))

            try await kubectl.expectSuccess(["patch", "widget", "w1", "-n", "demo", "--type", "merge", "-p", #"{"spec":{"size":5}}"#], printing: "patched")
            let size = try await kubectl.expectSuccess(["get", "widget", "w1", "-n", "demo", "-o", "jsonpath={.spec.size}/{.metadata.generation}"])
            #expect(size == "5/2")
            let invalid = try await kubectl.run(["apply", "-f", "-"], stdin: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: bad, namespace: demo}
                spec: {size: 0}
                """)
            #expect(invalid.status != 0)
            #expect(invalid.stderr.contains("spec.size"))

            // get -w must print the update made while it watches.
            let watchersBefore = server.store.statistics.watchers
            let watched = Task { try await kubectl.run(["get", "configmap", "settings", "-n", "demo", "-w", "--output-watch-events"]) }
            // Patch only once kubectl's watch is registered, or the update would land in its initial list instead.
            var polls = 0
            while server.store.statistics.watchers <= watchersBefore && polls < 3_000 {
                try await Task.sleep(for: .milliseconds(10))
                polls += 1
            }
            #expect(server.store.statistics.watchers > watchersBefore, "kubectl get -w never started watching")
            try await kubectl.expectSuccess(["patch", "configmap", "settings", "-n", "demo", "--type", "merge", "-p", #"{"data":{"mode":"watched"}}"#])
            let watchOutput = try await watched.value
            #expect(watchOutput.stdout.contains("MODIFIED"), "get -w printed: \(watchOutput.stdout)")

            // Deleting the owner with the default (background) propagation collects its child.
            let uid = try await kubectl.expectSuccess(["get", "configmap", "settings", "-n", "demo", "-o", "jsonpath={.metadata.uid}"])
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: child
                  namespace: demo
                  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: settings, uid: \(uid)}]
                """)
            try await kubectl.expectSuccess(["delete", "configmap", "settings", "-n", "demo"], printing: "configmap \"settings\" deleted")
            let remaining = try await kubectl.expectSuccess(["get", "configmaps", "-n", "demo", "-o", "name"])
            #expect(!remaining.contains("configmap/child"))
        }
    }

    @Test func kubectl_waitsForASimulatedDeploymentToBecomeAvailable() async throws {
        try await withKubectl(token: "wait-token", simulate: true) { kubectl, _ in
            try await kubectl.expectSuccess(["apply", "-f", "-"], stdin: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: web, image: nginx}]
                """, printing: "deployment.apps/web created")
            try await kubectl.expectSuccess(["wait", "--for=condition=Available", "deployment/web", "--timeout=60s"], printing: "condition met")
            let ready = try await kubectl.expectSuccess(["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"])
            #expect(ready == "2")
        }
    }

    @Test func kubectl_authenticatesWithTheWrittenClientCertificate() async throws {
        try await withKubectl(token: nil) { kubectl, _ in
            let namespaces = try await kubectl.expectSuccess(["get", "namespaces", "-o", "name"])
            #expect(namespaces.contains("namespace/default"))
            let whoami = try await kubectl.expectSuccess(["auth", "whoami"])
            #expect(whoami.contains("dev-admin") && whoami.contains("system:masters"))
            #expect(try await kubectl.expectSuccess(["auth", "can-i", "delete", "namespaces"]).hasPrefix("yes"))
        }
    }

    static let widgetCRD = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: .spec.size}
            - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer, minimum: 1, description: How big.}
                      color: {type: string, enum: [red, blue]}
                  status:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
        """
}

/// Starts a TLS dev server that writes a kubeconfig, and hands out a kubectl bound to it.
private func withKubectl(token: String?, simulate: Bool = false, _ body: (KubectlRunner, DevAPIServer) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let kubeconfig = directory.appendingPathComponent("kubeconfig").path
    try await withDevServer({ configuration in
        configuration.tls = true
        configuration.token = token
        configuration.kubeconfigPath = kubeconfig
        configuration.simulateWorkloads = simulate
        configuration.simulationDelay = .milliseconds(200)
        // kubectl get -w sends no timeoutSeconds; a short server-side timeout lets it exit on its own.
        configuration.minimumWatchTimeout = .seconds(2)
    }) { server, _ in
        try await body(KubectlRunner(kubeconfig: kubeconfig, cacheDirectory: directory.appendingPathComponent("cache").path), server)
    }
}

/// Runs kubectl with an isolated kubeconfig and discovery cache; output goes through files so a
/// large output can never block on a full pipe.
struct KubectlRunner: Sendable {
    let kubeconfig: String
    let cacheDirectory: String

    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    struct Output: Sendable { var status: Int32; var stdout: String; var stderr: String }

    func run(_ arguments: [String], stdin: String? = nil) async throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err"), inURL = scratch.appendingPathComponent("in")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        try Data((stdin ?? "").utf8).write(to: inURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable!)
        process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory] + arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": scratch.path]
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL), input = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.runSerialized() } catch { continuation.resume(throwing: error) }
        }
        try? out.close(); try? err.close(); try? input.close()
        return Output(
            status: status,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// Runs kubectl, records an issue unless it exits 0 (and prints `printing`), and returns stdout.
    @discardableResult
    func expectSuccess(_ arguments: [String], stdin: String? = nil, printing expected: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let output = try await run(arguments, stdin: stdin)
        #expect(output.status == 0, "kubectl \(arguments.joined(separator: " ")) failed: \(output.stderr)", sourceLocation: sourceLocation)
        if let expected {
            #expect(output.stdout.contains(expected), "kubectl \(arguments.joined(separator: " ")) printed: \(output.stdout)\(output.stderr)", sourceLocation: sourceLocation)
        }
        return output.stdout
    }
}
