import Foundation
import Probes
import Testing
import TLS

@Suite(
    .enabled(if: TestRedisServer.isInstalled, "redis-server is not installed"),
    .redisServer
)
struct RedisProbeTests {
    var server: TestRedisServer { RedisServerScope.current! }

    func tlsConfiguration(username: String? = nil, password: String?, trust: ClientTLSConfiguration.Trust? = nil) -> RedisProbeConfiguration {
        RedisProbeConfiguration(
            host: "127.0.0.1", port: server.tlsPort, username: username, password: password,
            tls: .required(ClientTLSConfiguration(trust: trust ?? .certificateAuthorities(pem: server.authority.certificatePEM))),
            timeout: .seconds(20))
    }

    @Test func probe_withTLSAndRequirepass_isHealthyAfterPong() async throws {
        let result = await RedisProbe(configuration: tlsConfiguration(password: server.defaultPassword)).probe()
        #expect(result.isHealthy, "\(result) — server log: \(server.log.suffix(2000))")
        #expect(result.stages.map(\.stage) == [.connect, .tls, .auth, .query])
    }

    @Test func probe_withACLUserOverTLS_isHealthy() async throws {
        let result = await RedisProbe(configuration: tlsConfiguration(username: server.aclUser, password: server.aclPassword)).probe()
        #expect(result.isHealthy, "\(result)")
    }

    @Test func probe_withACLUserInPlaintext_isHealthy() async throws {
        let configuration = RedisProbeConfiguration(
            host: "127.0.0.1", port: server.plainPort, username: server.aclUser, password: server.aclPassword, tls: .disabled)
        let result = await RedisProbe(configuration: configuration).probe()
        #expect(result.isHealthy, "\(result)")
        #expect(result.stages.map(\.stage) == [.connect, .auth, .query])
    }

    @Test func probe_whenPasswordIsWrong_failsWithWRONGPASSAndNoPassword() async throws {
        let wrong = "wrong-\(try SecureRandom.string(length: 16))"
        for username in [nil, server.aclUser] {
            let configuration = tlsConfiguration(username: username, password: wrong)
            let result = await RedisProbe(configuration: configuration).probe()
            let failure = try #require(result.failure, "\(result)")
            #expect(failure.stage == .auth)
            #expect(failure.reason == "AuthenticationFailed")
            #expect(failure.serverCode == "WRONGPASS")
            for text in [failure.message, failure.description, String(describing: result), "\(configuration)"] {
                #expect(!text.contains(wrong))
            }
        }
    }

    @Test func probe_withoutPassword_failsWithNOAUTHAtPing() async throws {
        let result = await RedisProbe(configuration: tlsConfiguration(password: nil)).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .query)
        #expect(failure.reason == "AuthenticationRequired")
        #expect(failure.serverCode == "NOAUTH")
    }

    @Test func probe_whenCAIsNotTheServers_failsTheTLSHandshake() async throws {
        let stranger = try CertificateAuthority.generate(commonName: "stranger")
        let configuration = tlsConfiguration(password: server.defaultPassword, trust: .certificateAuthorities(pem: stranger.certificatePEM))
        let result = await RedisProbe(configuration: configuration).probe()
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.stage == .tls)
        #expect(failure.reason == "TLSHandshakeFailed")
    }

    @Test func probe_whenTLSIsSkippedAgainstATLSPort_failsWithoutHanging() async throws {
        var configuration = tlsConfiguration(password: server.defaultPassword)
        configuration.tls = .disabled
        configuration.timeout = .seconds(5)
        let result = await RedisProbe(configuration: configuration).probe()
        #expect(!result.isHealthy)
    }
}
