import JSON
import PlatformAPI

/// The platform-wide ConfigMap and Secret that wire services to their data stores.
///
/// One of each per platform rather than per service: every service needs the same
/// endpoints, and one object means one config hash and one place to look.
/// The Secret is built here without data. The credentials come from AWS (the platform
/// reconciler fills the data tier's values into this same desired Secret, so one apply under
/// the operator's field manager owns them) or from Secrets the user names in the spec, which
/// the Deployments reference by name; no literal credential ever passes through the CR.
enum Configuration {
    static func configMapData(_ platform: MedicalSearchPlatform, tier: ServiceTier, observed: ObservedState) -> [String: String] {
        var data: [String: String] = [
            "AWS_REGION": platform.spec.region,
            "MEDSEARCH_PLATFORM": platform.name,
            "DATABASE_NAME": platform.spec.database.databaseName,
            "DATABASE_SSLMODE": "require",
        ]
        if let db = observed.databaseEndpoint ?? platform.spec.database.endpoint {
            data["DATABASE_HOST"] = db.host
            data["DATABASE_PORT"] = String(db.port)
        }
        if let reader = observed.databaseReaderEndpoint {
            data["DATABASE_READER_HOST"] = reader.host
            data["DATABASE_READER_PORT"] = String(reader.port)
        }
        if let cache = observed.cacheEndpoint ?? platform.spec.cache.endpoint {
            data["REDIS_HOST"] = cache.host
            data["REDIS_PORT"] = String(cache.port)
        }
        data["REDIS_TLS"] = platform.effectiveDataTier(tier: tier).cache.transitEncryption ? "true" : "false"
        for role in BucketRole.allCases { data[role.environmentName] = platform.bucketName(role) }
        for service in PlatformService.allCases where platform.spec.override(service).enabled {
            let host = "\(ChildMetadata.name(platform, service)).\(platform.namespace).svc"
            data["MEDSEARCH_\(service.rawValue.uppercased())_SERVICE_URL"] = "http://\(host):\(service.port)"
        }
        return data
    }

    static func configMap(_ platform: MedicalSearchPlatform, data: [String: String]) -> JSONValue {
        [
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": ChildMetadata.metadata(
                platform, name: ChildMetadata.configMapName(platform),
                labels: ChildMetadata.labels(platform, component: "config", name: "medsearch-config")),
            "data": .object(data.mapValues { .string($0) }),
        ]
    }

    static func secret(_ platform: MedicalSearchPlatform) -> JSONValue {
        var annotations: [String: JSONValue] = [:]
        if let name = platform.spec.database.credentialsSecretName {
            annotations["platform.medsearch.io/database-credentials-secret"] = .string(name)
        }
        if let name = platform.spec.cache.authSecretName {
            annotations["platform.medsearch.io/cache-auth-secret"] = .string(name)
        }
        return [
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": ChildMetadata.metadata(
                platform, name: ChildMetadata.secretName(platform),
                labels: ChildMetadata.labels(platform, component: "credentials", name: "medsearch-credentials"),
                annotations: .object(annotations)),
        ]
    }

    /// Environment entries that read user-named Secrets directly; `env` wins over
    /// `envFrom`, so these take precedence over whatever the data tier wrote.
    static func secretReferences(_ platform: MedicalSearchPlatform, _ service: PlatformService) -> [JSONValue] {
        var env: [JSONValue] = []
        if service.usesDatabase, let name = platform.spec.database.credentialsSecretName {
            env.append(secretEnv("DATABASE_USERNAME", secret: name, key: "username"))
            env.append(secretEnv("DATABASE_PASSWORD", secret: name, key: "password"))
        }
        if service.usesCache, let name = platform.spec.cache.authSecretName {
            env.append(secretEnv("REDIS_AUTH_TOKEN", secret: name, key: "authToken"))
        }
        return env
    }

    private static func secretEnv(_ variable: String, secret: String, key: String) -> JSONValue {
        ["name": .string(variable), "valueFrom": ["secretKeyRef": ["name": .string(secret), "key": .string(key)]]]
    }

    /// Hash of everything a pod reads at start-up but that is not in its template: the
    /// ConfigMap data and the credentials' revision.
    static func hash(data: [String: String], observed: ObservedState) -> String {
        var content: JSONValue = ["configMap": .object(data.mapValues { .string($0) })]
        if let revision = observed.credentialsRevision { content["credentialsRevision"] = .string(revision) }
        return ContentHash.hex(content.serializedBytes())
    }
}
