import PlatformAPI
import Testing

@testable import AWS
@testable import DataTier

@Suite struct StatusMappingTests {
    @Test(arguments: [
        ("available", ResourceHealth.State.ready, "Available"),
        ("backing-up", .ready, "BackingUp"),
        ("modifying", .ready, "Modifying"),
        ("creating", .inProgress, "Creating"),
        ("rebooting", .inProgress, "Rebooting"),
        ("storage-full", .failed, "StorageFull"),
        ("failed", .failed, "Failed"),
        ("incompatible-parameters", .failed, "IncompatibleParameters"),
        ("incompatible-restore", .failed, "IncompatibleRestore"),
        ("inaccessible-encryption-credentials", .failed, "InaccessibleEncryptionCredentials"),
        ("some-future-status", .inProgress, "SomeFutureStatus"),
    ])
    func rdsStatus_mapsToConditionStateAndReason(status: String, state: ResourceHealth.State, reason: String) {
        let health = AWSStatusMapping.rds(status)
        #expect(health.state == state)
        #expect(health.reason == reason)
        #expect(health.conditionStatus == (state == .ready ? .true : .false))
    }

    @Test(arguments: [
        ("available", ResourceHealth.State.ready), ("creating", .inProgress), ("modifying", .ready), ("snapshotting", .ready),
        ("create-failed", .failed), ("deleting", .inProgress),
    ])
    func elastiCacheStatus_mapsToConditionState(status: String, state: ResourceHealth.State) {
        #expect(AWSStatusMapping.elastiCache(status).state == state)
    }

    @Test func awsError_becomesConditionReasonWithCodeAndMessage() {
        let error = AWSError(
            origin: .service, service: "rds", operation: "CreateDBInstance", code: "InvalidParameterCombination",
            message: "RDS does not support creating a DB instance with the following combination", status: 400)
        let (reason, message) = AWSStatusMapping.reason(for: error)
        #expect(reason == "InvalidParameterCombination")
        #expect(message.contains("InvalidParameterCombination"))
        #expect(message.contains("CreateDBInstance"))
    }

    @Test func conditionReason_isAlwaysAValidKubernetesReason() {
        for text in ["Transport.timeout", "backing-up", "500", "", "a b c"] {
            let reason = AWSStatusMapping.conditionReason(text)
            #expect(reason.first?.isLetter == true, "\(reason)")
            #expect(reason.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "\(reason)")
        }
    }
}

@Suite struct DeletionDecisionTests {
    @Test(arguments: [
        (DeletionPolicy.retain, false, DeletionDecision.retain),
        (.snapshot, false, .snapshotThenDelete),
        (.delete, false, .delete),
        (.retain, true, .retain),
        (.snapshot, true, .snapshotThenDelete),
    ])
    func database_followsPolicy(policy: DeletionPolicy, production: Bool, expected: DeletionDecision) {
        #expect(DeletionDecisions.database(policy, production: production, platformName: "demo", annotations: [:]) == expected)
    }

    @Test func database_deleteOnProduction_isRefusedWithoutTheConfirmingAnnotation() {
        let refused = DeletionDecisions.database(.delete, production: true, platformName: "demo", annotations: [:])
        guard case .refuse(let reason, let message) = refused else {
            Issue.record("expected a refusal, got \(refused)")
            return
        }
        #expect(reason == "DeletionNotConfirmed")
        #expect(message.contains("platform.medsearch.io/confirm-database-deletion"))
        let wrong = DeletionDecisions.database(.delete, production: true, platformName: "demo", annotations: [DeletionDecisions.confirmDatabaseDeletionAnnotation: "other"])
        #expect(wrong != .delete)
        let confirmed = DeletionDecisions.database(.delete, production: true, platformName: "demo", annotations: [DeletionDecisions.confirmDatabaseDeletionAnnotation: "demo"])
        #expect(confirmed == .delete)
    }

    @Test(arguments: [(DeletionPolicy.retain, DeletionDecision.retain), (.snapshot, .snapshotThenDelete), (.delete, .delete)])
    func cache_followsPolicy(policy: DeletionPolicy, expected: DeletionDecision) {
        #expect(DeletionDecisions.cache(policy) == expected)
    }

    @Test func bucket_isRetainedUnderRetainAndSnapshot_deletedOnlyWhenEmpty() {
        #expect(DeletionDecisions.bucket(.retain, name: "b", isEmpty: true) == .retain)
        #expect(DeletionDecisions.bucket(.snapshot, name: "b", isEmpty: true) == .retain)
        #expect(DeletionDecisions.bucket(.delete, name: "b", isEmpty: true) == .delete)
        guard case .refuse(let reason, _) = DeletionDecisions.bucket(.delete, name: "b", isEmpty: false) else {
            Issue.record("a non-empty bucket must not be deleted")
            return
        }
        #expect(reason == "BucketNotEmpty")
    }
}
