import JSON
import PlatformAPI
import Testing

@Suite struct HIPAAGuardrailTests {
    @Test func hipaaTier_whenBackupsAreKeptUnder7Days_isRejected() {
        let object = Fixtures.tierObject(spec: ["hipaa": true, "database": ["backupRetentionDays": 3]])
        #expect(decodeViolations(tier: object).map(\.description) == [
            "spec.database.backupRetentionDays: HIPAA tiers require at least 7 days of backups, got 3",
        ])
    }

    @Test func hipaaTier_whenAnythingIsUnencryptedOrPublic_reportsEveryField() {
        let object = Fixtures.tierObject(spec: [
            "hipaa": true,
            "database": ["storageEncrypted": false],
            "cache": ["atRestEncryption": false, "transitEncryption": false],
            "storage": ["encrypted": false, "publicStaticAssets": true],
        ])
        #expect(decodeViolations(tier: object).map(\.field) == [
            "spec.database.storageEncrypted", "spec.cache.atRestEncryption", "spec.cache.transitEncryption",
            "spec.storage.encrypted", "spec.storage.publicStaticAssets",
        ])
    }

    @Test func nonHIPAATier_whenBackupsAreShortAndBucketsPublic_isAccepted() {
        let object = Fixtures.tierObject(spec: ["database": ["backupRetentionDays": 1], "storage": ["publicStaticAssets": true]])
        #expect(decodeViolations(tier: object) == [])
    }

    @Test func platformOnHIPAATier_whenItShortensBackups_blamesThePlatformsField() throws {
        let tier = try Fixtures.tier("production")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject().editing(["spec", "database", "backupRetentionDays"], 2))
        #expect(platform.violations(against: tier).map(\.description) == [
            "spec.database.backupRetentionDays: the HIPAA tier \"production\" requires at least 7 days of backups, got 2",
        ])
    }

    @Test func platformOnHIPAATier_whenItTurnsOffEncryptionOrMakesBucketsPublic_isRejected() throws {
        let tier = try Fixtures.tier("production")
        let object = Fixtures.platformObject()
            .editing(["spec", "cache", "transitEncryption"], false)
            .editing(["spec", "storage", "publicStaticAssets"], true)
        let platform = try MedicalSearchPlatform.decode(object)
        #expect(platform.violations(against: tier).map(\.field) == ["spec.cache.transitEncryption", "spec.storage.publicStaticAssets"])
    }

    @Test func platformOnNonHIPAATier_whenItMakesBucketsPublic_isAccepted() throws {
        let tier = try Fixtures.tier("dev")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject(tier: "dev").editing(["spec", "storage", "publicStaticAssets"], true))
        #expect(platform.violations(against: tier) == [])
    }
}

@Suite struct FailedGuardrailStatusTests {
    @Test func failedGuardrails_whenPlatformBreaksHIPAA_areRecordedInStatusWithTheCondition() throws {
        let tier = try Fixtures.tier("production")
        let object = Fixtures.platformObject()
            .editing(["spec", "database", "backupRetentionDays"], 1)
            .editing(["spec", "services", "search", "replicas"], ["max": 1])
        let platform = try MedicalSearchPlatform.decode(object)
        let guardrails = platform.failedGuardrails(against: tier)
        #expect(guardrails.map(\.field) == ["spec.database.backupRetentionDays"])

        var status = PlatformStatus()
        status.recordInvalidSpec(platform.violations(against: tier), guardrails: guardrails, generation: platform.generation, now: .init(timeIntervalSince1970: 0))
        #expect(status.failedGuardrails == ["spec.database.backupRetentionDays: the HIPAA tier \"production\" requires at least 7 days of backups, got 1"])
        let ready = Conditions.find(.ready, in: status.conditions)
        #expect(ready?.reason == "InvalidSpec")
        #expect(ready?.message.contains("spec.services.search.replicas.max") == true)
        #expect(status.observedGeneration == 3)
    }

    @Test func failedGuardrails_onANonHIPAATier_areNone() throws {
        let tier = try Fixtures.tier("dev")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject(tier: "dev").editing(["spec", "database", "backupRetentionDays"], 0))
        #expect(platform.failedGuardrails(against: tier) == [])
    }
}
