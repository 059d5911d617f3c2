/// Rewrites the high-cardinality parts of paths, arguments and names into placeholders, so that a
/// profile stays small and stable: `/proc/4242/status` → `/proc/{pid}/status`, `/tmp/tmp8f3kq2/x` →
/// `/tmp/{tmp}/x`, `--id=3f2a9c1d5e7b4a60` → `--id={id}`.
///
/// Placeholders: `{pid}` (a process id under /proc), `{num}` (a number), `{id}` (hex ids, UUIDs),
/// `{tmp}` (temporary names), `{rand}` (long random-looking tokens), `{long}` (very long tokens).
public enum Normalizer {
    /// Tokens longer than this become `{long}`.
    public static let longToken = 96

    /// Normalizes an absolute or relative path, segment by segment.
    public static func path(_ path: String) -> String {
        if path.isEmpty { return path }
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for index in segments.indices {
            let previous = index > 0 ? segments[index - 1] : ""
            if previous == "proc" && index == 2 && path.hasPrefix("/proc/"),
                segments[index] == "self" || segments[index] == "thread-self" || isNumber(segments[index])
            {
                segments[index] = "{pid}"
            } else if previous == "task" && index == 4 && path.hasPrefix("/proc/") && isNumber(segments[index]) {
                segments[index] = "{pid}"
            } else {
                segments[index] = token(segments[index])
            }
        }
        return segments.joined(separator: "/")
    }

    /// Normalizes one argument: paths segment by segment, `key=value` on the value, other tokens whole.
    public static func argument(_ argument: String) -> String {
        if argument.utf8.count > longToken { return "{long}" }
        if argument.hasPrefix("/") || argument.hasPrefix("./") { return path(argument) }
        if let equals = argument.firstIndex(of: "="), equals != argument.startIndex {
            let key = argument[..<equals]
            let value = String(argument[argument.index(after: equals)...])
            return key + "=" + (value.hasPrefix("/") ? path(value) : token(value))
        }
        return token(argument)
    }

    /// Normalizes a DNS name label by label (`a1b2c3d4e5.cdn.example.com` → `{id}.cdn.example.com`).
    public static func dnsName(_ name: String) -> String {
        name.lowercased().split(separator: ".", omittingEmptySubsequences: false)
            .map { token(String($0)) }.joined(separator: ".")
    }

    /// Normalizes a single token.
    public static func token(_ token: String) -> String {
        let utf8 = token.utf8
        if utf8.isEmpty { return token }
        if utf8.count > longToken { return "{long}" }
        if isNumber(token) { return "{num}" }
        if isIdentifier(token) { return "{id}" }
        if isTemporaryName(token) { return "{tmp}" }
        if isRandom(token) { return "{rand}" }
        return token
    }

    static func isNumber(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// Hex strings of 8+ characters with at least one digit (commit ids, container ids, hashes) and UUIDs.
    static func isIdentifier(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        let hexDigits = bytes.filter { $0 != UInt8(ascii: "-") }
        guard hexDigits.count >= 8, hexDigits.allSatisfy(isHex) else { return false }
        let dashes = bytes.count - hexDigits.count
        if dashes > 0 {
            // Only the UUID layout 8-4-4-4-12 counts with dashes.
            let groups = token.split(separator: "-").map(\.count)
            return groups == [8, 4, 4, 4, 12]
        }
        return hexDigits.contains { $0 >= 48 && $0 <= 57 }
    }

    /// `tmpXXXXXX`-style names (mkstemp and friends) and names ending in `.tmp`/`.temp`.
    static func isTemporaryName(_ token: String) -> Bool {
        let lower = token.lowercased()
        if lower.hasSuffix(".tmp") || lower.hasSuffix(".temp") { return true }
        for prefix in ["tmp", "temp", ".tmp", "_mei"] where lower.hasPrefix(prefix) {
            let rest = lower.dropFirst(prefix.count).drop { $0 == "." || $0 == "-" || $0 == "_" }
            if rest.count >= 4, rest.utf8.allSatisfy(isAlphanumeric), rest.contains(where: \.isNumber) {
                return true
            }
        }
        return false
    }

    /// Long tokens mixing letters and digits with no structure, like session or build ids. Tokens with
    /// separators (`x86_64-linux-gnu`) are words, not ids.
    static func isRandom(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        guard bytes.count >= 16, bytes.allSatisfy(isAlphanumeric) else { return false }
        let digits = bytes.filter { $0 >= 48 && $0 <= 57 }.count
        let uppers = bytes.filter { $0 >= 65 && $0 <= 90 }.count
        let lowers = bytes.filter { $0 >= 97 && $0 <= 122 }.count
        // Words rarely mix many digits with both cases; random ids do.
        return digits >= 3 && (uppers + lowers) >= 3 && (digits * 4 >= bytes.count || (uppers >= 2 && lowers >= 2))
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90)
    }
}

/// Paths whose access always matters: credentials, keys and loader configuration. They never collapse
/// into a wildcard, and touching one raises the severity of a deviation.
public enum SensitivePaths {
    /// Path prefixes that are sensitive wherever they appear.
    public static let prefixes = [
        "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ld.so.preload", "/etc/kubernetes/",
        "/root/.ssh/", "/root/.aws/", "/root/.kube/", "/root/.docker/", "/root/.config/gcloud/", "/root/.azure/",
        "/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets/kubernetes.io/serviceaccount",
        "/var/run/secrets/eks.amazonaws.com/", "/var/lib/kubelet/pki/",
    ]

    /// Path parts that are sensitive under any home directory.
    public static let components = [
        "/.ssh/", "/.aws/", "/.kube/config", "/.docker/config.json", "/.config/gcloud/",
        "/.azure/", "/.gnupg/",
    ]

    /// Whether `path` is sensitive or lies under a sensitive directory.
    public static func contains(_ path: String) -> Bool {
        prefixes.contains { path.hasPrefix($0) } || components.contains { path.contains($0) }
            || components.contains { path.hasSuffix($0.dropLast()) }
    }

    /// Whether `path` is sensitive, lies under a sensitive directory, or is a directory that holds one
    /// (so collapsing it would hide a sensitive entry).
    public static func isOnSensitivePath(_ path: String) -> Bool {
        if contains(path) { return true }
        let directory = path.hasSuffix("/") ? path : path + "/"
        return prefixes.contains { $0.hasPrefix(directory) }
    }
}
