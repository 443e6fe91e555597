import AWS
import ControllerRuntime
import DataTier
import Foundation
import HTTPTransport
import JSON
import KubeAPI
import Logging
import PlatformAPI
import Synchronization
import Testing
@testable import PlatformController

/// Every log line (message and metadata) the operator wrote, so a test can search them.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "capture") { label in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        var all = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { all["error"] = "\(error)" }
        sink.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

private let transport = HTTPTransport()
private let region = "us-west-2"

/// The platform controller with the AWS data tier against moto_server on 127.0.0.1 (one
/// moto for the suite), skipped visibly when moto is not installed.
@Suite(.serialized, .enabled(if: LocalMotoServer.executablePath() != nil, "moto_server is not installed (pip install 'moto[server]')"))
struct AWSDataTierEndToEndTests {
    static let moto = MotoOnce()

    actor MotoOnce {
        private var started: Task<(LocalMotoServer, [String]), any Error>?
        func get() async throws -> (server: LocalMotoServer, subnets: [String]) {
            if let started { return try await started.value }
            let task = Task {
                let script = Examples.root.appendingPathComponent("scripts/moto/serve-for-tests").path
                let server = try await LocalMotoServer.start(watchdogScript: script, transport: transport)
                return (server, try await server.makeSubnets(region: region, transport: transport))
            }
            started = task
            return try await task.value
        }
    }

    func dataTier(logger: Logger) async throws -> (DataTierReconciler, AWSServices) {
        let (server, subnets) = try await Self.moto.get()
        var settings = AWSDataTierSettings(region: region, network: DataTierNetwork(subnetIds: subnets))
        settings.probeInterval = nil
        settings.settleInterval = .seconds(1)
        settings.observeInterval = .milliseconds(500)
        let environment = server.awsEnvironment(region: region)
        let reconciler = try settings.makeReconciler(environment: environment, transport: transport, logger: logger)
        let aws = AWSServices(client: try AWSClient.fromEnvironment(region: region, environment: environment, transport: transport, logger: .quiet))
        return (reconciler, aws)
    }

    /// examples/platform.yaml on the dev tier, generating its own credentials, retaining
    /// every store on deletion.
    static func platform(name: String, namespace: String) throws -> JSONValue {
        var object = try Examples.platform(name: name, namespace: namespace, tier: "dev")
        object[path: ["spec", "region"]] = .string(region)
        object[path: ["spec", "database"]] = ["deletionPolicy": "Retain"]
        object[path: ["spec", "cache"]] = ["deletionPolicy": "Retain"]
        object[path: ["spec", "storage"]] = ["deletionPolicy": "Retain", "bucketPrefix": .string("\(namespace)-\(name)-\(UInt32.random(in: 0...UInt32.max))")]
        return object
    }

    @Test func platformWithDataTier_reachesReadyWithItsStoresAndCredentials_rollsOnTierChange_andRetainsOnDelete() async throws {
        let logs = CapturedLogs()
        let (reconciler, aws) = try await dataTier(logger: logs.logger)
        let namespace = "aws-e2e"
        let name = "shop\(UInt16.random(in: 0...UInt16.max))"
        try await OperatorHarness.with(namespaces: [namespace], dataTier: reconciler, logger: logs.logger) { h in
            try await h.applyPlatform(try Self.platform(name: name, namespace: namespace))
            try await h.eventually("Ready") { try await h.condition(.ready, namespace, name)?.status == .true }
            for type in [PlatformConditionType.databaseReady, .cacheReady, .storageReady] {
                let condition = try await h.condition(type, namespace, name)
                #expect(condition?.status == .true, "\(type): \(String(describing: condition))")
            }

            let platform = try #require(try await h.platform(namespace, name))
            let endpoints = PlatformStatus(json: platform["status"]).endpoints
            let database = try #require(endpoints["database"])
            let cache = try #require(endpoints["cache"])
            let configMap = try await h.client.get(.configMaps, namespace: namespace, name: "\(name)-config")
            #expect("\(configMap[path: ["data", "DATABASE_HOST"]].stringValue ?? ""):\(configMap[path: ["data", "DATABASE_PORT"]].stringValue ?? "")" == database)
            #expect("\(configMap[path: ["data", "REDIS_HOST"]].stringValue ?? ""):\(configMap[path: ["data", "REDIS_PORT"]].stringValue ?? "")" == cache)

            let secret = try await h.client.get(.secrets, namespace: namespace, name: "\(name)-credentials")
            let data = secret["data"].objectValue ?? [:]
            #expect(Set(data.keys) == ["DATABASE_USERNAME", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"])
            let secretValues = data.values.compactMap { $0.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }
            let passwords = secretValues.filter { $0.count >= 16 }
            #expect(passwords.count == 2, "a database password and a Redis AUTH token")

            let events = try await h.client.list(.events, namespace: namespace, limit: nil, continueToken: nil).items.map { $0.serialized() }
            let status = platform["status"].serialized()
            for value in passwords {
                #expect(!status.contains(value), "a credential is in the platform's status")
                #expect(!events.contains { $0.contains(value) }, "a credential is in an Event")
                #expect(!logs.all.contains { $0.contains(value) }, "a credential is in the logs")
            }
            #expect(!logs.all.isEmpty, "the operator logged nothing: the capture is not wired")

            // A tier change reaches RDS as a modification of the instance class.
            let names = DataTierNames(platform: try MedicalSearchPlatform.decode(platform))
            var tier = try Examples.tier("dev")
            tier[path: ["spec", "database", "instanceClass"]] = "db.t3.medium"
            try await h.applyTier(tier)
            try await h.eventually("instance class modified") {
                try await aws.rds.describeDBInstances(identifiers: [names.dbInstance]).first?.instanceClass == "db.t3.medium"
            }

            // Delete with Retain: the finalizer goes, the AWS resources stay, untagged.
            try await h.client.delete(PlatformResources.platforms, namespace: namespace, name: name)
            try await h.eventually("platform gone") { try await h.platform(namespace, name) == nil }
            let instance = try #require(try await aws.rds.describeDBInstances(identifiers: [names.dbInstance]).first)
            #expect(!instance.tags.contains { $0.key == DataTierNames.platformTagKey })
            #expect(instance.tags.contains { $0.key == DataTierNames.retainedFromTagKey })
            #expect(try await aws.elastiCache.describeReplicationGroups(id: names.replicationGroup).count == 1)
        }
    }

    /// moto leaves a deleted replication group `deleting` for good, so a cache with policy
    /// Delete shows a cleanup that stays pending.
    @Test func deletingAPlatformWhoseCacheIsStillDeleting_keepsTheFinalizer_andShowsWhyInStatus() async throws {
        let (reconciler, _) = try await dataTier(logger: .quiet)
        let namespace = "aws-e2e-pending"
        let name = "clinic\(UInt16.random(in: 0...UInt16.max))"
        try await OperatorHarness.with(namespaces: [namespace], dataTier: reconciler) { h in
            var object = try Self.platform(name: name, namespace: namespace)
            object[path: ["spec", "cache", "deletionPolicy"]] = "Delete"
            try await h.applyPlatform(object)
            try await h.eventually("Ready") { try await h.condition(.ready, namespace, name)?.status == .true }
            try await h.client.delete(PlatformResources.platforms, namespace: namespace, name: name)
            try await h.eventually("cleanup pending in status") {
                let cache = try await h.condition(.cacheReady, namespace, name)
                let ready = try await h.condition(.ready, namespace, name)
                return cache?.status == .false && cache?.reason == "Deleting" && ready?.reason == "Deleting"
            }
            let platform = try #require(try await h.platform(namespace, name), "the finalizer must hold the platform while its cache is deleting")
            #expect((platform[path: ["metadata", "finalizers"]].arrayValue ?? []).contains(.string(PlatformResources.finalizer)))
            #expect(!platform[path: ["metadata", "deletionTimestamp"]].isNull)
        }
    }
}
