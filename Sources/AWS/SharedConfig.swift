import Foundation

/// The shared `~/.aws/credentials` and `~/.aws/config` files, read for one profile.
///
/// Guarantees (as the SDKs read them): the profile is `AWS_PROFILE` or "default"; in the
/// config file a profile is `[profile name]` (only "default" may also be `[default]`), in the
/// credentials file plain `[name]`; credentials-file values win over config-file values;
/// file paths come from `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`, else `~/.aws/…`.
/// Missing files are simply empty. Keys are case-insensitive; `#` and `;` start comments.
/// Caveats: nested sub-properties (`s3 =` blocks) and `[services …]` sections are skipped.
public struct SharedConfig: Sendable, Equatable {
    public var profileName: String
    /// The merged key/value pairs of the selected profile.
    public var values: [String: String]

    public init(profileName: String, values: [String: String]) {
        self.profileName = profileName
        self.values = values
    }

    public subscript(key: String) -> String? { values[key.lowercased()] }

    public var region: String? { self["region"] }
    public var endpointURL: String? { self["endpoint_url"] }

    /// Loads the selected profile from the files the environment names.
    public static func load(environment: [String: String]) -> SharedConfig {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let configPath = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let config = (try? String(contentsOfFile: expand(configPath, home: home), encoding: .utf8)) ?? ""
        let credentials = (try? String(contentsOfFile: expand(credentialsPath, home: home), encoding: .utf8)) ?? ""
        return merge(profile: profile, config: config, credentials: credentials)
    }

    /// The profile's values from the two files' texts.
    public static func merge(profile: String, config: String, credentials: String) -> SharedConfig {
        let configSections = parseINI(config)
        var values: [String: String] = [:]
        // "[profile default]" beats "[default]" in the config file, as in the SDKs.
        if profile == "default", let plain = configSections["default"] { values = plain }
        if let section = configSections["profile \(profile)"] { values.merge(section) { _, new in new } }
        if let section = parseINI(credentials)[profile] { values.merge(section) { _, new in new } }
        return SharedConfig(profileName: profile, values: values)
    }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    /// Section name (whitespace-normalised) → lowercased key → value.
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else {
                    current = nil
                    continue
                }
                let name = line[line.index(after: line.startIndex)..<close]
                    .split(whereSeparator: \.isWhitespace).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            // Continuation lines (sub-properties) start with whitespace; we do not use them.
            if rawLine.first?.isWhitespace == true { continue }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // An inline comment needs whitespace before it, so "a#b" stays a value.
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let range = value.range(of: marker) { value = value[..<range.lowerBound].trimmingCharacters(in: .whitespaces) }
            }
            sections[section, default: [:]][key] = value
        }
        return sections
    }
}

/// Where the region comes from: an explicit value, the environment, or the profile.
public enum AWSRegionResolver {
    /// `explicit` (a flag) wins, then `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    public static func resolve(explicit: String?, environment: [String: String], sharedConfig: SharedConfig) -> String? {
        for candidate in [explicit, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], sharedConfig.region] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return nil
    }
}
