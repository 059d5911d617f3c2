/// Where a token is, for error messages: the 1-based line and column within the condition's text, plus the
/// line the condition starts on in its file.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    /// The line in the rule file, or 0 when unknown.
    public var line: Int
    /// The column within that line, 1-based.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { line > 0 ? "line \(line), column \(column)" : "column \(column)" }
}

/// The comparison operators of the condition language (Falco's).
public enum ComparisonOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case `in`
    case intersects
    case contains
    case icontains
    case bcontains
    case startswith
    case bstartswith
    case endswith
    case glob
    case iglob
    case pmatch
    case regex

    /// Whether the operator takes a parenthesised list.
    var takesList: Bool { self == .in || self == .intersects || self == .pmatch }

    /// Whether the operator compares values for equality (`=`, `!=`, `in`, `intersects`).
    var isIdentity: Bool { self == .equal || self == .notEqual || self == .in || self == .intersects }

    /// Whether the operator tests text against text (`contains`, `startswith`, `glob`…, not identity).
    var isTextTest: Bool { !isIdentity && ![.less, .lessOrEqual, .greater, .greaterOrEqual, .regex].contains(self) }

    /// Reads an operator's spelling (`==` is `=`).
    init?(spelling: String) {
        if spelling == "==" {
            self = .equal
            return
        }
        self.init(rawValue: spelling)
    }
}

/// A field as written in a condition: `proc.name`, `proc.aname[2]`, `ka.req.pod.containers.image`.
public struct FieldReference: Sendable, Equatable {
    /// The name before any `[argument]`.
    public var name: String
    /// The argument in brackets, if any.
    public var argument: String?
    /// Where it was written.
    public var location: SourceLocation

    /// The name as written, with its argument.
    public var spelled: String { argument.map { "\(name)[\($0)]" } ?? name }
}

/// The right-hand side of a comparison.
public enum Operand: Sendable, Equatable {
    /// One value.
    case value(String)
    /// A parenthesised list; items may name lists, which are expanded when compiled.
    case list([String])
}

/// A parsed condition, before macros and lists are resolved.
public indirect enum ConditionNode: Sendable, Equatable {
    case and([ConditionNode])
    case or([ConditionNode])
    case not(ConditionNode)
    /// A bare identifier in a boolean position: a macro's name.
    case macro(String, SourceLocation)
    case comparison(FieldReference, ComparisonOperator, Operand, SourceLocation)
    case exists(FieldReference)
}
