import Testing
import Probes

@Suite struct ProbeEndpointOverridesTests {
    @Test func overrides_whenGivenTheDocumentedFormat_mapsEachEndpoint() throws {
        let overrides = try ProbeEndpointOverrides(parsing:
            " mydb.abc.us-east-1.rds.amazonaws.com:5432=127.0.0.1:55432 , cache.example:6379=[::1]:56379,")
        #expect(overrides.resolve(host: "mydb.abc.us-east-1.rds.amazonaws.com", port: 5432)
            == .init(host: "127.0.0.1", port: 55432))
        #expect(overrides.resolve(host: "cache.example", port: 6379) == .init(host: "::1", port: 56379))
        #expect(overrides.mappings.count == 2)
    }

    @Test func overrides_matchHostsCaseInsensitivelyAndLeaveOtherEndpointsAlone() throws {
        let overrides = try ProbeEndpointOverrides(parsing: "MyDB.Example:5432=127.0.0.1:1")
        #expect(overrides.resolve(host: "mydb.example", port: 5432) == .init(host: "127.0.0.1", port: 1))
        #expect(overrides.resolve(host: "mydb.example", port: 5433) == .init(host: "mydb.example", port: 5433))
        #expect(overrides.resolve(host: "other", port: 5432) == .init(host: "other", port: 5432))
    }

    @Test func overrides_whenEmptyOrUnset_mapNothing() throws {
        #expect(try ProbeEndpointOverrides(parsing: "").mappings.isEmpty)
        #expect(try ProbeEndpointOverrides.fromEnvironment([:]).mappings.isEmpty)
        let fromEnvironment = try ProbeEndpointOverrides.fromEnvironment(
            [ProbeEndpointOverrides.environmentVariable: "a:1=127.0.0.1:2"])
        #expect(fromEnvironment.resolve(host: "a", port: 1).port == 2)
    }

    @Test(arguments: [
        "a:1",  // no '='
        "a:1=b:2=c:3",  // two '='
        "a=127.0.0.1:1",  // no port on the left
        "a:0=127.0.0.1:1",  // port out of range
        "a:1=127.0.0.1:70000",
        "a:x=127.0.0.1:1",
        "::1:5=127.0.0.1:1",  // IPv6 without brackets
        ":5=127.0.0.1:1",  // no host
        "[::1:5=127.0.0.1:1",  // unclosed bracket
        "a:1=127.0.0.1:2,a:1=127.0.0.1:3",  // conflicting duplicate
    ])
    func overrides_whenAnEntryIsMalformed_failNamingTheEntry(text: String) {
        do {
            _ = try ProbeEndpointOverrides(parsing: text)
            Issue.record("\"\(text)\" must be rejected")
        } catch {
            #expect(text.contains(error.entry))
            #expect(!error.problem.isEmpty)
        }
    }
}
