import JSON
import PlatformAPI
import PlatformSpecs
import Testing

@Suite struct ConfigurationTests {
    @Test func configMap_wiresServicesToDataStoresFromTheSpec() throws {
        let platform = try PlatformBuilder()
            .setting(["database", "endpoint"], ["host": "db.internal", "port": 5432])
            .setting(["cache", "endpoint"], ["host": "cache.internal", "port": 6379])
            .build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        let data = children.object(kind: "ConfigMap", name: "demo-config")["data"]
        #expect(data["DATABASE_HOST"] == "db.internal")
        #expect(data["DATABASE_PORT"] == "5432")
        #expect(data["REDIS_HOST"] == "cache.internal")
        #expect(data["REDIS_TLS"] == "true")
        #expect(data["AWS_REGION"] == "us-west-2")
        #expect(data["S3_DOCUMENTS_BUCKET"] == "clinic-demo-documents")
    }

    @Test func configMap_whenAWSReportsEndpoints_prefersThemOverTheSpec() throws {
        let platform = try PlatformBuilder().setting(["database", "endpoint"], ["host": "old.internal", "port": 5432]).build()
        var observed = ObservedState()
        observed.databaseEndpoint = Endpoint(host: "demo.abc.us-west-2.rds.amazonaws.com", port: 5432)
        observed.databaseReaderEndpoint = Endpoint(host: "demo-ro.abc.us-west-2.rds.amazonaws.com", port: 5432)
        let data = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: observed)
            .object(kind: "ConfigMap", name: "demo-config")["data"]
        #expect(data["DATABASE_HOST"] == "demo.abc.us-west-2.rds.amazonaws.com")
        #expect(data["DATABASE_READER_HOST"] == "demo-ro.abc.us-west-2.rds.amazonaws.com")
    }

    @Test func configMap_whenBucketsAreAdopted_namesTheAdoptedBuckets() throws {
        let platform = try PlatformBuilder().setting(["storage", "adopt", "buckets"], ["documents": "legacy-medical-papers"]).build()
        let data = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
            .object(kind: "ConfigMap", name: "demo-config")["data"]
        #expect(data["S3_DOCUMENTS_BUCKET"] == "legacy-medical-papers")
        #expect(data["S3_LOGS_BUCKET"] == "clinic-demo-logs")
    }

    @Test func secret_holdsNoDataAndReferencesUserSecretsOnlyByName() throws {
        let platform = try PlatformBuilder()
            .setting(["database", "credentialsSecretRef", "name"], "clinic-db")
            .setting(["cache", "authSecretRef", "name"], "clinic-redis")
            .build()
        let children = desiredChildren(platform: platform, tier: try Fixtures.tier("production"), observed: ObservedState())
        let secret = children.object(kind: "Secret", name: "demo-credentials")
        #expect(secret["data"].isNull)
        #expect(secret["stringData"].isNull)
        #expect(secret[path: ["metadata", "annotations", "platform.medsearch.io/database-credentials-secret"]] == "clinic-db")

        let env = children.object(kind: "Deployment", name: "demo-user").container["env"].arrayValue ?? []
        let password = env.first { $0["name"] == "DATABASE_PASSWORD" }
        #expect(password?[path: ["valueFrom", "secretKeyRef"]] == ["name": "clinic-db", "key": "password"])
        let token = env.first { $0["name"] == "REDIS_AUTH_TOKEN" }
        #expect(token?[path: ["valueFrom", "secretKeyRef"]] == ["name": "clinic-redis", "key": "authToken"])
        // Notification has no database, so it is not handed the database password.
        let notificationEnv = children.object(kind: "Deployment", name: "demo-notification").container["env"].arrayValue ?? []
        #expect(!notificationEnv.contains { $0["name"] == "DATABASE_PASSWORD" })
    }

    @Test func configHash_whenConfigChanges_changesOnEveryPodTemplate() throws {
        let tier = try Fixtures.tier("production")
        let platform = try PlatformBuilder().build()
        let before = desiredState(platform: platform, tier: tier, observed: ObservedState())
        var observed = ObservedState()
        observed.cacheEndpoint = Endpoint(host: "cache.internal", port: 6379)
        let after = desiredState(platform: platform, tier: tier, observed: observed)
        #expect(before.configHash != after.configHash)
        for deployment in after.objects.objects(kind: "Deployment") {
            #expect(deployment[path: ["spec", "template", "metadata", "annotations", "platform.medsearch.io/config-hash"]] == .string(after.configHash))
        }
    }

    @Test func configHash_whenCredentialsRotate_changes() throws {
        let tier = try Fixtures.tier("production")
        let platform = try PlatformBuilder().build()
        var first = ObservedState()
        first.credentialsRevision = "100"
        var second = ObservedState()
        second.credentialsRevision = "101"
        #expect(desiredState(platform: platform, tier: tier, observed: first).configHash
            != desiredState(platform: platform, tier: tier, observed: second).configHash)
    }

    @Test func desiredChildren_whenComputedTwice_areByteIdentical() throws {
        let tier = try Fixtures.tier("production")
        let platform = try Fixtures.examplePlatform("examples/platform.yaml")
        let first = desiredChildren(platform: platform, tier: tier, observed: ObservedState()).map { $0.serialized() }
        // A platform decoded again from scratch (fresh dictionaries, different hash seeds
        // in their storage) must still give the same bytes.
        let again = try Fixtures.examplePlatform("examples/platform.yaml")
        let second = desiredChildren(platform: again, tier: try Fixtures.tier("production"), observed: ObservedState()).map { $0.serialized() }
        #expect(first == second)
        #expect(desiredState(platform: platform, tier: tier, observed: ObservedState()).configHash
            == desiredState(platform: again, tier: tier, observed: ObservedState()).configHash)
    }
}

@Suite struct NetworkPolicyTests {
    func policy(_ service: PlatformService, _ builder: PlatformBuilder = PlatformBuilder()) throws -> JSONValue {
        let children = desiredChildren(platform: try builder.build(), tier: try Fixtures.tier("production"), observed: ObservedState())
        return children.object(kind: "NetworkPolicy", name: "demo-\(service.rawValue)")
    }

    func ingressPeers(_ policy: JSONValue) -> [JSONValue] {
        (policy[path: ["spec", "ingress"]].arrayValue ?? []).flatMap { $0["from"].arrayValue ?? [] }
    }

    @Test func everyPolicy_deniesByDefaultInBothDirections() throws {
        for service in PlatformService.allCases {
            let p = try policy(service)
            #expect(p[path: ["spec", "policyTypes"]] == ["Ingress", "Egress"])
            #expect(p[path: ["spec", "podSelector", "matchLabels", "app.kubernetes.io/name"]] == .string(service.repositoryName))
        }
    }

    @Test func publicServices_acceptTheIngressController_internalOnesDoNot() throws {
        let fromIngress: JSONValue = ["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "ingress-nginx"]]]
        #expect(ingressPeers(try policy(.search)).contains(fromIngress))
        #expect(ingressPeers(try policy(.user)).contains(fromIngress))
        #expect(!ingressPeers(try policy(.ai)).contains(fromIngress))
        #expect(!ingressPeers(try policy(.notification)).contains(fromIngress))
    }

    @Test func aiService_acceptsSearchAndContentOnly() throws {
        let peers = ingressPeers(try policy(.ai)).compactMap { $0[path: ["podSelector", "matchLabels", "app.kubernetes.io/name"]].stringValue }
        #expect(peers == ["search-service", "content-service"])
    }

    @Test func metricsScraping_isAllowedFromTheMonitoringNamespace() throws {
        let custom = PlatformBuilder().setting(["networking", "monitoringNamespace"], "observability")
        let fromMonitoring: JSONValue = ["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "observability"]]]
        #expect(ingressPeers(try policy(.analytics, custom)).contains(fromMonitoring))
    }

    @Test func egress_allowsDNSCalleesDataStoresAndHTTPS() throws {
        let egress = try policy(.search)[path: ["spec", "egress"]].arrayValue ?? []
        let ports = egress.flatMap { ($0["ports"].arrayValue ?? []).compactMap { $0["port"].intValue } }
        #expect(ports.contains(53))
        #expect(ports.contains(5432))
        #expect(ports.contains(6379))
        #expect(ports.contains(443))
        let callees = egress.flatMap { ($0["to"].arrayValue ?? []).compactMap { $0[path: ["podSelector", "matchLabels", "app.kubernetes.io/name"]].stringValue } }
        #expect(callees == ["user-service", "ai-service", "analytics-service"])
        let cidrs = egress.flatMap { ($0["to"].arrayValue ?? []).compactMap { $0[path: ["ipBlock", "cidr"]].stringValue } }
        #expect(cidrs == ["10.0.0.0/16"])
    }

    @Test func egress_toTheDatabase_isOnlyForServicesThatUseIt() throws {
        let egress = try policy(.notification)[path: ["spec", "egress"]].arrayValue ?? []
        let ports = egress.flatMap { ($0["ports"].arrayValue ?? []).compactMap { $0["port"].intValue } }
        #expect(!ports.contains(5432))
        #expect(ports.contains(6379))
    }
}
