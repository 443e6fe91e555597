import JSON
import PlatformAPI
import Testing

@Suite struct ServiceTierDecodingTests {
    @Test func exampleTiers_whenDecoded_carryTheSeedsSizes() throws {
        let dev = try Fixtures.tier("dev")
        #expect(dev.spec.database.instanceClass == "db.t3.small")
        #expect(dev.spec.database.multiAZ == false)
        #expect(dev.spec.cache.nodeType == "cache.t3.micro")
        #expect(dev.spec.cache.replicas == 0)
        #expect(dev.spec.hipaa == false)
        #expect(dev.spec.sizing(.search).nodeGroup == .system)

        let production = try Fixtures.tier("production")
        #expect(production.spec.database.instanceClass == "db.r5.large")
        #expect(production.spec.database.multiAZ)
        #expect(production.spec.database.readReplicas == 1)
        #expect(production.spec.database.backupRetentionDays == 7)
        #expect(production.spec.cache.replicas == 1)
        #expect(production.spec.sizing(.user).replicas == ReplicaRange(min: 2, max: 50))
        #expect(production.spec.hipaa)
        #expect(production.spec.placement(.system).tolerations.count == 1)
        #expect(production.spec.logRetentionDays > dev.spec.logRetentionDays)

        let staging = try Fixtures.tier("staging")
        #expect(staging.spec.database.multiAZ)
        #expect(staging.spec.sizing(.ai).resources.requests["cpu"] == "500m")
    }

    @Test func serviceTier_whenSpecIsEmpty_getsEveryDefault() throws {
        let tier = try ServiceTier.decode(Fixtures.tierObject())
        #expect(tier.name == "custom")
        #expect(tier.spec.hipaa == false)
        #expect(tier.spec.sizing(.ai).replicas == ReplicaRange(min: 1, max: 3))
        #expect(tier.spec.sizing(.ai).targetCPUUtilizationPercentage == 70)
        #expect(tier.spec.sizing(.ai).resources.requests == ["cpu": "100m", "memory": "128Mi"])
        #expect(tier.spec.sizing(.ai).nodeGroup == .application)
        #expect(tier.spec.database.backupRetentionDays == 7)
        #expect(tier.spec.deletionPolicy.database == .retain)
        #expect(tier.spec.deletionPolicy.storage == .retain)
        #expect(tier.spec.storage.lifecycle == StorageLifecycle(infrequentAccessAfterDays: 30, glacierAfterDays: 90, deepArchiveAfterDays: 365))
    }

    @Test func serviceTier_whenReplicaMaxIsBelowMin_reportsTheMaxField() {
        let object = Fixtures.tierObject(spec: ["services": ["search": ["replicas": ["min": 4, "max": 2]]]])
        #expect(decodeViolations(tier: object).map(\.description) == ["spec.services.search.replicas.max: must be >= min (4)"])
    }

    @Test func serviceTier_whenRequestExceedsLimit_reportsTheRequest() {
        let object = Fixtures.tierObject(spec: ["services": ["ai": ["resources": [
            "requests": ["cpu": "2", "memory": "1Gi"], "limits": ["cpu": "1500m", "memory": "1Gi"],
        ]]]])
        #expect(decodeViolations(tier: object).map(\.description) == ["spec.services.ai.resources.requests.cpu: must be <= limit (1500m), got 2"])
    }

    @Test func serviceTier_whenLifecycleIsOutOfOrder_reportsTheLaterTransition() {
        let object = Fixtures.tierObject(spec: ["storage": ["lifecycle": ["infrequentAccessAfterDays": 60, "glacierAfterDays": 45]]])
        #expect(decodeViolations(tier: object).map(\.field) == ["spec.storage.lifecycle.glacierAfterDays"])
    }

    @Test func serviceTier_whenQuantityIsMalformed_reportsItsPath() {
        let object = Fixtures.tierObject(spec: ["services": ["user": ["resources": ["limits": ["cpu": "lots"]]]]])
        let violations = decodeViolations(tier: object)
        #expect(violations.map(\.field) == ["spec.services.user.resources.limits.cpu"])
    }
}

@Suite struct PlatformDecodingTests {
    @Test func platform_whenMinimal_getsDefaults() throws {
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject())
        #expect(platform.name == "demo")
        #expect(platform.namespace == "clinic")
        #expect(platform.generation == 3)
        #expect(platform.spec.tierName == "production")
        #expect(platform.spec.image.pullPolicy == "IfNotPresent")
        #expect(PlatformService.allCases.allSatisfy { platform.spec.override($0).enabled })
        #expect(platform.spec.alarms == AlarmSettings(enabled: true, cpuUtilizationPercent: 80, http5xxRatePercent: 5))
        #expect(platform.spec.database.deletionPolicy == nil)
        #expect(platform.spec.database.databaseName == "medsearch")
        #expect(platform.spec.networking.dataStoreCIDRs == ["10.0.0.0/16"])
    }

    @Test func platform_whenReplicaMaxIsBelowMin_reportsTheFieldPath() {
        let object = Fixtures.platformObject().editing(["spec", "services", "search", "replicas"], ["min": 5, "max": 3])
        #expect(decodeViolations(platform: object).map(\.description) == ["spec.services.search.replicas.max: must be >= min (5)"])
    }

    @Test func platform_whenFieldsHaveWrongTypes_reportsEachPathAndType() {
        let object = Fixtures.platformObject()
            .editing(["spec", "services", "ai", "enabled"], "yes")
            .editing(["spec", "database", "readReplicas"], "two")
            .editing(["spec", "alarms", "cpuUtilizationPercent"], 180)
        let messages = decodeViolations(platform: object).map(\.description)
        #expect(messages.contains("spec.services.ai.enabled: must be true or false, got string"))
        #expect(messages.contains("spec.database.readReplicas: must be an integer, got string"))
        #expect(messages.contains("spec.alarms.cpuUtilizationPercent: must be <= 100, got 180"))
        #expect(messages.count == 3)
    }

    @Test func platform_whenRequiredFieldsAreMissing_reportsEach() {
        let object = Fixtures.platformObject().editing(["spec"], ["image": ["tag": "1"]])
        let fields = Set(decodeViolations(platform: object).map(\.field))
        #expect(fields == ["spec.tierRef", "spec.region", "spec.image.registry"])
    }

    @Test func platform_whenAFieldIsMisspelt_reportsItAsUnknown() {
        let object = Fixtures.platformObject().editing(["spec", "services", "serach"], ["enabled": false])
        #expect(decodeViolations(platform: object).map(\.description) == ["spec.services.serach: unknown field"])
    }

    @Test func platform_whenDeletionPolicyIsNotAllowed_listsTheAllowedValues() {
        let object = Fixtures.platformObject().editing(["spec", "database", "deletionPolicy"], "Orphan")
        #expect(decodeViolations(platform: object).map(\.description) == [
            "spec.database.deletionPolicy: unsupported value \"Orphan\": must be one of \"Retain\", \"Snapshot\", \"Delete\"",
        ])
    }

    @Test func platform_whenAdoptNamesAreMalformed_reportsEachField() {
        let object = Fixtures.platformObject()
            .editing(["spec", "database", "adopt", "instanceIdentifier"], "1-starts-with-digit")
            .editing(["spec", "cache", "adopt", "replicationGroupId"], "Upper")
            .editing(["spec", "storage", "adopt", "buckets"], ["documents": "Bad_Bucket"])
        let fields = decodeViolations(platform: object).map(\.field)
        #expect(fields == ["spec.database.adopt.instanceIdentifier", "spec.cache.adopt.replicationGroupId", "spec.storage.adopt.buckets.documents"])
    }

    @Test func platform_whenAdoptedIdentifierEndsWithHyphen_isRejectedByItsPattern() {
        let object = Fixtures.platformObject().editing(["spec", "database", "adopt", "instanceIdentifier"], "old--db-")
        #expect(decodeViolations(platform: object).map(\.field) == ["spec.database.adopt.instanceIdentifier"])
    }

    @Test func platform_whenAdoptedBucketsBreakRulesPatternsCannotState_reportsThem() {
        let object = Fixtures.platformObject()
            .editing(["spec", "storage", "adopt", "buckets"], ["documents": "medical..docs", "logs": "shared-bucket", "backups": "shared-bucket"])
        #expect(decodeViolations(platform: object).map(\.description) == [
            "spec.storage.adopt.buckets.documents: \"medical..docs\" is not a valid S3 bucket name",
            "spec.storage.adopt.buckets.backups: bucket \"shared-bucket\" is already adopted as logs",
        ])
    }

    @Test func platform_whenEnvShadowsOperatorSettings_isRejected() {
        let object = Fixtures.platformObject().editing(["spec", "services", "user", "env"], ["DATABASE_HOST": "evil", "FEATURE_X": "on"])
        #expect(decodeViolations(platform: object).map(\.description) == [
            "spec.services.user.env.DATABASE_HOST: names starting with DATABASE_ are set by the operator",
        ])
    }

    @Test func platform_whenEveryServiceIsDisabled_isRejected() {
        var object = Fixtures.platformObject()
        for service in PlatformService.allCases {
            object = object.editing(["spec", "services", service.rawValue, "enabled"], false)
        }
        #expect(decodeViolations(platform: object).map(\.field) == ["spec.services"])
    }

    @Test func platform_whenRoleArnIsMalformed_reportsIt() {
        let object = Fixtures.platformObject().editing(["spec", "services", "ai", "iamRoleArn"], "arn:aws:iam::12:user/x")
        #expect(decodeViolations(platform: object).map(\.field) == ["spec.services.ai.iamRoleArn"])
    }

    @Test func platform_whenNameIsTooLongForChildren_isRejected() {
        let object = Fixtures.platformObject().editing(["metadata", "name"], .string(String(repeating: "a", count: 41)))
        #expect(decodeViolations(platform: object).map(\.field) == ["metadata.name"])
    }

    @Test func platform_whenKindIsWrong_saysWhichKindIsExpected() {
        let object = Fixtures.platformObject().editing(["kind"], "ServiceTier")
        #expect(decodeViolations(platform: object).map(\.description) == ["kind: must be MedicalSearchPlatform"])
    }

    @Test func examplePlatforms_whenDecoded_validateAgainstTheirTiers() throws {
        for file in Fixtures.examplePlatformFiles {
            let platform = try MedicalSearchPlatform.decode(Fixtures.document(file).value)
            let tier = try Fixtures.tier(platform.spec.tierName)
            #expect(platform.violations(against: tier) == [], "\(file)")
        }
    }
}

@Suite struct PlatformAgainstTierTests {
    @Test func platform_whenOverrideMaxIsBelowTheTiersMin_blamesTheOverride() throws {
        let tier = try Fixtures.tier("production")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject().editing(["spec", "services", "search", "replicas"], ["max": 1]))
        #expect(platform.violations(against: tier).map(\.description) == [
            "spec.services.search.replicas.max: must be >= min (2) from tier \"production\"",
        ])
    }

    @Test func platform_whenOverrideMinIsAboveTheTiersMax_blamesTheOverride() throws {
        let tier = try Fixtures.tier("dev")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject(tier: "dev").editing(["spec", "services", "ai", "replicas"], ["min": 3]))
        #expect(platform.violations(against: tier).map(\.field) == ["spec.services.ai.replicas.min"])
    }

    @Test func platform_whenADisabledServicesOverrideConflicts_isNotBlamed() throws {
        let tier = try Fixtures.tier("production")
        let object = Fixtures.platformObject().editing(["spec", "services", "ai"], ["enabled": false, "replicas": ["max": 1]])
        let platform = try MedicalSearchPlatform.decode(object)
        #expect(platform.violations(against: tier) == [])
    }

    @Test func platform_whenTierRefNamesAnotherTier_saysSo() throws {
        let tier = try Fixtures.tier("dev")
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject(tier: "production"))
        #expect(platform.violations(against: tier).map(\.field) == ["spec.tierRef.name"])
    }

    @Test func effectiveDataTier_whenPlatformOverridesSome_keepsTheRestFromTheTier() throws {
        let tier = try Fixtures.tier("production")
        let object = Fixtures.platformObject()
            .editing(["spec", "database", "readReplicas"], 2)
            .editing(["spec", "cache", "deletionPolicy"], "Retain")
        let platform = try MedicalSearchPlatform.decode(object)
        let data = platform.effectiveDataTier(tier: tier)
        #expect(data.database.readReplicas == 2)
        #expect(data.database.instanceClass == "db.r5.large")
        #expect(data.deletionPolicy.cache == .retain)
        #expect(data.deletionPolicy.database == .snapshot)
    }

    @Test func effectiveServices_whenPlatformOverridesImageAndReplicas_overridesWin() throws {
        let tier = try Fixtures.tier("production")
        let object = Fixtures.platformObject()
            .editing(["spec", "services", "ai", "image"], ["repository": "ml/inference", "tag": "2.0.0"])
            .editing(["spec", "services", "search", "replicas", "max"], 80)
        let platform = try MedicalSearchPlatform.decode(object)
        let services = Dictionary(uniqueKeysWithValues: platform.effectiveServices(tier: tier).map { ($0.service, $0) })
        #expect(services[.ai]?.image == "123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/inference:2.0.0")
        #expect(services[.user]?.image == "123456789012.dkr.ecr.us-west-2.amazonaws.com/user-service:1.0.0")
        #expect(services[.search]?.replicas == ReplicaRange(min: 2, max: 80))
    }
}

@Suite struct BucketNamingTests {
    @Test func bucketNames_whenNoPrefixIsSet_combineNamespaceNameAndRole() throws {
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject())
        #expect(platform.bucketName(.staticAssets) == "clinic-demo-static-assets")
    }

    @Test func bucketNames_whenTheyWouldExceed63Characters_askForAShorterPrefix() {
        let object = Fixtures.platformObject().editing(["metadata", "namespace"], .string(String(repeating: "n", count: 50)))
        #expect(decodeViolations(platform: object).map(\.field) == ["spec.storage.bucketPrefix"])
        let fixed = object.editing(["spec", "storage", "bucketPrefix"], "clinic-prod")
        #expect(decodeViolations(platform: fixed) == [])
    }
}

@Suite struct DeletionPolicyTests {
    @Test func storageDeletionPolicy_whenSnapshot_isRejectedBecauseS3HasNoSnapshots() {
        let object = Fixtures.platformObject().editing(["spec", "storage", "deletionPolicy"], "Snapshot")
        #expect(decodeViolations(platform: object).map(\.description) == [
            "spec.storage.deletionPolicy: unsupported value \"Snapshot\": must be one of \"Retain\", \"Delete\"",
        ])
        let tier = Fixtures.tierObject(spec: ["deletionPolicy": ["storage": "Snapshot"]])
        #expect(decodeViolations(tier: tier).map(\.field) == ["spec.deletionPolicy.storage"])
    }

    @Test func databaseDeletionPolicy_whenUnsetEverywhere_isRetain() throws {
        let tier = try ServiceTier.decode(Fixtures.tierObject(name: "production"))
        let platform = try MedicalSearchPlatform.decode(Fixtures.platformObject())
        #expect(platform.effectiveDataTier(tier: tier).deletionPolicy == DeletionPolicies(database: .retain, cache: .retain, storage: .retain))
    }
}
