import AWSSigning
import ChildProcess
import Foundation
import HTTPTransport
import Synchronization

import AWS

/// pids of moto servers this test process started, killed when it exits.
private let startedMotoPIDs = Mutex<[Int32]>([])

/// A moto_server on 127.0.0.1 for one test suite: a port the kernel picks, started through
/// scripts/moto/serve-for-tests (which also stops it if this process dies), ready when
/// `start` returns, stopped by `stop()` or at process exit.
public final class MotoServer: Sendable {
    /// The port moto listens on.
    public let port: Int
    private let pid: Int32

    /// "http://127.0.0.1:<port>".
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, pid: Int32) {
        self.port = port
        self.pid = pid
    }

    /// True when `moto_server` is on PATH; integration suites are enabled by it.
    public static let isInstalled: Bool = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/moto_server") }
    }()

    /// The checkout holding scripts/moto (this file is Sources/AWSTestSupport/MotoServer.swift).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Starts moto and returns once it answers.
    ///
    /// moto binds port 0 and announces the port the kernel gave it, so no other socket can take
    /// the port between choosing and binding it (with a port chosen beforehand, whoever took it
    /// could answer the readiness check in moto's place). A moto that exits before answering
    /// is started again; one that runs but never answers is an error.
    public static func start(transport: HTTPTransport) async throws -> MotoServer {
        var lastError: MotoStartError?
        for _ in 0..<3 {
            do {
                return try await startOnce(transport: transport)
            } catch let error as MotoStartError where error.exitedBeforeReady {
                lastError = error
            }
        }
        throw lastError ?? MotoStartError(message: "moto_server did not start")
    }

    private static func startOnce(transport: HTTPTransport) async throws -> MotoServer {
        // moto's output, read for the announced port, then unlinked (moto keeps its open file).
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("moto-tests-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: output, contents: nil) else {
            throw MotoStartError(message: "cannot create \(output) for moto_server's output")
        }
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(repositoryRoot)/scripts/moto/serve-for-tests")
        process.arguments = ["0", String(ProcessInfo.processInfo.processIdentifier), output]
        // swift test reads the runner's output until every writer closes it; the watchdog
        // outlives the runner briefly, so it must not hold those pipes.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runSerialized()
        let pid = process.processIdentifier
        startedMotoPIDs.withLock { pids in
            if pids.isEmpty {
                atexit {
                    for pid in startedMotoPIDs.withLock({ $0 }) { kill(pid, SIGTERM) }
                }
            }
            pids.append(pid)
        }
        // Readiness: moto answers its own API once Flask is serving. Start-up takes a few
        // seconds on a busy machine; give up after a minute.
        var port: Int?
        for _ in 0..<600 {
            port = port ?? announcedLoopbackPort(inOutputFile: output)
            if let port, let response = try? await transport.send(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/moto-api/data.json", timeout: .seconds(2))),
                response.status == 200
            {
                return MotoServer(port: port, pid: pid)
            }
            if !process.isRunning {
                let said = (try? String(contentsOfFile: output, encoding: .utf8)).map { String($0.suffix(500)) } ?? ""
                forget(pid)
                throw MotoStartError(message: "moto_server exited before it was ready: \(said)", exitedBeforeReady: true)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(pid, SIGTERM)
        forget(pid)
        throw MotoStartError(message: "moto_server did not become ready\(port.map { " on port \($0)" } ?? "")")
    }

    private static func forget(_ pid: Int32) {
        startedMotoPIDs.withLock { $0.removeAll { $0 == pid } }
    }

    /// Stops moto (its watchdog stops it too if this process dies first).
    public func stop() {
        kill(pid, SIGTERM)
        Self.forget(pid)
    }

    /// Turns on moto's request authentication: after `unauthenticatedRequests` more requests,
    /// every request must be signed by an access key moto's IAM knows.
    public func resetAuth(unauthenticatedRequests: Int, transport: HTTPTransport) async throws {
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: baseURL + "/moto-api/reset-auth", body: Array(String(unauthenticatedRequests).utf8)))
        guard response.status == 200 else { throw MotoStartError(message: "reset-auth answered \(response.status)") }
    }

    /// A client for every service pointed at this server, with fixed test keys.
    public func client(
        transport: HTTPTransport, region: String = "us-east-1",
        credentials: AWSCredentials = AWSCredentials(accessKeyId: "AKIDMOTOTEST", secretAccessKey: "moto-test-secret"),
        retryStrategy: RetryStrategy = .standard
    ) -> AWSClient {
        AWSClient(
            region: region, endpoints: EndpointResolver(region: region, environment: ["AWS_ENDPOINT_URL": baseURL]),
            credentials: StaticCredentialsProvider(credentials), transport: transport, retryStrategy: retryStrategy,
            sleep: { _ in })
    }
}

/// Why moto could not be started or configured.
public struct MotoStartError: Error, CustomStringConvertible {
    /// What went wrong, without secrets.
    public let message: String
    /// The process ended before answering (typically its port was taken): worth a new port.
    public let exitedBeforeReady: Bool
    /// Same as `message`.
    public var description: String { message }

    public init(message: String, exitedBeforeReady: Bool = false) {
        self.message = message
        self.exitedBeforeReady = exitedBeforeReady
    }
}

/// Starts one moto_server lazily and hands the same one to every test of a suite.
public actor MotoLease {
    private var server: Task<MotoServer, any Error>?
    /// The transport moto's readiness probe uses.
    public let transport: HTTPTransport

    /// A lease that starts nothing until the first `get()`.
    public init(transport: HTTPTransport) { self.transport = transport }

    /// The suite's moto, started on first call.
    public func get() async throws -> MotoServer {
        if let server { return try await server.value }
        let transport = self.transport
        let task = Task { try await MotoServer.start(transport: transport) }
        server = task
        return try await task.value
    }
}

extension AWSService {
    /// Services the tests need for set-up only (EC2 subnets, IAM users), not part of the client.
    public static let ec2ForTests = AWSService(
        endpointPrefix: "ec2", signingName: "ec2", environmentSuffix: "EC2", apiVersion: "2016-11-15")
    /// IAM, for creating users whose keys moto's authentication accepts.
    public static let iamForTests = AWSService(
        endpointPrefix: "iam", signingName: "iam", environmentSuffix: "IAM", apiVersion: "2010-05-08")
}

extension AWSClient {
    /// A VPC with two subnets in different zones, as RDS and ElastiCache subnet groups need.
    public func makeTestSubnets() async throws -> [String] {
        var vpc = QueryParameters(action: "CreateVpc", version: AWSService.ec2ForTests.apiVersion)
        vpc.add("CidrBlock", "10.42.0.0/16")
        let vpcId = try await query(.ec2ForTests, vpc).firstDescendant("vpcId")?.text ?? ""
        var subnets: [String] = []
        for (index, zone) in ["\(region)a", "\(region)b"].enumerated() {
            var p = QueryParameters(action: "CreateSubnet", version: AWSService.ec2ForTests.apiVersion)
            p.add("VpcId", vpcId)
            p.add("CidrBlock", "10.42.\(index).0/24")
            p.add("AvailabilityZone", zone)
            subnets.append(try await query(.ec2ForTests, p).firstDescendant("subnetId")?.text ?? "")
        }
        return subnets
    }
}
