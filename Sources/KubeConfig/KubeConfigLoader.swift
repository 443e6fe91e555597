import Foundation
import JSON

/// Finds, reads and merges kubeconfig files as kubectl does, and resolves one context into a
/// `ClusterConnection`.
///
/// Guarantees:
/// - `--kubeconfig PATH` (explicitPath) is the only file read and must exist.
/// - Otherwise every file in `KUBECONFIG` (`:`-separated, duplicates and missing files
///   ignored) is merged, the first file to define a name winning; `current-context` comes
///   from the first file that sets it. Without `KUBECONFIG`, `$HOME/.kube/config` is read.
/// - A context override replaces current-context; a namespace override replaces the
///   context's namespace; the namespace defaults to "default".
///
/// Credential precedence (client-go's):
/// - `token`/`tokenFile` and `username`/`password` together are an error.
/// - `tokenFile` wins over `token` and is re-read before each request (rotation).
/// - A static token or basic auth wins over `exec` (client-go skips the plugin when an
///   Authorization header is already set); `exec` together with a client certificate is an error.
/// - A client certificate combines with a token or basic auth.
/// - `auth-provider` is not supported and is an error unless another method is set.
public enum KubeConfigLoader {
    /// The files to read, highest precedence first.
    public static func precedence(explicitPath: String?, environment: [String: String]) -> [String] {
        // Relative entries are made absolute against the working directory, as client-go does,
        // so that paths inside them resolve the same way whatever reads them later.
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : KubeConfig.resolve(path, against: FileManager.default.currentDirectoryPath)
        }
        if let explicitPath, !explicitPath.isEmpty { return [absolute(explicitPath)] }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            return list.split(separator: ":").map { absolute(String($0)) }.filter { !$0.isEmpty && seen.insert($0).inserted }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [(home as NSString).appendingPathComponent(".kube/config")]
    }

    /// The merged configuration from the files `precedence` names.
    public static func loadMerged(explicitPath: String?, environment: [String: String]) throws(KubeConfigError) -> KubeConfig {
        let files = precedence(explicitPath: explicitPath, environment: environment)
        let explicit = explicitPath.map { !$0.isEmpty } ?? false
        var merged = KubeConfig()
        var loadedAny = false
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                if explicit || environment["KUBECONFIG"]?.isEmpty ?? true {
                    throw KubeConfigError(file: file, context: nil, field: nil,
                                          problem: FileManager.default.fileExists(atPath: file) ? "cannot be read" : "file not found")
                }
                continue  // client-go skips missing entries of KUBECONFIG
            }
            let config = try KubeConfig.parse(String(decoding: data, as: UTF8.self), file: file)
            if loadedAny {
                merged.merge(lowerPrecedence: config)
            } else {
                merged = config
                loadedAny = true
            }
        }
        guard loadedAny else {
            throw KubeConfigError(file: files.joined(separator: ":"), context: nil, field: nil, problem: "none of the KUBECONFIG files exist")
        }
        return merged
    }

    /// Loads the kubeconfig kubectl would use and resolves the chosen context.
    public static func load(
        explicitPath: String?, context: String?, namespace: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeConfigError) -> ClusterConnection {
        try loadMerged(explicitPath: explicitPath, environment: environment)
            .connection(context: context, namespace: namespace, environment: environment)
    }

    /// In-cluster configuration when running in a pod and no kubeconfig was asked for or
    /// exists; otherwise the kubeconfig, as kubectl and client-go's default loading do.
    public static func loadAutomatically(
        explicitPath: String?, context: String?, namespace: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment, root: String = "/"
    ) throws(KubeConfigError) -> ClusterConnection {
        let noKubeconfig = (explicitPath ?? "").isEmpty && (environment["KUBECONFIG"] ?? "").isEmpty
            && !FileManager.default.fileExists(atPath: precedence(explicitPath: nil, environment: environment)[0])
        if noKubeconfig, context == nil, environment["KUBERNETES_SERVICE_HOST"] != nil {
            var connection = try InClusterConfig.load(environment: environment, root: root)
            if let namespace, !namespace.isEmpty { connection.namespace = namespace }
            return connection
        }
        return try load(explicitPath: explicitPath, context: context, namespace: namespace, environment: environment)
    }
}

extension KubeConfig {
    /// Resolves `context` (or the current context) into a connection, reading referenced files.
    public func connection(context override: String?, namespace: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KubeConfigError) -> ClusterConnection
    {
        let allFiles = files.joined(separator: ":")
        guard let name = (override?.isEmpty == false ? override : nil) ?? currentContext, !name.isEmpty else {
            throw KubeConfigError(file: allFiles, context: nil, field: "current-context", problem: "not set; pass --context or set current-context")
        }
        guard let context = contexts[name] else {
            throw KubeConfigError(file: allFiles, context: name, field: "contexts[name=\(name)]",
                                  problem: "no such context\(override != nil ? " (named by --context)" : " (named by current-context)")")
        }
        func fail(_ file: String, _ field: String, _ problem: String) -> KubeConfigError {
            KubeConfigError(file: file, context: name, field: field, problem: problem)
        }
        guard !context.cluster.isEmpty else {
            throw fail(context.file, "contexts[name=\(name)].context.cluster", "missing")
        }
        guard let cluster = clusters[context.cluster] else {
            throw fail(context.file, "contexts[name=\(name)].context.cluster", "names cluster \"\(context.cluster)\", which is not defined")
        }
        let clusterPath = "clusters[name=\(cluster.name)].cluster"

        guard let rawServer = cluster.server else { throw fail(cluster.file, clusterPath + ".server", "missing") }
        guard let url = URL(string: rawServer), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = url.host, !host.isEmpty
        else {
            throw fail(cluster.file, clusterPath + ".server", "\"\(rawServer)\" is not an http(s) URL with a host")
        }
        var server = rawServer
        while server.hasSuffix("/") { server.removeLast() }

        if let proxy = cluster.proxyURL {
            guard let proxyURL = URL(string: proxy), let scheme = proxyURL.scheme?.lowercased(),
                ["http", "https", "socks5"].contains(scheme), proxyURL.host != nil
            else {
                throw fail(cluster.file, clusterPath + ".proxy-url", "not an http, https or socks5 URL")
            }
        }

        var caPEM: [UInt8]?
        if cluster.certificateAuthority != nil, cluster.certificateAuthorityData != nil {
            throw fail(cluster.file, clusterPath + ".certificate-authority-data",
                       "certificate-authority-data and certificate-authority are both set; keep one")
        }
        if let data = cluster.certificateAuthorityData {
            caPEM = try decodeBase64(data, file: cluster.file, field: clusterPath + ".certificate-authority-data", context: name)
        } else if let path = cluster.certificateAuthority {
            caPEM = try readFile(path, file: cluster.file, field: clusterPath + ".certificate-authority", context: name)
        }
        if cluster.insecureSkipTLSVerify, caPEM != nil {
            throw fail(cluster.file, clusterPath + ".insecure-skip-tls-verify",
                       "cannot be combined with a certificate authority (client-go refuses this too)")
        }

        let credentials: CredentialProvider
        if context.user.isEmpty {
            credentials = CredentialProvider(source: .none)
        } else {
            guard let user = users[context.user] else {
                throw fail(context.file, "contexts[name=\(name)].context.user", "names user \"\(context.user)\", which is not defined")
            }
            credentials = try credentialProvider(for: user, cluster: cluster, caPEM: caPEM, server: server, contextName: name, environment: environment)
        }

        var connection = ClusterConnection(
            server: server,
            tlsServerName: cluster.tlsServerName,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
            certificateAuthorityPEM: caPEM,
            namespace: (namespace?.isEmpty == false ? namespace : nil) ?? context.namespace ?? "default",
            credentials: credentials,
            origin: "context \(name) in \(context.file)")
        connection.proxyURL = cluster.proxyURL
        return connection
    }

    private func credentialProvider(
        for user: User, cluster: Cluster, caPEM: [UInt8]?, server: String, contextName: String, environment: [String: String]
    ) throws(KubeConfigError) -> CredentialProvider {
        let path = "users[name=\(user.name)].user"
        func fail(_ field: String, _ problem: String) -> KubeConfigError {
            KubeConfigError(file: user.file, context: contextName, field: "\(path).\(field)", problem: problem)
        }
        if user.clientCertificate != nil, user.clientCertificateData != nil {
            throw fail("client-certificate-data", "client-certificate-data and client-certificate are both set; keep one")
        }
        if user.clientKey != nil, user.clientKeyData != nil {
            throw fail("client-key-data", "client-key-data and client-key are both set; keep one")
        }
        var certificate: [UInt8]?
        var key: [UInt8]?
        if let data = user.clientCertificateData {
            certificate = try decodeBase64(data, file: user.file, field: path + ".client-certificate-data", context: contextName)
        } else if let file = user.clientCertificate {
            certificate = try readFile(file, file: user.file, field: path + ".client-certificate", context: contextName)
        }
        if let data = user.clientKeyData {
            key = try decodeBase64(data, file: user.file, field: path + ".client-key-data", context: contextName)
        } else if let file = user.clientKey {
            key = try readFile(file, file: user.file, field: path + ".client-key", context: contextName)
        }
        if certificate != nil, key == nil { throw fail("client-key", "missing (a client certificate needs its key)") }
        if key != nil, certificate == nil { throw fail("client-certificate", "missing (a client key needs its certificate)") }

        let hasBearer = user.token != nil || user.tokenFile != nil
        let hasBasic = user.username != nil || user.password != nil
        if hasBearer, hasBasic {
            throw fail("username", "more than one authentication method: a token and a username/password; keep one")
        }
        if user.execStanza != nil, certificate != nil, !hasBearer, !hasBasic {
            throw fail("exec", "cannot be combined with a client certificate; the plugin supplies the certificate")
        }
        var base = RequestCredentials(clientCertificatePEM: certificate, clientKeyPEM: key)

        if let tokenFile = user.tokenFile {
            guard FileManager.default.fileExists(atPath: tokenFile) else { throw fail("tokenFile", "file not found: \(tokenFile)") }
            return CredentialProvider(source: .tokenFile(path: tokenFile), clientCertificate: base)
        }
        if let token = user.token {
            base.authorizationHeader = "Bearer \(token)"
            return CredentialProvider(source: .fixed(base))
        }
        if hasBasic {
            let pair = "\(user.username ?? ""):\(user.password ?? "")"
            base.authorizationHeader = "Basic \(Data(pair.utf8).base64EncodedString())"
            return CredentialProvider(source: .fixed(base))
        }
        if let stanza = user.execStanza {
            let exec: KubeConfig.Exec
            do {
                exec = try FieldReader(file: user.file).exec(
                    stanza, at: path + ".exec", baseDirectory: (user.file as NSString).deletingLastPathComponent)
            } catch {
                var located = error
                located.context = contextName
                throw located
            }
            var clusterInfo: JSONValue?
            if exec.provideClusterInfo {
                var info: JSONValue = ["server": .string(server)]
                if let name = cluster.tlsServerName { info["tls-server-name"] = .string(name) }
                if cluster.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = true }
                if let caPEM { info["certificate-authority-data"] = .string(Data(caPEM).base64EncodedString()) }
                if let proxy = cluster.proxyURL { info["proxy-url"] = .string(proxy) }
                if let extensionValue = cluster.execExtension { info["config"] = extensionValue }
                clusterInfo = info
            }
            let config = ExecCredentialConfig(
                apiVersion: exec.apiVersion, command: exec.command, args: exec.args, env: exec.env,
                interactiveMode: exec.interactiveMode ?? .ifAvailable, installHint: exec.installHint,
                clusterInfo: clusterInfo, baseEnvironment: environment,
                origin: (user.file, contextName, path + ".exec"))
            if config.interactiveMode == .always {
                throw fail("exec.interactiveMode", "Always needs a terminal, which an operator does not have; use IfAvailable or Never")
            }
            return CredentialProvider(source: .exec(config))
        }
        if user.hasAuthProvider {
            throw fail("auth-provider", "not supported; configure an exec plugin instead (e.g. kubelogin, aws eks get-token)")
        }
        return CredentialProvider(source: certificate != nil ? .fixed(base) : .none)
    }

    private func decodeBase64(_ text: String, file: String, field: String, context: String) throws(KubeConfigError) -> [UInt8] {
        // Go's decoder ignores line breaks inside base64; so do we.
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw KubeConfigError(file: file, context: context, field: field, problem: "not valid base64")
        }
        return Array(data)
    }

    private func readFile(_ path: String, file: String, field: String, context: String) throws(KubeConfigError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let problem = FileManager.default.fileExists(atPath: path) ? "cannot read \(path)" : "file not found: \(path)"
            throw KubeConfigError(file: file, context: context, field: field, problem: problem)
        }
        return Array(data)
    }
}
