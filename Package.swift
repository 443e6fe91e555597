// swift-tools-version:6.1
import PackageDescription
import Foundation

// The module map is in docs/architecture.md. Only the C-shim targets (CCurl, COpenSSL,
// CYAML) and the thin wrappers directly above them (YAML, HTTPTransport, TLS) import C;
// everything else sees Swift types.

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")

var targets: [Target] = [
    // C libraries from Debian's -dev packages, found through pkg-config.
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),

    .target(name: "JSON"),
    .target(name: "ChildProcess"),
    .target(name: "YAML", dependencies: ["CYAML", "JSON"]),
    .target(name: "HTTPTransport", dependencies: ["CCurl", logging]),
    .target(name: "TLS", dependencies: ["COpenSSL", nioCore]),
    .target(name: "AWSSigning", dependencies: ["TLS"]),
    .target(name: "AWS", dependencies: ["AWSSigning", "HTTPTransport", "JSON", logging]),
    .target(name: "KubeConfig", dependencies: ["JSON", "YAML", "ChildProcess", logging]),
    .target(name: "KubeAPI", dependencies: ["JSON", "YAML", "KubeConfig", "HTTPTransport", logging]),
    .target(name: "APIMachinery", dependencies: ["JSON"]),
    .target(name: "DevAPIServer", dependencies: ["JSON", "YAML", "APIMachinery", "TLS", logging, nioCore, nioPosix, nioHTTP1]),
    .target(name: "ControllerRuntime", dependencies: ["JSON", "KubeAPI", "HTTPTransport", "APIMachinery", logging, metrics, prometheus, serviceLifecycle, nioCore, nioPosix, nioHTTP1, argumentParser]),
    .target(name: "PlatformAPI", dependencies: ["JSON", "YAML"]),
    .target(name: "PlatformSpecs", dependencies: ["JSON", "PlatformAPI", "YAML"]),
    .target(name: "Probes", dependencies: ["TLS", "JSON", logging, nioCore, nioPosix]),
    .target(name: "DataTier", dependencies: ["AWS", "PlatformAPI", "JSON", "Probes", logging]),
    .target(name: "PlatformController", dependencies: ["ChildProcess", "JSON", "KubeAPI", "ControllerRuntime", "PlatformAPI", "PlatformSpecs", "DataTier", "AWS", "Probes", "TLS", "HTTPTransport", logging, serviceLifecycle]),
    .executableTarget(
        name: "medsearch-operator",
        dependencies: ["ChildProcess", "JSON", "YAML", "KubeConfig", "KubeAPI", "DevAPIServer", "ControllerRuntime", "PlatformAPI", "PlatformSpecs", "PlatformController", "DataTier", "AWS", "Probes", "TLS", "HTTPTransport", argumentParser, logging]
    ),

    // Loopback servers and moto fixtures shared by test targets only; the executable must not depend on them.
    .target(name: "HTTPTestSupport", dependencies: ["ChildProcess", "HTTPTransport", "TLS", nioCore, nioPosix, nioHTTP1]),
    .target(name: "AWSTestSupport", dependencies: ["ChildProcess", "AWS", "AWSSigning", "HTTPTransport", nioCore, nioPosix, nioHTTP1]),

    .testTarget(name: "JSONTests", dependencies: ["JSON"]),
    .testTarget(name: "ChildProcessTests", dependencies: ["ChildProcess"]),
    .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
    .testTarget(name: "KubeConfigTests", dependencies: ["ChildProcess", "KubeConfig"]),
    .testTarget(name: "HTTPTransportTests", dependencies: ["ChildProcess", "HTTPTransport", "HTTPTestSupport", "TLS", nioCore, nioPosix, nioHTTP1]),
    .testTarget(name: "TLSTests", dependencies: ["ChildProcess", "TLS", "HTTPTransport", nioCore, nioPosix, nioHTTP1]),
    .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning"]),
    .testTarget(name: "AWSTests", dependencies: ["AWS", "AWSTestSupport", "AWSSigning", "HTTPTestSupport", "HTTPTransport", nioCore, nioPosix, nioHTTP1]),
    .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI", "HTTPTestSupport", "DevAPIServer", "TLS", nioCore, nioPosix, nioHTTP1]),
    .testTarget(name: "APIMachineryTests", dependencies: ["APIMachinery"]),
    .testTarget(name: "DevAPIServerTests", dependencies: ["ChildProcess", "DevAPIServer", "KubeAPI", "TLS", nioCore, nioPosix, nioHTTP1]),
    .testTarget(name: "ControllerRuntimeTests", dependencies: ["ControllerRuntime", "KubeAPI", "DevAPIServer", "HTTPTransport"]),
    .testTarget(name: "PlatformAPITests", dependencies: ["PlatformAPI", "APIMachinery", "YAML"]),
    .testTarget(name: "PlatformSpecsTests", dependencies: ["PlatformSpecs", "PlatformAPI", "YAML"]),
    .testTarget(name: "PlatformControllerTests", dependencies: ["ChildProcess", "PlatformController", "DevAPIServer", "KubeAPI", "KubeConfig", "ControllerRuntime", "PlatformAPI", "PlatformSpecs", "YAML", "DataTier", "AWS", "HTTPTransport"]),
    .testTarget(name: "ProbesTests", dependencies: ["ChildProcess", "HTTPTestSupport", "Probes", "TLS", nioCore, nioPosix]),
    .testTarget(name: "DataTierTests", dependencies: ["DataTier", "AWSTestSupport", "AWS", "AWSSigning", "PlatformAPI", "YAML", "HTTPTransport", nioCore, nioPosix, nioHTTP1]),
]

// Development convenience: MEDSEARCH_ONLY=YAMLTests,KubeConfigTests builds just those
// targets and what they depend on, so one module's work in progress cannot block another's
// test runs. Unset (as in CI), every target is built.
if let only = ProcessInfo.processInfo.environment["MEDSEARCH_ONLY"], !only.isEmpty {
    var wanted = Set(only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    var changed = true
    while changed {
        changed = false
        for target in targets where wanted.contains(target.name) {
            for dependency in target.dependencies {
                if case .byNameItem(let name, _) = dependency, !wanted.contains(name) {
                    wanted.insert(name)
                    changed = true
                }
            }
        }
    }
    targets = targets.filter { wanted.contains($0.name) }
}

let package = Package(
    name: "medsearch-operator",
    platforms: [.macOS(.v15)],
    products: targets.contains(where: { $0.name == "medsearch-operator" })
        ? [.executable(name: "medsearch-operator", targets: ["medsearch-operator"])] : [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
