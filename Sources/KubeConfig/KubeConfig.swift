import Foundation
import JSON
import YAML

/// The clusters, users and contexts of one or more kubeconfig files, merged as client-go does.
///
/// Guarantees: relative file paths (certificate-authority, client-certificate, client-key,
/// tokenFile, and exec commands containing a `/`) are already absolute, resolved against the
/// directory of the file that named them; every entry remembers that file for messages.
public struct KubeConfig: Sendable {
    /// One `clusters[]` entry.
    public struct Cluster: Sendable, Equatable {
        public var name: String
        public var server: String?
        public var certificateAuthority: String?
        /// Base64 text as written in the file (decoded when a connection is built).
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
        public var proxyURL: String?
        /// `extensions[name=client.authentication.k8s.io/exec].extension`, handed to exec plugins.
        public var execExtension: JSONValue?
        public var file: String
    }

    /// One `users[]` entry (client-go calls these AuthInfos).
    public struct User: Sendable, Equatable {
        public var name: String
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        /// The `exec` stanza as written; checked only when a context using this user is
        /// resolved, so a broken user that nobody selects does not break the file (as in client-go).
        public var execStanza: JSONValue?
        public var hasAuthProvider: Bool
        public var file: String
    }

    /// A `users[].user.exec` stanza as written.
    public struct Exec: Sendable, Equatable {
        public var apiVersion: String
        public var command: String
        public var args: [String]
        public var env: [ExecEnvironmentVariable]
        public var interactiveMode: ExecInteractiveMode?
        public var provideClusterInfo: Bool
        public var installHint: String?
    }

    /// One `contexts[]` entry.
    public struct Context: Sendable, Equatable {
        public var name: String
        public var cluster: String
        public var user: String
        public var namespace: String?
        public var file: String
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?
    /// The files this configuration came from, highest precedence first.
    public var files: [String] = []

    public init() {}

    /// Adds `other` beneath `self`: entries already present (by name) and an already-set
    /// current context win, which is client-go's rule for the files listed in KUBECONFIG.
    public mutating func merge(lowerPrecedence other: KubeConfig) {
        clusters.merge(other.clusters) { mine, _ in mine }
        users.merge(other.users) { mine, _ in mine }
        contexts.merge(other.contexts) { mine, _ in mine }
        if currentContext?.isEmpty ?? true { currentContext = other.currentContext }
        files += other.files
    }
}

extension KubeConfig {
    /// Parses one kubeconfig file's text; `file` is used for messages and to resolve relative paths.
    public static func parse(_ text: String, file: String) throws(KubeConfigError) -> KubeConfig {
        let value: JSONValue
        do {
            value = try YAMLParser.parse(text, file: file)
        } catch {
            throw KubeConfigError(file: file, context: nil, field: nil, problem: "not valid YAML: \(error.description)")
        }
        var config = KubeConfig()
        config.files = [file]
        if value.isNull { return config }
        let reader = FieldReader(file: file)
        guard let root = value.objectValue else {
            throw reader.error(nil, "expected a mapping at the top level")
        }
        config.currentContext = try reader.string(root, "current-context", at: nil)
        let baseDirectory = (file as NSString).deletingLastPathComponent

        for (name, body, path) in try reader.namedList(root, "clusters", body: "cluster") {
            config.clusters[name] = Cluster(
                name: name,
                server: try reader.string(body, "server", at: path),
                certificateAuthority: try reader.string(body, "certificate-authority", at: path).map { resolve($0, against: baseDirectory) },
                certificateAuthorityData: try reader.string(body, "certificate-authority-data", at: path),
                insecureSkipTLSVerify: try reader.bool(body, "insecure-skip-tls-verify", at: path) ?? false,
                tlsServerName: try reader.string(body, "tls-server-name", at: path),
                proxyURL: try reader.string(body, "proxy-url", at: path),
                execExtension: body["extensions"]?.arrayValue?.first { $0["name"] == "client.authentication.k8s.io/exec" }?["extension"],
                file: file)
        }
        for (name, body, path) in try reader.namedList(root, "users", body: "user") {
            config.users[name] = User(
                name: name,
                token: try reader.string(body, "token", at: path),
                tokenFile: try reader.string(body, "tokenFile", at: path).map { resolve($0, against: baseDirectory) },
                clientCertificate: try reader.string(body, "client-certificate", at: path).map { resolve($0, against: baseDirectory) },
                clientCertificateData: try reader.string(body, "client-certificate-data", at: path),
                clientKey: try reader.string(body, "client-key", at: path).map { resolve($0, against: baseDirectory) },
                clientKeyData: try reader.string(body, "client-key-data", at: path),
                username: try reader.string(body, "username", at: path),
                password: try reader.string(body, "password", at: path),
                execStanza: body["exec"].flatMap { $0.isNull ? nil : $0 },
                hasAuthProvider: !(body["auth-provider"]?.isNull ?? true),
                file: file)
        }
        for (name, body, path) in try reader.namedList(root, "contexts", body: "context") {
            config.contexts[name] = Context(
                name: name,
                cluster: try reader.string(body, "cluster", at: path) ?? "",
                user: try reader.string(body, "user", at: path) ?? "",
                namespace: try reader.string(body, "namespace", at: path),
                file: file)
        }
        return config
    }

    static func resolve(_ path: String, against directory: String) -> String {
        if path.isEmpty || path.hasPrefix("/") { return path }
        return ((directory as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}

/// Typed access to kubeconfig fields that turns every mismatch into a `KubeConfigError`
/// naming the field, never its value (values may be secrets).
struct FieldReader {
    let file: String

    func error(_ field: String?, _ problem: String) -> KubeConfigError {
        KubeConfigError(file: file, context: nil, field: field, problem: problem)
    }

    private func join(_ path: String?, _ key: String) -> String {
        path.map { "\($0).\(key)" } ?? key
    }

    func string(_ object: [String: JSONValue], _ key: String, at path: String?) throws(KubeConfigError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s.isEmpty ? nil : s
        default: throw error(join(path, key), "expected a string")
        }
    }

    func bool(_ object: [String: JSONValue], _ key: String, at path: String?) throws(KubeConfigError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw error(join(path, key), "expected true or false")
        }
    }

    /// Reads `clusters`/`users`/`contexts`: a list of `{name, <body>}` with unique names.
    func namedList(_ root: [String: JSONValue], _ key: String, body bodyKey: String)
        throws(KubeConfigError) -> [(String, [String: JSONValue], String)]
    {
        guard let value = root[key], !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw error(key, "expected a list") }
        var seen = Set<String>()
        var out: [(String, [String: JSONValue], String)] = []
        for (index, item) in items.enumerated() {
            guard let entry = item.objectValue else { throw error("\(key)[\(index)]", "expected a mapping") }
            guard let name = try string(entry, "name", at: "\(key)[\(index)]") else {
                throw error("\(key)[\(index)].name", "missing")
            }
            guard seen.insert(name).inserted else { throw error("\(key)[name=\(name)]", "the name appears more than once in this file") }
            let path = "\(key)[name=\(name)].\(bodyKey)"
            let body: [String: JSONValue]
            switch entry[bodyKey] {
            case nil, .null?: body = [:]
            case .object(let o)?: body = o
            default: throw error(path, "expected a mapping")
            }
            out.append((name, body, path))
        }
        return out
    }

    func exec(_ value: JSONValue, at path: String, baseDirectory: String) throws(KubeConfigError) -> KubeConfig.Exec {
        guard let object = value.objectValue else { throw error(path, "expected a mapping") }
        guard let apiVersion = try string(object, "apiVersion", at: path) else {
            throw error(path + ".apiVersion", "missing (use client.authentication.k8s.io/v1)")
        }
        guard ExecCredentialConfig.supportedAPIVersions.contains(apiVersion) else {
            throw error(path + ".apiVersion", "unknown exec API version \"\(apiVersion)\"; expected one of \(ExecCredentialConfig.supportedAPIVersions.joined(separator: ", "))")
        }
        guard var command = try string(object, "command", at: path) else { throw error(path + ".command", "missing") }
        // client-go resolves only commands that contain a path separator; bare names go through PATH.
        if command.contains("/") { command = KubeConfig.resolve(command, against: baseDirectory) }
        var args: [String] = []
        if let list = object["args"], !list.isNull {
            guard let items = list.arrayValue else { throw error(path + ".args", "expected a list of strings") }
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else { throw error(path + ".args[\(i)]", "expected a string") }
                args.append(s)
            }
        }
        var env: [ExecEnvironmentVariable] = []
        if let list = object["env"], !list.isNull {
            guard let items = list.arrayValue else { throw error(path + ".env", "expected a list of {name, value}") }
            for (i, item) in items.enumerated() {
                guard let name = item["name"].stringValue, !name.isEmpty else { throw error(path + ".env[\(i)].name", "missing") }
                guard let value = item["value"].stringValue else { throw error(path + ".env[\(i)].value", "expected a string") }
                env.append(ExecEnvironmentVariable(name: name, value: value))
            }
        }
        var mode: ExecInteractiveMode?
        if let text = try string(object, "interactiveMode", at: path) {
            guard let parsed = ExecInteractiveMode(rawValue: text) else {
                throw error(path + ".interactiveMode", "expected Never, IfAvailable or Always")
            }
            mode = parsed
        } else if apiVersion == "client.authentication.k8s.io/v1" {
            throw error(path + ".interactiveMode", "missing (required by client.authentication.k8s.io/v1; use Never or IfAvailable)")
        }
        return KubeConfig.Exec(
            apiVersion: apiVersion, command: command, args: args, env: env, interactiveMode: mode,
            provideClusterInfo: try bool(object, "provideClusterInfo", at: path) ?? false,
            installHint: try string(object, "installHint", at: path))
    }
}

extension KubeConfig.User: CustomStringConvertible {
    /// Names the authentication methods present, never their values.
    public var description: String {
        var methods: [String] = []
        if token != nil { methods.append("token") }
        if tokenFile != nil { methods.append("tokenFile") }
        if username != nil || password != nil { methods.append("basic auth") }
        if clientCertificate != nil || clientCertificateData != nil { methods.append("client certificate") }
        if execStanza != nil { methods.append("exec") }
        if hasAuthProvider { methods.append("auth-provider") }
        return "user \(name) (\(methods.isEmpty ? "anonymous" : methods.joined(separator: ", "))) from \(file)"
    }
}
