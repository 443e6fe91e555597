import PlatformAPI
import PlatformSpecs
import Testing

@Suite struct CostEstimateTests {
    /// Within 1 % of the seed's "~$" figures.
    func isClose(_ cents: Int64, toDollars dollars: Int64) -> Bool {
        abs(cents - dollars * 100) <= dollars
    }

    @Test func devTier_costsAboutTheSeedsDevelopmentFigure() throws {
        let cost = estimatedMonthlyCost(tier: try Fixtures.tier("dev"), platform: try PlatformBuilder(tier: "dev").build())
        #expect(isClose(cost.estimate.totalCents, toDollars: 135), "\(cost.estimate.itemsCents)")
        #expect(cost.estimate.itemsCents["eks"] == 7_500)
        #expect(cost.estimate.itemsCents["rds"] == 2_500)
        #expect(cost.estimate.itemsCents["elasticache"] == 2_000)
        #expect(cost.estimate.itemsCents["loadBalancer"] == 0)
        #expect(cost.unpriced == [])
    }

    @Test func productionTier_costsAboutTheSeedsProductionFigure() throws {
        let cost = estimatedMonthlyCost(tier: try Fixtures.tier("production"), platform: try PlatformBuilder().build())
        #expect(isClose(cost.estimate.totalCents, toDollars: 705), "\(cost.estimate.itemsCents)")
        #expect(isClose(cost.estimate.itemsCents["eks"] ?? 0, toDollars: 300))
        #expect(isClose(cost.estimate.itemsCents["rds"] ?? 0, toDollars: 200))
        #expect(cost.estimate.itemsCents["elasticache"] == 10_000)
        #expect(cost.estimate.itemsCents["loadBalancer"] == 2_500)
    }

    @Test func stagingTier_costsBetweenDevAndProduction() throws {
        let dev = estimatedMonthlyCost(tier: try Fixtures.tier("dev"), platform: try PlatformBuilder(tier: "dev").build())
        let staging = estimatedMonthlyCost(tier: try Fixtures.tier("staging"), platform: try PlatformBuilder(tier: "staging").build())
        let production = estimatedMonthlyCost(tier: try Fixtures.tier("production"), platform: try PlatformBuilder().build())
        #expect(dev.estimate.totalCents < staging.estimate.totalCents)
        #expect(staging.estimate.totalCents < production.estimate.totalCents)
    }

    @Test func overrides_changeTheEstimate() throws {
        let tier = try Fixtures.tier("production")
        let base = estimatedMonthlyCost(tier: tier, platform: try PlatformBuilder().build())
        let noReplica = estimatedMonthlyCost(tier: tier, platform: try PlatformBuilder().setting(["database", "readReplicas"], 0).build())
        #expect((base.estimate.itemsCents["rds"] ?? 0) - (noReplica.estimate.itemsCents["rds"] ?? 0) == 5_667 + 1_000)
        let noAI = estimatedMonthlyCost(tier: tier, platform: try PlatformBuilder().disabling(.ai).build())
        // ai requests 1 vCPU at 2 replicas: 2 × $45.
        #expect((base.estimate.itemsCents["eks"] ?? 0) - (noAI.estimate.itemsCents["eks"] ?? 0) == 9_000)
    }

    @Test func unknownInstanceClass_isReportedAsUnpriced() throws {
        let platform = try PlatformBuilder().setting(["database", "instanceClass"], "db.x2g.large").build()
        let cost = estimatedMonthlyCost(tier: try Fixtures.tier("production"), platform: platform)
        #expect(cost.unpriced == ["db.x2g.large"])
    }
}
