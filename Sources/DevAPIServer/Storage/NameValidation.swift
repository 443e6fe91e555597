import JSON

/// The object-name rules of the real API server, with its exact error wording.
enum NameValidation {
    static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    /// Problems with `name` for objects of `type`, as messages for the `metadata.name` cause.
    static func problems(name: String, type: ResourceType) -> [String] {
        switch (type.group, type.plural) {
        case ("", "namespaces"):
            return labelProblems(name)
        case ("", "services"):
            return dns1035Problems(name)
        default:
            // Path segments cannot carry these, so even kinds with lax names reject them.
            if name == "." || name == ".." { return ["may not be '\(name)'"] }
            if name.contains("/") || name.contains("%") { return ["may not contain '\(name.contains("/") ? "/" : "%")'"] }
            return subdomainProblems(name)
        }
    }

    static func subdomainProblems(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.isEmpty || !labels.allSatisfy({ isLabel($0.utf8) }) { problems.append(subdomainMessage) }
        return problems
    }

    static func labelProblems(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isLabel(name.utf8) { problems.append(labelMessage) }
        return problems
    }

    static func dns1035Problems(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isLabel(name.utf8) || !(name.utf8.first.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } ?? false) {
            problems.append(dns1035Message)
        }
        return problems
    }

    static func isLabel(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.reversed().first else { return false }
        func alphanumeric(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
        }
        return alphanumeric(first) && alphanumeric(last) && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// The suffix alphabet of `generateName` (no vowels, so generated names never spell words).
    static let generatedNameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func generate(from prefix: String) -> String {
        // The real server trims the prefix so the result stays within 63 characters.
        let trimmed = prefix.count > 58 ? String(prefix.prefix(58)) : prefix
        return trimmed + String((0..<5).map { _ in generatedNameAlphabet.randomElement()! })
    }
}

/// Label syntax as the real server checks it (`metadata.labels`: qualified-name keys, short values).
enum LabelValidation {
    static let nameMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let valueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func causes(_ labels: JSONValue) -> [StatusCause] {
        guard let labels = labels.objectValue else { return [] }
        var causes: [StatusCause] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            let name = String(parts.last ?? "")
            var keyProblems: [String] = []
            if parts.count > 2 { keyProblems.append("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')") }
            if parts.count == 2 {
                let prefix = String(parts[0])
                if prefix.isEmpty { keyProblems.append("prefix part must be non-empty") }
                else { keyProblems += NameValidation.subdomainProblems(prefix).map { "prefix part " + $0 } }
            }
            if name.isEmpty { keyProblems.append("name part must be non-empty") }
            else {
                if name.utf8.count > 63 { keyProblems.append("name part must be no more than 63 characters") }
                if !isSegment(name) { keyProblems.append(nameMessage) }
            }
            for problem in keyProblems {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(key)\": \(problem)",
                                          field: "metadata.labels"))
            }
            guard let text = value.stringValue else {
                causes.append(StatusCause(reason: "FieldValueTypeInvalid", message: "Invalid value: \(value.serialized()): must be a string",
                                          field: "metadata.labels"))
                continue
            }
            if text.utf8.count > 63 {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(text)\": must be no more than 63 characters",
                                          field: "metadata.labels"))
            }
            if !text.isEmpty && !isSegment(text) {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(text)\": \(valueMessage)",
                                          field: "metadata.labels"))
            }
        }
        return causes
    }

    static func isSegment(_ text: String) -> Bool {
        func alphanumeric(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
        }
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
