import Foundation
import Synchronization
import Testing
import TLS

/// A real PostgreSQL server on 127.0.0.1 for the suite's lifetime: TLS with a certificate from
/// a fresh CA, SCRAM-SHA-256 for the superuser `probe`, plus `md5user` (MD5) and `plainuser`
/// (cleartext) to exercise the fallbacks. Plaintext connections are allowed too (with SCRAM) so
/// the TLS-disabled path can be tested.
///
/// initdb and postgres refuse to run as root, so as root every server command runs as the
/// `postgres` user through runuser, with the data directory chowned to it.
final class TestPostgreSQLServer: Sendable {
    static let binaryDirectory: String? = {
        let candidates = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin", "/usr/bin"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }()

    static var isInstalled: Bool {
        binaryDirectory != nil && (!runningAsRoot || getpwnam("postgres") != nil)
    }

    /// Names the certificate carries besides localhost/127.0.0.1, for endpoint-override tests.
    static let certificateHostName = "db.probes.test"

    let port: Int
    let authority: CertificateAuthority
    let superuserPassword: String
    let md5Password: String
    let cleartextPassword: String
    private let directory: TemporaryDirectory
    private let binaries: String
    private let process = Mutex<BackgroundProcess?>(nil)

    private init(port: Int, authority: CertificateAuthority, passwords: [String], directory: TemporaryDirectory, binaries: String) {
        self.port = port
        self.authority = authority
        superuserPassword = passwords[0]
        md5Password = passwords[1]
        cleartextPassword = passwords[2]
        self.directory = directory
        self.binaries = binaries
    }

    /// Starts a server on a port that was free a moment ago. The port can be taken in between
    /// (another test's listener, some connection's ephemeral port); postgres then exits before
    /// it is ready, and the whole start is tried again on a new port.
    static func start() async throws -> TestPostgreSQLServer {
        try await startRetryingOnEarlyExit("PostgreSQL", startOnce)
    }

    private static func startOnce() async throws -> TestPostgreSQLServer {
        guard let binaries = binaryDirectory else { throw TestSetupError("PostgreSQL binaries not found") }
        let directory = try TemporaryDirectory(prefix: "probes-pg")
        var server: TestPostgreSQLServer? = nil
        do {
            let authority = try CertificateAuthority.generate(commonName: "probes test CA")
            let issued = try authority.issueServerCertificate(commonName: "postgres", dnsNames: ["localhost", certificateHostName])
            let passwords = try (0..<3).map { _ in try SecureRandom.string(length: 24) }
            let port = try await freeLoopbackPort()
            let created = TestPostgreSQLServer(port: port, authority: authority, passwords: passwords, directory: directory, binaries: binaries)
            server = created
            try directory.write("server.crt", issued.certificatePEM, mode: 0o644)
            try directory.write("server.key", issued.privateKeyPEM, mode: 0o600)
            try directory.write("pwfile", passwords[0] + "\n", mode: 0o600)
            try directory.write("roles.sql", """
                SET password_encryption = 'md5';
                CREATE ROLE md5user LOGIN PASSWORD '\(passwords[1])';
                RESET password_encryption;
                CREATE ROLE plainuser LOGIN PASSWORD '\(passwords[2])';
                """, mode: 0o644)
            try created.handOverToServerUser()
            try await created.runAsServerUser("initdb", [
                "-D", directory.file("data"), "-U", "probe", "--pwfile", directory.file("pwfile"),
                "-A", "scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
            ])
            try directory.write("data/pg_hba.conf", """
                local all all trust
                hostssl all md5user 127.0.0.1/32 md5
                hostssl all plainuser 127.0.0.1/32 password
                hostssl all all 127.0.0.1/32 scram-sha-256
                hostnossl all probe 127.0.0.1/32 scram-sha-256
                """)
            try created.handOverToServerUser()
            // postgres runs as a direct child rather than through `pg_ctl start`: Foundation's
            // Process notices an exit only once every holder of its child's inherited socket has
            // gone, and the daemon pg_ctl leaves behind would hold it for the whole suite.
            let options = [
                "-c", "port=\(port)", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(directory.path)",
                "-c", "ssl=on", "-c", "ssl_cert_file=\(directory.file("server.crt"))", "-c", "ssl_key_file=\(directory.file("server.key"))",
                "-c", "password_encryption=scram-sha-256", "-c", "fsync=off", "-c", "log_connections=on",
            ]
            let postgres = binaries + "/postgres"
            let arguments = ["-D", directory.file("data")] + options
            let process = runningAsRoot
                ? try BackgroundProcess("/usr/sbin/runuser", ["-u", "postgres", "--", postgres] + arguments, outputFile: directory.file("server.log"))
                : try BackgroundProcess(postgres, arguments, outputFile: directory.file("server.log"))
            created.process.withLock { $0 = process }
            try await created.waitUntilReady()
            try await created.runAsServerUser("psql", [
                "-h", directory.path, "-p", "\(port)", "-U", "probe", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                "-q", "-f", directory.file("roles.sql"),
            ], binaryDirectories: [binaries, "/usr/bin"])
            return created
        } catch {
            await server?.stop()
            directory.remove()
            throw error
        }
    }

    func stop() async {
        guard let process = process.withLock({ $0 }) else { return }
        // Immediate shutdown: the data is throwaway, and a smart shutdown would wait for clients.
        _ = try? await runAsServerUser("pg_ctl", ["-D", directory.file("data"), "-m", "immediate", "-w", "stop"])
        await process.stop()
        directory.remove()
    }

    private func waitUntilReady() async throws {
        for _ in 0..<300 {
            let ready = try? await runToCompletion(
                binaries + "/pg_isready", ["-q", "-h", "127.0.0.1", "-p", "\(port)"], outputFile: directory.file("pg_isready.out"))
            if ready?.status == 0 { return }
            guard process.withLock({ $0?.isRunning ?? false }) else { throw ExitedBeforeListening(log: String(log.suffix(2000))) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("PostgreSQL did not become ready: \(log.suffix(2000))")
    }

    /// The server log, for failure messages.
    var log: String { (try? String(contentsOfFile: directory.file("server.log"), encoding: .utf8)) ?? "" }

    private func handOverToServerUser() throws {
        guard runningAsRoot, let user = getpwnam("postgres") else { return }
        let uid = user.pointee.pw_uid
        let gid = user.pointee.pw_gid
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return }
        chown(directory.path, uid, gid)
        for case let relative as String in enumerator {
            chown(directory.file(relative), uid, gid)
        }
    }

    @discardableResult
    private func runAsServerUser(_ program: String, _ arguments: [String], binaryDirectories: [String]? = nil) async throws -> ProcessOutcome {
        guard let executable = findExecutable(program, in: binaryDirectories ?? [binaries]) else {
            throw TestSetupError("\(program) not found")
        }
        let outputFile = directory.file("\(program).out")
        let outcome = runningAsRoot
            ? try await runToCompletion("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments, outputFile: outputFile)
            : try await runToCompletion(executable, arguments, outputFile: outputFile)
        guard outcome.status == 0 else { throw TestSetupError("\(program) failed: \(outcome)") }
        return outcome
    }
}

/// A test partner could not be set up; says which step failed.
struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts one PostgreSQL server for the whole suite it is attached to and stops it afterwards.
struct PostgreSQLServerScope: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestPostgreSQLServer?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try await TestPostgreSQLServer.start()
        do {
            try await Self.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == PostgreSQLServerScope {
    /// A real PostgreSQL server for the suite, reachable as `PostgreSQLServerScope.current`.
    static var postgreSQLServer: Self { PostgreSQLServerScope() }
}
