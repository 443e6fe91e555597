import Foundation
import JSON
import PlatformAPI
import Testing

@Suite struct ConditionTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    let later = Date(timeIntervalSince1970: 1_700_000_600)

    @Test func setCondition_whenStatusIsUnchanged_keepsLastTransitionTime() {
        var conditions: [Condition] = []
        Conditions.set(.databaseReady, .false, reason: "Creating", message: "RDS instance creating", generation: 1, now: start, in: &conditions)
        Conditions.set(.databaseReady, .false, reason: "BackingUp", message: "RDS instance backing-up", generation: 2, now: later, in: &conditions)
        let c = Conditions.find(.databaseReady, in: conditions)
        #expect(c?.lastTransitionTime == "2023-11-14T22:13:20Z")
        #expect(c?.reason == "BackingUp")
        #expect(c?.observedGeneration == 2)
        #expect(conditions.count == 1)
    }

    @Test func setCondition_whenStatusChanges_movesLastTransitionTime() {
        var conditions: [Condition] = []
        Conditions.set(.ready, .false, reason: "Provisioning", message: "", generation: 1, now: start, in: &conditions)
        Conditions.set(.ready, .true, reason: "Ready", message: "all services ready", generation: 1, now: later, in: &conditions)
        #expect(Conditions.find(.ready, in: conditions)?.lastTransitionTime == "2023-11-14T22:23:20Z")
        #expect(Conditions.find(.ready, in: conditions)?.status == .true)
    }

    @Test func setInvalidSpec_whenGivenViolations_setsReadyFalseWithFieldPaths() {
        var conditions: [Condition] = []
        let violations = [SpecViolation(field: "spec.services.search.replicas.max", message: "must be >= min (2)")]
        Conditions.setInvalidSpec(violations, generation: 4, now: start, in: &conditions)
        let ready = Conditions.find(.ready, in: conditions)
        #expect(ready?.status == .false)
        #expect(ready?.reason == "InvalidSpec")
        #expect(ready?.message == "spec.services.search.replicas.max: must be >= min (2)")
        #expect(Conditions.find(.progressing, in: conditions)?.status == .false)
    }

    @Test func status_whenSerialisedAndReadBack_isUnchanged() {
        var status = PlatformStatus()
        status.observedGeneration = 7
        Conditions.set(.servicesReady, .true, reason: "Ready", message: "6/6", generation: 7, now: start, in: &status.conditions)
        status.services[.search] = ServiceReplicaStatus(desiredReplicas: 3, readyReplicas: 2)
        status.services[.user] = ServiceReplicaStatus(desiredReplicas: 2, readyReplicas: 2)
        status.endpoints["database"] = "db.example.internal:5432"
        status.estimatedMonthlyCost = CostEstimate(itemsCents: ["eks": 30_000, "rds": 20_001])
        status.failedGuardrails = ["spec.database.backupRetentionDays"]
        let json = status.jsonValue
        #expect(json["servicesSummary"] == "1/2")
        #expect(json[path: ["estimatedMonthlyCost", "total"]] == "500.01")
        #expect(PlatformStatus(json: json) == status)
    }

    @Test func costDollars_whenFormatted_alwaysHasTwoDecimals() {
        #expect(CostEstimate.dollars(70_498) == "704.98")
        #expect(CostEstimate.dollars(5) == "0.05")
        #expect(CostEstimate.dollars(13_500) == "135.00")
    }
}

@Suite struct ReadinessSummaryTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func conditions(_ statuses: [PlatformConditionType: ConditionStatus]) -> [Condition] {
        var out: [Condition] = []
        for type in Conditions.components {
            if let status = statuses[type] {
                Conditions.set(type, status, reason: "Test", message: status == .false ? "\(type.rawValue) waiting" : "", generation: 2, now: now, in: &out)
            }
        }
        return out
    }

    @Test func summarize_whenEveryComponentIsReady_marksReadyAndNotProgressing() {
        var c = conditions([.servicesReady: .true, .databaseReady: .true, .cacheReady: .true, .storageReady: .true])
        Conditions.summarize(generation: 2, now: now, in: &c)
        #expect(Conditions.find(.ready, in: c)?.status == .true)
        #expect(Conditions.find(.progressing, in: c)?.status == .false)
        #expect(Conditions.find(.ready, in: c)?.observedGeneration == 2)
    }

    @Test func summarize_whenAComponentIsFalse_marksNotReadyNamingIt() {
        var c = conditions([.servicesReady: .true, .databaseReady: .false, .cacheReady: .true, .storageReady: .true])
        Conditions.summarize(generation: 2, now: now, in: &c)
        let ready = Conditions.find(.ready, in: c)
        #expect(ready?.status == .false)
        #expect(ready?.reason == "DatabaseNotReady")
        #expect(ready?.message == "DatabaseReady=False (DatabaseReady waiting)")
        #expect(Conditions.find(.progressing, in: c)?.status == .true)
    }

    @Test func summarize_whenComponentsHaveNotReported_isUnknown() {
        var c = conditions([.servicesReady: .true])
        Conditions.summarize(generation: 2, now: now, in: &c)
        let ready = Conditions.find(.ready, in: c)
        #expect(ready?.status == .unknown)
        #expect(ready?.reason == "DatabaseNotReady")
        #expect(ready?.message == "DatabaseReady=Unknown, CacheReady=Unknown, StorageReady=Unknown")
    }
}
