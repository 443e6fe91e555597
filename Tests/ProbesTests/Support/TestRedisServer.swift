import Foundation
import Testing
import TLS

/// A real Redis server on 127.0.0.1 for the suite's lifetime, listening twice: TLS (certificate
/// from a fresh CA) and plaintext. The default user needs `requirepass`; the ACL user `probe`
/// has its own password.
///
/// Debian's redis-server is built with TLS (it links libssl), so no TLS-terminating proxy is
/// needed; `supportsTLS` checks that before the suite relies on it.
final class TestRedisServer: Sendable {
    static let executable = findExecutable("redis-server", in: ["/usr/bin", "/usr/local/bin", "/usr/sbin"])

    static var isInstalled: Bool { executable != nil }

    let tlsPort: Int
    let plainPort: Int
    let authority: CertificateAuthority
    let defaultPassword: String
    let aclUser = "probe"
    let aclPassword: String
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    private init(tlsPort: Int, plainPort: Int, authority: CertificateAuthority, passwords: [String], directory: TemporaryDirectory, process: BackgroundProcess) {
        self.tlsPort = tlsPort
        self.plainPort = plainPort
        self.authority = authority
        defaultPassword = passwords[0]
        aclPassword = passwords[1]
        self.directory = directory
        self.process = process
    }

    /// Starts redis-server on two ports that were free a moment ago. A port can be taken in
    /// between (by another test's listener, or as some connection's ephemeral port), in which
    /// case redis exits with "Address already in use" and the start is tried again on new ports.
    static func start() async throws -> TestRedisServer {
        try await startRetryingOnEarlyExit("redis-server", startOnce)
    }

    private static func startOnce() async throws -> TestRedisServer {
        guard let executable else { throw TestSetupError("redis-server not found") }
        let directory = try TemporaryDirectory(prefix: "probes-redis")
        do {
            let authority = try CertificateAuthority.generate(commonName: "probes redis test CA")
            let issued = try authority.issueServerCertificate(commonName: "redis")
            let passwords = try (0..<2).map { _ in try SecureRandom.string(length: 24) }
            let tlsPort = try await freeLoopbackPort()
            let plainPort = try await freeLoopbackPort()
            // The configuration goes in a file so the passwords never appear in `ps`.
            let configuration = try directory.write("redis.conf", """
                bind 127.0.0.1
                port \(plainPort)
                tls-port \(tlsPort)
                tls-cert-file \(try directory.write("server.crt", issued.certificatePEM))
                tls-key-file \(try directory.write("server.key", issued.privateKeyPEM))
                tls-ca-cert-file \(try directory.write("ca.crt", authority.certificatePEM))
                tls-auth-clients no
                requirepass \(passwords[0])
                user probe on >\(passwords[1]) ~* &* +@all
                save ""
                appendonly no
                daemonize no
                dir \(directory.path)
                """)
            let process = try BackgroundProcess(executable, [configuration], outputFile: directory.file("redis.log"))
            let server = TestRedisServer(tlsPort: tlsPort, plainPort: plainPort, authority: authority, passwords: passwords, directory: directory, process: process)
            let plainListening = await waitUntilAccepting(port: plainPort, while: { process.isRunning })
            let tlsListening = await waitUntilAccepting(port: tlsPort, while: { process.isRunning })
            guard plainListening, tlsListening, process.isRunning else {
                // The log goes before `stop()` removes the directory it is in.
                let log = server.log
                let exited = !process.isRunning
                await server.stop()
                if exited { throw ExitedBeforeListening(log: log) }
                throw TestSetupError("redis-server did not listen on \(plainPort) and \(tlsPort): \(log)")
            }
            return server
        } catch {
            directory.remove()
            throw error
        }
    }

    func stop() async {
        await process.stop()
        directory.remove()
    }

    var log: String { (try? String(contentsOfFile: directory.file("redis.log"), encoding: .utf8)) ?? "" }
}

/// Starts one Redis server for the whole suite it is attached to and stops it afterwards.
struct RedisServerScope: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestRedisServer?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try await TestRedisServer.start()
        do {
            try await Self.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == RedisServerScope {
    /// A real Redis server for the suite, reachable as `RedisServerScope.current`.
    static var redisServer: Self { RedisServerScope() }
}
