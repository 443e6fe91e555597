import ChildProcess
import Foundation
import HTTPTransport

#if canImport(Glibc)
import Glibc
#endif

/// A moto_server (AWS API emulator) on 127.0.0.1 at a port the kernel picks, for the demo and the
/// integration tests: started, awaited until it answers, stopped with `stop()`.
///
/// Guarantees: when `watchdogScript` exists (scripts/moto/serve-for-tests), moto runs under
/// it and is also stopped when this process dies without calling `stop()`, so no moto_server
/// outlives a crashed demo or test run.
public final class LocalMotoServer: Sendable {
    public struct StartError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    private let process: Process
    public var endpointURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// The moto_server executable on PATH, nil when it is not installed.
    public static func executablePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/moto_server" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts moto and returns once it answers; gives up after `readyWithin`.
    ///
    /// moto binds port 0 and announces the port the kernel gave it, so no other socket can take
    /// the port between choosing and binding it (a free port chosen beforehand could be, and
    /// whoever took it then answered the readiness check in moto's place). A moto that exits
    /// before answering is started again, up to three times.
    public static func start(watchdogScript: String? = "scripts/moto/serve-for-tests", transport: HTTPTransport, readyWithin: Duration = .seconds(60)) async throws -> LocalMotoServer {
        guard let moto = executablePath() else { throw StartError(description: "moto_server is not on PATH (pip install 'moto[server]')") }
        var exited: StartError?
        for _ in 0..<3 {
            switch try await startOnce(moto: moto, watchdogScript: watchdogScript, transport: transport, readyWithin: readyWithin) {
            case .success(let server): return server
            case .failure(let error): exited = error
            }
        }
        throw exited ?? StartError(description: "moto_server did not start")
    }

    /// `.failure` only when moto exited before answering (worth another try); a moto that
    /// runs but never answers throws.
    private static func startOnce(moto: String, watchdogScript: String?, transport: HTTPTransport, readyWithin: Duration) async throws -> Result<LocalMotoServer, StartError> {
        // moto's output, read for the announced port; unlinked once read (moto keeps writing
        // its request log to the open file, which goes when moto does).
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("medsearch-moto-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: output, contents: nil) else {
            throw StartError(description: "cannot create \(output) for moto_server's output")
        }
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        if let script = watchdogScript, FileManager.default.isExecutableFile(atPath: script) {
            process.executableURL = URL(fileURLWithPath: script)
            process.arguments = ["0", String(ProcessInfo.processInfo.processIdentifier), output]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        } else {
            process.executableURL = URL(fileURLWithPath: moto)
            process.arguments = ["-H", "127.0.0.1", "-p", "0"]
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
        }
        // Test runners wait for every writer of their output pipes to close.
        process.standardInput = FileHandle.nullDevice
        try process.runSerialized()
        let end = ContinuousClock.now + readyWithin
        var port: Int?
        while ContinuousClock.now < end && process.isRunning {
            port = port ?? announcedLoopbackPort(inOutputFile: output)
            if let port, let response = try? await transport.send(HTTPRequest(url: "http://127.0.0.1:\(port)/moto-api/data.json", timeout: .seconds(2))), response.status == 200 {
                return .success(LocalMotoServer(port: port, process: process))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        if !process.isRunning {
            let said = (try? String(contentsOfFile: output, encoding: .utf8)).map { String($0.suffix(500)) } ?? ""
            return .failure(StartError(description: "moto_server exited before it answered: \(said)"))
        }
        stop(process)
        throw StartError(description: "moto_server did not answer\(port.map { " on 127.0.0.1:\($0)" } ?? "") within \(readyWithin)")
    }

    /// Stops moto and its watchdog and waits for them.
    ///
    /// SIGKILL rather than SIGTERM: a child spawned from a Swift concurrency thread inherits
    /// that thread's signal mask, in which SIGTERM is blocked, so neither the watchdog nor
    /// moto would ever see it.
    public func stop() { Self.stop(process) }

    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        _ = process.waitForExit(upTo: .seconds(10))
    }

    /// Environment for an AWS client pointed at this server, with moto's dummy credentials.
    public func awsEnvironment(region: String) -> [String: String] {
        [
            "AWS_ENDPOINT_URL": endpointURL, "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        ]
    }

    /// A VPC with two subnets in different zones, as RDS and ElastiCache subnet groups need.
    ///
    /// moto accepts unsigned requests and routes by the credential scope in the
    /// Authorization header, so plain form posts suffice; the AWS module has no EC2 client
    /// because the operator never creates networks.
    public func makeSubnets(region: String, transport: HTTPTransport) async throws -> [String] {
        let vpc = try await ec2(["Action": "CreateVpc", "CidrBlock": "10.42.0.0/16"], region: region, transport: transport)
        guard let vpcId = Self.firstElement("vpcId", in: vpc) else { throw StartError(description: "moto CreateVpc answered without a vpcId") }
        var subnets: [String] = []
        for (index, zone) in ["a", "b"].enumerated() {
            let subnet = try await ec2(
                ["Action": "CreateSubnet", "VpcId": vpcId, "CidrBlock": "10.42.\(index).0/24", "AvailabilityZone": region + zone],
                region: region, transport: transport)
            guard let id = Self.firstElement("subnetId", in: subnet) else { throw StartError(description: "moto CreateSubnet answered without a subnetId") }
            subnets.append(id)
        }
        return subnets
    }

    private func ec2(_ parameters: [String: String], region: String, transport: HTTPTransport) async throws -> String {
        var form = parameters
        form["Version"] = "2016-11-15"
        let body = form.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.value)" }
            .joined(separator: "&")
        let date = "20260101"
        let response = try await transport.send(HTTPRequest(
            method: "POST", url: endpointURL + "/",
            headers: [
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/\(date)/\(region)/ec2/aws4_request, SignedHeaders=host, Signature=00",
            ],
            body: Array(body.utf8), timeout: .seconds(10)))
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else { throw StartError(description: "moto \(parameters["Action"] ?? "") answered HTTP \(response.status)") }
        return text
    }

    static func firstElement(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }
}
