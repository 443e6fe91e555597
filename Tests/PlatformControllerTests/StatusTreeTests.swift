import Foundation
import JSON
import PlatformAPI
import Testing
@testable import PlatformController

@Suite struct StatusTreeTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func platform() -> JSONValue {
        var status = PlatformStatus()
        status.observedGeneration = 2
        let earlier = Self.now.addingTimeInterval(-300)
        Conditions.set(.servicesReady, .false, reason: "ServicesNotReady", message: "ai 0/2 ready", generation: 2, now: earlier, in: &status.conditions)
        Conditions.set(.ready, .false, reason: "ServicesNotReady", message: "ai 0/2 ready", generation: 2, now: earlier, in: &status.conditions)
        Conditions.set(.databaseReady, .unknown, reason: "AWSTierNotConfigured", message: "not configured", generation: 2, now: earlier, in: &status.conditions)
        status.services[.ai] = ServiceReplicaStatus(desiredReplicas: 2, readyReplicas: 0)
        status.services[.search] = ServiceReplicaStatus(desiredReplicas: 2, readyReplicas: 2)
        return ["metadata": ["name": "p", "namespace": "ns", "generation": 2], "spec": ["tierRef": ["name": "dev"]], "status": status.jsonValue]
    }

    @Test func render_withoutColors_alignsColumnsAndShowsAgesAndMissingDeployments() {
        let search: JSONValue = ["metadata": ["generation": 1], "spec": ["replicas": 2], "status": ["observedGeneration": 1, "readyReplicas": 2, "conditions": [["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"]]]]
        let text = StatusTree(platform: platform(), deployments: ["p-search": search], now: Self.now, colors: false).render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "MedicalSearchPlatform ns/p (tier dev, generation 2, observed 2)")
        // Ready comes first even though ServicesReady was reported first.
        #expect(lines[2] == "│   ├── Ready          False  ServicesNotReady  5m  ai 0/2 ready")
        #expect(lines[3] == "│   └── ServicesReady  False  ServicesNotReady  5m  ai 0/2 ready")
        #expect(lines.contains("│   ├── search  2/2 ready  Deployment p-search Available=True (MinimumReplicasAvailable)"))
        #expect(lines.contains("│   └── ai      0/2 ready  Deployment p-ai missing"))
        #expect(lines.contains { $0.hasPrefix("│   ├── database") && $0.contains("Unknown") && $0.contains("5m") })
        #expect(lines.contains { $0.hasPrefix("│   ├── cache") && $0.contains("NotReported") })
        #expect(lines.last == "└── Estimated monthly cost: not estimated")
    }

    @Test func render_withColors_paintsStatusesButAlignsOnVisibleWidth() {
        let plain = StatusTree(platform: platform(), deployments: [:], now: Self.now, colors: false).render()
        let colored = StatusTree(platform: platform(), deployments: [:], now: Self.now, colors: true).render()
        #expect(colored.contains("\u{1B}[31mFalse\u{1B}[0m"))
        let stripped = ["\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m", "\u{1B}[0m"].reduce(colored) { $0.replacingOccurrences(of: $1, with: "") }
        #expect(stripped == plain)
    }
}
