import JSON
import Logging
import Testing
@testable import ControllerRuntime

@Suite struct ManagerOptionsTests {
    @Test func managerArguments_withNoFlags_useKubebuilderDefaults() throws {
        let options = try ManagerArguments.parse([]).options
        #expect(options.metricsAddress == BindAddress(host: "0.0.0.0", port: 8080))
        #expect(options.healthProbeAddress == BindAddress(host: "0.0.0.0", port: 8081))
        #expect(!options.leaderElection)
        #expect(options.maxConcurrentReconciles == 1)
        #expect(options.namespaces.isEmpty)
        #expect(options.logFormat == .json)
        #expect(options.logLevel == .info)
        #expect(options.leaderElectionTiming == LeaderElectionTiming(leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2)))
    }

    @Test func managerArguments_parseEveryFlag() throws {
        let options = try ManagerArguments.parse([
            "--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:9440",
            "--leader-elect", "--leader-election-id", "x", "--leader-election-namespace", "ops",
            "--max-concurrent-reconciles", "4", "--namespace", "a", "--namespace", "b",
            "--kubeconfig", "/tmp/kc", "--context", "dev", "--log-format", "console", "--log-level", "debug",
        ]).options
        #expect(options.metricsAddress == nil)
        #expect(options.healthProbeAddress == BindAddress(host: "127.0.0.1", port: 9440))
        #expect(options.leaderElection)
        #expect(options.leaderElectionID == "x")
        #expect(options.leaderElectionNamespace == "ops")
        #expect(options.maxConcurrentReconciles == 4)
        #expect(options.namespaces == ["a", "b"])
        #expect(options.kubeconfig == "/tmp/kc")
        #expect(options.context == "dev")
        #expect(options.logFormat == .console)
        #expect(options.logLevel == .debug)
    }

    @Test func managerArguments_rejectZeroWorkersAndBadAddresses() {
        #expect(throws: (any Error).self) { try ManagerArguments.parse(["--max-concurrent-reconciles", "0"]) }
        #expect(throws: (any Error).self) { try ManagerArguments.parse(["--metrics-bind-address", "eight-thousand"]) }
    }
}

@Suite struct LogHandlerTests {
    @Test func jsonLogHandler_writesOneParsableObjectWithReconcileMetadata() throws {
        let sink = LogSink.memory()
        var logger = Logger(label: "medsearch") { RuntimeLogHandler(label: $0, format: .json, level: .info, sink: sink) }
        logger[metadataKey: "controller"] = "platform"
        logger.info("reconciled", metadata: ["object": "ns/prod", "reconcileID": "r-1", "result": "success"])
        logger.debug("not written below the level")
        #expect(sink.recorded.count == 1)
        let line = try JSONValue.parse(try #require(sink.recorded.first))
        #expect(line["msg"] == "reconciled")
        #expect(line["level"] == "info")
        #expect(line["controller"] == "platform")
        #expect(line["object"] == "ns/prod")
        #expect(line["reconcileID"] == "r-1")
        #expect(line["result"] == "success")
    }

    @Test func consoleLogHandler_writesLevelMessageAndSortedFields() throws {
        let sink = LogSink.memory()
        let logger = Logger(label: "medsearch") { RuntimeLogHandler(label: $0, format: .console, level: .trace, sink: sink) }
        logger.warning("retrying", metadata: ["object": "ns/a", "controller": "c"])
        let line = try #require(sink.recorded.first)
        #expect(line.hasSuffix("WARNING medsearch: retrying controller=c object=ns/a"))
    }
}
