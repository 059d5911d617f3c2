/// A shell-style pattern for rule ids, workload names and executable paths: `*` matches any run of
/// characters (slashes included, so `kube-system/*` covers every workload of the namespace), `?` matches
/// one character, and everything else matches itself. A pattern without wildcards is an exact match.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let characters: [Character]

    /// Creates a pattern.
    public init(_ pattern: String) {
        self.pattern = pattern
        self.characters = Array(pattern)
    }

    /// Whether `text` matches the whole pattern.
    public func matches(_ text: String) -> Bool {
        let text = Array(text)
        // Iterative matching with one backtrack point: the last `*` seen and where it started matching.
        var p = 0
        var t = 0
        var star: Int?
        var starText = 0
        while t < text.count {
            if p < characters.count, characters[p] == "?" || characters[p] == text[t] && characters[p] != "*" {
                p += 1
                t += 1
            } else if p < characters.count, characters[p] == "*" {
                star = p
                starText = t
                p += 1
            } else if let star {
                p = star + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < characters.count, characters[p] == "*" { p += 1 }
        return p == characters.count
    }

    public var description: String { pattern }
}
