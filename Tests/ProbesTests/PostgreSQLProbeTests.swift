import Foundation
import Probes
import Testing
import TLS

@Suite(
    .enabled(if: TestPostgreSQLServer.isInstalled, "PostgreSQL server binaries (initdb, pg_ctl) are not installed"),
    .postgreSQLServer
)
struct PostgreSQLProbeTests {
    var server: TestPostgreSQLServer { PostgreSQLServerScope.current! }

    func configuration(
        user: String = "probe", password: String? = nil, host: String = "127.0.0.1",
        trust: ClientTLSConfiguration.Trust? = nil, serverName: String? = nil, tls: Bool = true
    ) -> PostgreSQLProbeConfiguration {
        PostgreSQLProbeConfiguration(
            host: host, port: server.port, user: user, password: password ?? server.superuserPassword,
            tls: tls ? .required(ClientTLSConfiguration(
                trust: trust ?? .certificateAuthorities(pem: server.authority.certificatePEM), serverName: serverName)) : .disabled,
            timeout: .seconds(20))
    }

    @Test func probe_withTLSAndSCRAM_isHealthyAfterSelectOne() async throws {
        let result = await PostgreSQLProbe(configuration: configuration()).probe()
        #expect(result.isHealthy, "\(result) — server log: \(server.log.suffix(2000))")
        #expect(result.stages.map(\.stage) == [.connect, .tls, .auth, .query])
        #expect(result.target == ProbeTarget(kind: .postgreSQL, host: "127.0.0.1", port: server.port))
        if case .healthy(let latency) = result.outcome {
            #expect(latency >= result.stages.map(\.duration).reduce(.zero, +) - .milliseconds(1))
        }
    }

    @Test func probe_whenPasswordIsWrong_failsAuthenticationWithSQLState28P01AndNoPassword() async throws {
        let wrong = "wrong-\(try SecureRandom.string(length: 16))"
        let result = await PostgreSQLProbe(configuration: configuration(password: wrong)).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .auth)
        #expect(failure.reason == "AuthenticationFailed")
        #expect(failure.serverCode == "28P01")
        #expect(failure.message.contains("password authentication failed"), "\(failure)")
        for text in [failure.message, failure.description, String(describing: result), "\(configuration(password: wrong))"] {
            #expect(!text.contains(wrong))
            #expect(!text.contains(server.superuserPassword))
        }
    }

    @Test func probe_whenUserUsesMD5_authenticatesWithTheMD5Fallback() async throws {
        let result = await PostgreSQLProbe(configuration: configuration(user: "md5user", password: server.md5Password)).probe()
        #expect(result.isHealthy, "\(result)")
    }

    @Test func probe_whenServerAsksForCleartextOverTLS_authenticatesWithThePassword() async throws {
        let result = await PostgreSQLProbe(configuration: configuration(user: "plainuser", password: server.cleartextPassword)).probe()
        #expect(result.isHealthy, "\(result)")
    }

    @Test func probe_whenCAIsNotTheServers_failsTheTLSHandshake() async throws {
        let stranger = try CertificateAuthority.generate(commonName: "stranger")
        let result = await PostgreSQLProbe(configuration: configuration(trust: .certificateAuthorities(pem: stranger.certificatePEM))).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .tls)
        #expect(failure.reason == "TLSHandshakeFailed")
        #expect(failure.message.contains("certificate"), "\(failure)")
    }

    @Test func probe_whenCertificateDoesNotNameTheHost_failsTheTLSHandshake() async throws {
        let result = await PostgreSQLProbe(configuration: configuration(serverName: "elsewhere.probes.test")).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.reason == "TLSHandshakeFailed")
    }

    @Test func probe_whenEndpointIsOverridden_connectsToLoopbackAndVerifiesTheOriginalName() async throws {
        let rdsHost = TestPostgreSQLServer.certificateHostName
        var configuration = configuration(host: rdsHost)
        configuration.port = 5432
        configuration.endpointOverrides = try ProbeEndpointOverrides(parsing: "\(rdsHost):5432=127.0.0.1:\(server.port)")
        let result = await PostgreSQLProbe(configuration: configuration).probe()
        #expect(result.isHealthy, "\(result)")
        #expect(result.target.host == rdsHost && result.target.port == 5432)
    }

    @Test func probe_withTLSDisabled_authenticatesWithSCRAMInPlaintext() async throws {
        let result = await PostgreSQLProbe(configuration: configuration(tls: false)).probe()
        #expect(result.isHealthy, "\(result)")
        #expect(result.stages.map(\.stage) == [.connect, .auth, .query])
    }

    @Test func probe_whenDatabaseDoesNotExist_reportsTheSQLState() async throws {
        var configuration = configuration()
        configuration.database = "no_such_database"
        let result = await PostgreSQLProbe(configuration: configuration).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.serverCode == "3D000")
        #expect(failure.reason == "AuthenticationFailed")
    }

    @Test func probe_whenRunConcurrently_eachSucceeds() async throws {
        let probe = PostgreSQLProbe(configuration: configuration())
        let results = await withTaskGroup(of: ProbeResult.self) { group in
            for _ in 0..<8 { group.addTask { await probe.probe() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let failures = results.compactMap(\.failure)
        #expect(results.count == 8)
        #expect(failures.isEmpty, "\(failures)")
    }
}
