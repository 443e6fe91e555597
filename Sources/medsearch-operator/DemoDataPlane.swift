import AWS
import ChildProcess
import DataTier
import Foundation
import Probes
import TLS

/// PostgreSQL and Redis on loopback (scripts/dataplane/start-local) standing in for the RDS
/// and ElastiCache endpoints moto reports, so the demo's data-plane probes really connect,
/// speak TLS and authenticate.
///
/// Caveats (demo only): RDS and ElastiCache set the master password and AUTH token the
/// operator generated when they create the store. moto runs no servers, so the demo copies
/// those values from the platform's credentials Secret into the local servers itself
/// (`adopt(credentials:)`): ALTER ROLE in PostgreSQL, CONFIG SET requirepass in Redis. The
/// values travel over stdin, never on a command line, and are never printed.
struct DemoDataPlane: Sendable {
    let directory: String
    let postgresPort: Int
    let redisPort: Int
    let caPEM: String
    static let postgresHost = "postgres.medsearch.test"
    static let redisHost = "redis.medsearch.test"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts both servers; throws `Unavailable` (with the script's complaint) when it cannot.
    static func start(directory: String) throws -> DemoDataPlane {
        let script = "scripts/dataplane/start-local"
        guard FileManager.default.isExecutableFile(atPath: script) else { throw Unavailable(description: "\(script) not found (run from the repository root)") }
        try? FileManager.default.removeItem(atPath: directory)
        let (status, output) = try run(script, [directory])
        guard status == 0 else {
            throw Unavailable(description: output.split(separator: "\n").last.map(String.init) ?? "start-local exited \(status)")
        }
        guard let env = FileManager.default.contents(atPath: "\(directory)/env").map({ String(decoding: $0, as: UTF8.self) }),
              let postgres = env.firstMatch(of: /postgres[^=,]*:5432=127\.0\.0\.1:(\d+)/).flatMap({ Int($0.1) }),
              let redis = env.firstMatch(of: /redis[^=,]*:6379=127\.0\.0\.1:(\d+)/).flatMap({ Int($0.1) }),
              let ca = FileManager.default.contents(atPath: "\(directory)/ca.crt").map({ String(decoding: $0, as: UTF8.self) })
        else {
            throw Unavailable(description: "start-local left no usable \(directory)/env")
        }
        return DemoDataPlane(directory: directory, postgresPort: postgres, redisPort: redis, caPEM: ca)
    }

    func stop() {
        _ = try? Self.run("scripts/dataplane/stop-local", [directory])
    }

    /// Probes that connect to the local servers wherever moto says the stores are, verifying
    /// TLS against the names in the local certificate.
    func probes(s3: any S3API) -> DataTierProbeFactory {
        let postgresPort = postgresPort
        let redisPort = redisPort
        let ca = caPEM
        return { endpoints, credentials in
            var mappings: [ProbeEndpointOverrides.Endpoint: ProbeEndpointOverrides.Endpoint] = [:]
            if let db = endpoints.databaseWriter {
                mappings[.init(host: db.host, port: Int(db.port))] = .init(host: "127.0.0.1", port: postgresPort)
            }
            if let cache = endpoints.cache {
                mappings[.init(host: cache.host, port: Int(cache.port))] = .init(host: "127.0.0.1", port: redisPort)
            }
            let overrides = ProbeEndpointOverrides(mappings)
            var probes: [any DataPlaneProbe] = []
            if let db = endpoints.databaseWriter, let user = credentials["DATABASE_USERNAME"], let password = credentials["DATABASE_PASSWORD"] {
                probes.append(PostgreSQLProbe(configuration: PostgreSQLProbeConfiguration(
                    host: db.host, port: Int(db.port), user: user, password: password, database: endpoints.databaseName,
                    tls: .required(ClientTLSConfiguration(trust: .certificateAuthorities(pem: ca), serverName: Self.postgresHost)),
                    timeout: .seconds(5), endpointOverrides: overrides)))
            }
            if let cache = endpoints.cache {
                probes.append(RedisProbe(configuration: RedisProbeConfiguration(
                    host: cache.host, port: Int(cache.port), password: credentials["REDIS_AUTH_TOKEN"],
                    tls: .required(ClientTLSConfiguration(trust: .certificateAuthorities(pem: ca), serverName: Self.redisHost)),
                    timeout: .seconds(5), endpointOverrides: overrides)))
            }
            if let documents = endpoints.buckets[.documents] {
                probes.append(S3BucketProbe(s3: s3, bucket: documents))
            }
            return probes
        }
    }

    /// Gives the local servers the operator-generated credentials (see the type's caveats)
    /// and creates the platform's database.
    func adopt(databasePassword: String, redisAuthToken: String, databaseName: String) throws {
        let socketDirectory = "\(directory)/postgres"
        let sql = """
            ALTER ROLE medsearch WITH PASSWORD '\(databasePassword.replacingOccurrences(of: "'", with: "''"))';
            SELECT 'CREATE DATABASE "\(databaseName)"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '\(databaseName)')\\gexec

            """
        let asPostgres = getuid() == 0 ? ["runuser", "-u", "postgres", "--"] : []
        let psql = try Self.run("/usr/bin/env", asPostgres + ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(postgresPort), "-U", "medsearch", "-d", "postgres", "-f", "-"], input: sql)
        guard psql.status == 0 else { throw Unavailable(description: "psql could not set the demo password: \(psql.output.prefix(200))") }

        let oldPassword = (FileManager.default.contents(atPath: "\(directory)/redis-password").map { String(decoding: $0, as: UTF8.self) } ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let redis = try Self.run(
            "/usr/bin/env", ["redis-cli", "--tls", "--cacert", "\(directory)/ca.crt", "-h", "127.0.0.1", "-p", String(redisPort)],
            input: "CONFIG SET requirepass \"\(redisAuthToken)\"\n", environment: ["REDISCLI_AUTH": oldPassword])
        guard redis.status == 0, redis.output.contains("OK") else { throw Unavailable(description: "redis-cli could not set the demo AUTH token") }
        // stop-local authenticates its SHUTDOWN with this file (mode 0600).
        try Data((redisAuthToken + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/redis-password"))
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        // Passwords go through the environment or stdin, never the command line (ps shows it).
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("medsearch-demo-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil, attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        let pipe = try CloseOnExecPipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : pipe.reading
        try process.runSerialized()
        try pipe.reading.close()
        if let input {
            pipe.writing.write(Data(input.utf8))
        }
        try pipe.writing.close()
        // Same thread as `runSerialized()`, so this sleeps on the run loop rather than spinning.
        process.waitUntilExit()
        try handle.close()
        let text = FileManager.default.contents(atPath: output.path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return (process.terminationStatus, text)
    }
}
