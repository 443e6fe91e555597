import ArgumentParser
import ControllerRuntime
import Foundation
import JSON
import KubeAPI
import Logging
import PlatformAPI
import PlatformController
import PlatformSpecs
import YAML

/// `medsearch-operator bench-cache` (hidden): how much resident memory the operator's child
/// caches take, measured in the operator binary itself so the baseline is the real one.
///
/// Fills one informer per owned kind, as `PlatformOperator` does, from an in-process list
/// server that renders the children of many platforms with `desiredState` and adds what a
/// real API server adds (uid, resourceVersion, timestamps, managedFields, defaulted spec
/// fields, status), then prints RSS before and after and bytes per cached object.
struct BenchCacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cache",
        abstract: "Measures resident memory of the child caches for N cached children.",
        shouldDisplay: false
    )

    @Option(help: "Cached child objects in total, across all owned kinds.")
    var objects = 40_000

    @Option(help: "Payload kept per child: stripped (full object as CompactJSON, what the operator uses), json-text (the same object as JSON text, the former CompactJSON) or summary (ChildSummary).")
    var transform: CacheTransformChoice = .stripped

    @Option(help: "Platform template to render children from.")
    var platform = "examples/platform.yaml"

    @Option(help: "Directory of ServiceTier YAML files.")
    var tiersDir = "examples/tiers"

    @Flag(help: "Print glibc's per-arena malloc statistics (to stderr) once the caches are filled.")
    var mallocStats = false

    func run() async throws {
        let baseline = ResidentMemory.bytes()
        let template = try renderTemplate()
        let generator = ServedChildren(template: template, objects: objects)
        var logger = Logger(label: "bench-cache")
        logger.logLevel = .critical
        let afterTemplate = ResidentMemory.bytes()
        let filled: CacheFill
        switch transform {
        case .stripped: filled = try await fill(generator, transform: ObjectTransform<CompactJSON>.strippedCompactJSON, logger: logger) { $0.bytes.count }
        case .jsonText:
            let asText = ObjectTransform<[UInt8]>.projecting { object in
                let text = object.serializedBytes()
                return [UInt8](unsafeUninitializedCapacity: text.count) { buffer, initialized in initialized = buffer.initialize(fromContentsOf: text) }
            }
            filled = try await fill(generator, transform: asText, logger: logger) { $0.count }
        case .summary: filled = try await fill(generator, transform: ObjectTransform<ChildSummary>.childSummary(statusFields: ["readyReplicas", "observedGeneration", "conditions"]), logger: logger) { ($0.status?.bytes.count ?? 0) + 9 }
        }
        if mallocStats { ResidentMemory.printMallocStatistics() }
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("BENCH bench-cache: \(filled.count) cached children (\(filled.perKind.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))), transform \(transform.rawValue)")
        print("BENCH process RSS: baseline \(mib(baseline)), after rendering the template \(mib(afterTemplate)), with the caches filled \(mib(filled.residentBytes))")
        print("BENCH cache ≈ \(mib(filled.residentBytes - afterTemplate)) ≈ \((filled.residentBytes - afterTemplate) / max(1, filled.count)) B per cached child (payload \(filled.payloadBytes / max(1, filled.count)) B, source object \(generator.averageSourceBytes) B of JSON)")
    }

    private func renderTemplate() throws -> ManifestRendering.Output {
        do {
            return try ManifestRendering.render(
                platform: RenderCommand.parse(platform)[0],
                tiers: RenderCommand.tierDocuments(tier: nil, tiersDir: tiersDir), tierSource: tiersDir)
        } catch let failure as ManifestRendering.Failure {
            throw InputError(failure.description)
        }
    }

    private struct CacheFill {
        var count = 0
        var perKind: [String: Int] = [:]
        var residentBytes = 0
        var payloadBytes = 0
    }

    private func fill<Payload: Sendable>(_ generator: ServedChildren, transform: ObjectTransform<Payload>, logger: Logger, payloadBytes: (Payload) -> Int) async throws -> CacheFill {
        let informers = generator.kinds.compactMap { kind in
            PlatformResources.owned(kind: kind).map { Informer(resource: $0, client: generator, transform: transform, logger: logger) }
        }
        let runs = informers.map { informer in Task { try await informer.run() } }
        defer { for run in runs { run.cancel() } }
        for informer in informers {
            while !informer.hasSynced { try await Task.sleep(for: .milliseconds(5)) }
        }
        var result = CacheFill()
        result.residentBytes = ResidentMemory.bytes()
        for informer in informers {
            result.count += informer.store.count
            result.perKind[informer.resource.kind] = informer.store.count
            result.payloadBytes += informer.store.list().reduce(0) { $0 + payloadBytes($1.payload) }
        }
        return result
    }
}

/// Which projection the benchmark caches children with.
enum CacheTransformChoice: String, ExpressibleByArgument, Sendable {
    case stripped, summary
    case jsonText = "json-text"
}

/// Resident set size from /proc/self/statm (Linux); 0 elsewhere.
enum ResidentMemory {
    static func bytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension ResidentMemory {
    /// glibc's malloc_stats(): in-use versus held bytes per arena, to tell live cache data
    /// from fragmentation. Looked up at run time (not in Glibc's Swift module map).
    static func printMallocStatistics() {
        #if canImport(Glibc)
        typealias MallocStats = @convention(c) () -> Void
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_stats") else { return }
        unsafeBitCast(symbol, to: MallocStats.self)()
        #endif
    }
}

/// Lists the children of `objects / childrenPerPlatform` platforms, generated page by page on
/// demand so the benchmark's own data never sits in memory beside the cache.
struct ServedChildren: ResourceClient {
    let platform: MedicalSearchPlatform
    let tier: ServiceTier
    /// Kinds in template order, and how many children of each one platform has.
    let kinds: [String]
    let perPlatform: [String: Int]
    let platforms: Int
    let averageSourceBytes: Int

    init(template: ManifestRendering.Output, objects: Int) {
        platform = template.platform
        tier = template.tier
        var kinds: [String] = []
        var perPlatform: [String: Int] = [:]
        for child in template.state.children {
            if perPlatform[child.kind] == nil { kinds.append(child.kind) }
            perPlatform[child.kind, default: 0] += 1
        }
        self.kinds = kinds
        self.perPlatform = perPlatform
        let children = max(1, template.state.children.count)
        platforms = (objects + children - 1) / children
        let sample = template.state.children.map { Self.asServed($0.object, platform: 0) }
        averageSourceBytes = sample.reduce(0) { $0 + $1.serializedBytes().count } / max(1, sample.count)
    }

    func list(_ type: APIResource, namespace: String?, limit: Int?, continueToken: String?) async throws -> ObjectListPage {
        let perPlatform = self.perPlatform[type.kind] ?? 0
        let total = perPlatform * platforms
        let start = continueToken.flatMap(Int.init) ?? 0
        let end = min(total, start + (limit ?? total))
        var items: [JSONValue] = []
        items.reserveCapacity(end - start)
        var rendered: (index: Int, children: [JSONValue])? = nil
        for item in start..<end {
            let index = item / perPlatform
            if rendered?.index != index { rendered = (index, children(ofPlatform: index, kind: type.kind)) }
            items.append(rendered!.children[item % perPlatform])
        }
        return ObjectListPage(items: items, resourceVersion: "9000000", continueToken: end < total ? String(end) : nil)
    }

    private func children(ofPlatform index: Int, kind: String) -> [JSONValue] {
        var platform = self.platform
        platform.name = "platform-\(index)"
        platform.namespace = "tenant-\(index % 200)"
        platform.uid = UUID().uuidString.lowercased()
        return desiredState(platform: platform, tier: tier, observed: ObservedState()).children
            .filter { $0.kind == kind }.map { Self.asServed($0.object, platform: index) }
    }

    /// What the API server returns for an applied object: server-set metadata, the managed
    /// fields of our apply, defaulted fields and a settled status.
    static func asServed(_ desired: JSONValue, platform index: Int) -> JSONValue {
        var object = desired
        let created = "2026-11-\(10 + index % 15)T0\(index % 10):1\(index % 6):2\(index % 10)Z"
        object[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        object[path: ["metadata", "resourceVersion"]] = .string(String(1_000_000 + Int.random(in: 0..<8_000_000)))
        object[path: ["metadata", "creationTimestamp"]] = .string(created)
        object[path: ["metadata", "annotations", ChildApplier.desiredHashAnnotation]] = .string(String(UInt64.random(in: 0...UInt64.max), radix: 16))
        object[path: ["metadata", "managedFields"]] = [[
            "manager": "medsearch-operator", "operation": "Apply", "apiVersion": object["apiVersion"], "time": .string(created),
            "fieldsType": "FieldsV1", "fieldsV1": fieldsV1(of: desired["spec"].isNull ? desired : desired["spec"]),
        ]]
        switch desired["kind"].stringValue {
        case "Deployment":
            object[path: ["metadata", "generation"]] = 1
            object[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] = "1"
            object[path: ["spec", "revisionHistoryLimit"]] = 10
            object[path: ["spec", "progressDeadlineSeconds"]] = 600
            object[path: ["spec", "strategy"]] = ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]]
            object[path: ["spec", "template", "spec", "restartPolicy"]] = "Always"
            object[path: ["spec", "template", "spec", "dnsPolicy"]] = "ClusterFirst"
            object[path: ["spec", "template", "spec", "schedulerName"]] = "default-scheduler"
            object[path: ["spec", "template", "spec", "terminationGracePeriodSeconds"]] = 30
            if var containers = object[path: ["spec", "template", "spec", "containers"]].arrayValue {
                for position in containers.indices {
                    containers[position]["terminationMessagePath"] = "/dev/termination-log"
                    containers[position]["terminationMessagePolicy"] = "File"
                    containers[position]["imagePullPolicy"] = "IfNotPresent"
                }
                object[path: ["spec", "template", "spec", "containers"]] = .array(containers)
            }
            let replicas = desired[path: ["spec", "replicas"]].intValue ?? 1
            let name = desired[path: ["metadata", "name"]].stringValue ?? ""
            object["status"] = [
                "observedGeneration": 1, "replicas": .int(replicas), "updatedReplicas": .int(replicas),
                "readyReplicas": .int(replicas), "availableReplicas": .int(replicas),
                "conditions": [
                    ["type": "Available", "status": "True", "lastUpdateTime": .string(created), "lastTransitionTime": .string(created),
                     "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."],
                    ["type": "Progressing", "status": "True", "lastUpdateTime": .string(created), "lastTransitionTime": .string(created),
                     "reason": "NewReplicaSetAvailable", "message": .string("ReplicaSet \"\(name)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))\" has successfully progressed.")],
                ],
            ]
        case "Service":
            let address = "10.96.\(index % 256).\(Int.random(in: 2..<255))"
            object[path: ["spec", "clusterIP"]] = .string(address)
            object[path: ["spec", "clusterIPs"]] = [.string(address)]
            object[path: ["spec", "ipFamilies"]] = ["IPv4"]
            object[path: ["spec", "ipFamilyPolicy"]] = "SingleStack"
            object[path: ["spec", "sessionAffinity"]] = "None"
            object[path: ["spec", "internalTrafficPolicy"]] = "Cluster"
            if object[path: ["spec", "type"]].isNull { object[path: ["spec", "type"]] = "ClusterIP" }
            object["status"] = ["loadBalancer": [:]]
        case "HorizontalPodAutoscaler":
            let minimum = desired[path: ["spec", "minReplicas"]].intValue ?? 1
            object["status"] = [
                "currentReplicas": .int(minimum), "desiredReplicas": .int(minimum),
                "currentMetrics": [["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": .int(Int64.random(in: 5..<60)), "averageValue": "42m"]]]],
                "conditions": [
                    ["type": "AbleToScale", "status": "True", "lastTransitionTime": .string(created), "reason": "ReadyForNewScale", "message": "recommended size matches current size"],
                    ["type": "ScalingActive", "status": "True", "lastTransitionTime": .string(created), "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"],
                ],
            ]
        case "PodDisruptionBudget":
            object[path: ["metadata", "generation"]] = 1
            object["status"] = [
                "observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2,
                "conditions": [["type": "DisruptionAllowed", "status": "True", "lastTransitionTime": .string(created), "reason": "SufficientPods", "message": "", "observedGeneration": 1]],
            ]
        case "NetworkPolicy":
            object[path: ["metadata", "generation"]] = 1
        default:
            break
        }
        return object
    }

    /// The FieldsV1 shape of `value` ("f:" per member), as the server records an apply.
    private static func fieldsV1(of value: JSONValue) -> JSONValue {
        guard let members = value.objectValue else { return [:] }
        var fields: [String: JSONValue] = [:]
        for (key, member) in members { fields["f:" + key] = fieldsV1(of: member) }
        return .object(fields)
    }

    func watch(_ type: APIResource, namespace: String?, resourceVersion: String) async throws -> AsyncThrowingStream<ResourceWatchEvent, any Error> {
        AsyncThrowingStream { _ in }
    }
    func get(_ type: APIResource, namespace: String?, name: String) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func create(_ type: APIResource, namespace: String?, object: JSONValue) async throws -> JSONValue { object }
    func replace(_ type: APIResource, namespace: String?, name: String, object: JSONValue) async throws -> JSONValue { object }
    func apply(_ type: APIResource, namespace: String?, name: String, object: JSONValue, fieldManager: String, force: Bool) async throws -> JSONValue { object }
    func jsonPatch(_ type: APIResource, namespace: String?, name: String, operations: [JSONValue]) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func mergePatch(_ type: APIResource, namespace: String?, name: String, patch: JSONValue) async throws -> JSONValue { throw ResourceClientError(statusCode: 404) }
    func delete(_ type: APIResource, namespace: String?, name: String) async throws {}
}
