import Glibc
import VigilCore

/// A condition with its macros inlined, its lists expanded and its fields resolved and type-checked: what a
/// rule keeps after loading, and what each shard turns into its own ``Predicate``.
public indirect enum ResolvedCondition: Sendable {
    case constant(Bool)
    case and([ResolvedCondition])
    case or([ResolvedCondition])
    case not(ResolvedCondition)
    case exists(FieldDefinition)
    /// A comparison with its constant values (one for scalar operators).
    case compare(FieldDefinition, ComparisonOperator, [String])

    /// The event kinds on which the condition can be true, or nil when it constrains none.
    ///
    /// A comparison or `exists` is false on an event that lacks the field, so it limits the kinds to those
    /// carrying the field; `evt.type = execve` limits them to the kinds that syscall makes. `and` intersects,
    /// `or` unites, and `not` gives no limit.
    public var possibleKinds: Set<EventKind>? {
        switch self {
        case .constant(let value): return value ? nil : []
        case .and(let terms):
            var result: Set<EventKind>?
            for term in terms {
                guard let kinds = term.possibleKinds else { continue }
                result = result.map { $0.intersection(kinds) } ?? kinds
            }
            return result
        case .or(let terms):
            var result: Set<EventKind> = []
            for term in terms {
                guard let kinds = term.possibleKinds else { return nil }
                result.formUnion(kinds)
            }
            return result
        case .not: return nil
        case .exists(let field): return field.kinds.isEmpty ? nil : field.kinds
        case .compare(let field, let comparison, let values):
            if field.id == .eventType, comparison == .equal || comparison == .in {
                return values.reduce(into: Set<EventKind>()) { $0.formUnion(FieldReader.kinds(forSyscall: $1)) }
            }
            return field.kinds.isEmpty ? nil : field.kinds
        }
    }

    /// The fields the condition reads.
    public var fields: [FieldDefinition] {
        switch self {
        case .constant: return []
        case .and(let terms), .or(let terms): return terms.flatMap(\.fields)
        case .not(let term): return term.fields
        case .exists(let field): return [field]
        case .compare(let field, _, _): return [field]
        }
    }
}

extension ResolvedCondition {
    /// The condition as it reads on events of `kind`: terms on what the kind alone decides (`evt.type`,
    /// `evt.dir`, the kind and layer names) replaced by their truth, and `and`, `or` and `not` folded. A rule
    /// whose condition folds to false is never checked against that kind.
    func specialised(for kind: EventKind) -> ResolvedCondition {
        switch self {
        case .constant: return self
        case .and(let terms):
            var kept: [ResolvedCondition] = []
            for term in terms {
                let folded = term.specialised(for: kind)
                switch folded {
                case .constant(false): return folded
                case .constant(true): continue
                default: kept.append(folded)
                }
            }
            return kept.isEmpty ? .constant(true) : kept.count == 1 ? kept[0] : .and(kept)
        case .or(let terms):
            var kept: [ResolvedCondition] = []
            for term in terms {
                let folded = term.specialised(for: kind)
                switch folded {
                case .constant(true): return folded
                case .constant(false): continue
                default: kept.append(folded)
                }
            }
            return kept.isEmpty ? .constant(false) : kept.count == 1 ? kept[0] : .or(kept)
        case .not(let term):
            let folded = term.specialised(for: kind)
            if case .constant(let value) = folded { return .constant(!value) }
            return .not(folded)
        case .exists(let field):
            return Self.kindText(field.id, kind) == nil ? self : .constant(true)
        case .compare(let field, let comparison, let values):
            guard let text = Self.kindText(field.id, kind) else { return self }
            switch comparison {
            case .equal, .in, .intersects: return .constant(values.contains(text))
            case .notEqual: return .constant(!values.contains(text))
            default:
                guard comparison.isTextTest else { return self }
                return .constant(ConditionCompiler.textTest(comparison, values)(text))
            }
        }
    }

    /// The text a field has on every event of `kind`, when the kind alone decides it (as ``FieldReader``
    /// reads it).
    private static func kindText(_ field: FieldID, _ kind: EventKind) -> String? {
        switch field {
        // A credential change names its operation, and a module load from memory is `init_module`.
        case .eventType where kind != .credentialChange && kind != .moduleLoad: return FieldReader.syscallName(kind)
        case .eventKind: return kind.name
        case .eventDirection: return "<"
        case .layer: return kind.layer.name
        default: return nil
        }
    }

    /// The one text field the condition reads, when it reads only one and its value is a single symbol (not
    /// a list, not every ancestor's name, not details, which have their own memo).
    var singleTextField: FieldID? {
        var found: FieldID?
        func visit(_ condition: ResolvedCondition) -> Bool {
            switch condition {
            case .constant: return true
            case .and(let terms), .or(let terms): return terms.allSatisfy(visit)
            case .not(let term): return visit(term)
            case .exists(let field), .compare(let field, _, _):
                guard field.type == .string else { return false }
                switch field.id {
                case .detail, .ancestorName(nil), .cloudSummary: return false
                default: break
                }
                if let found { return found == field.id }
                found = field.id
                return true
            }
        }
        return visit(self) ? found : nil
    }
}

/// Inlines macros, expands lists, and resolves and type-checks fields; then builds a shard's predicates.
public struct ConditionCompiler: Sendable {
    /// Macro conditions by name.
    public var macros: [String: ConditionNode]
    /// List items by name.
    public var lists: [String: [String]]

    /// Creates a compiler with the given macros and lists.
    public init(macros: [String: ConditionNode] = [:], lists: [String: [String]] = [:]) {
        self.macros = macros
        self.lists = lists
    }

    /// Resolves a parsed condition; `rule` names it in errors.
    public func resolve(_ node: ConditionNode, rule: String) throws(RuleError) -> ResolvedCondition {
        var expanding: [String] = []
        return try resolve(node, rule: rule, expanding: &expanding)
    }

    private func resolve(
        _ node: ConditionNode, rule: String, expanding: inout [String]
    ) throws(RuleError)
        -> ResolvedCondition
    {
        switch node {
        case .and(let terms):
            var resolved: [ResolvedCondition] = []
            for term in terms { resolved.append(try resolve(term, rule: rule, expanding: &expanding)) }
            return .and(resolved)
        case .or(let terms):
            var resolved: [ResolvedCondition] = []
            for term in terms { resolved.append(try resolve(term, rule: rule, expanding: &expanding)) }
            return .or(resolved)
        case .not(let term):
            return .not(try resolve(term, rule: rule, expanding: &expanding))
        case .macro(let name, let location):
            guard let body = macros[name] else {
                throw RuleError(
                    code: .unknownMacro, rule: rule, location: location, token: name,
                    message: "no macro of this name is defined")
            }
            guard !expanding.contains(name), expanding.count < 64 else {
                throw RuleError(
                    code: .syntax, rule: rule, location: location, token: name,
                    message: "the macro refers to itself: \((expanding + [name]).joined(separator: " → "))")
            }
            expanding.append(name)
            defer { expanding.removeLast() }
            return try resolve(body, rule: rule, expanding: &expanding)
        case .exists(let reference):
            return .exists(try field(reference, rule: rule))
        case .comparison(let reference, let comparison, let operand, let location):
            let definition = try field(reference, rule: rule)
            var values: [String]
            switch operand {
            case .value(let value): values = [value]
            case .list(let items): values = expand(items)
            }
            try check(definition, comparison, &values, rule: rule, location: location, token: reference.spelled)
            if definition.id == .cloudAction, comparison.isIdentity {
                // Events keep the action without its API version (`CreateFunction20150331` → `CreateFunction`).
                values = values.map(CloudFields.actionWithoutVersion)
            }
            return .compare(definition, comparison, values)
        }
    }

    private func field(_ reference: FieldReference, rule: String) throws(RuleError) -> FieldDefinition {
        switch FieldCatalog.resolve(reference) {
        case .success(let definition): return definition
        case .failure(var error):
            error.rule = rule
            throw error
        }
    }

    /// List items with list names replaced by their items, recursively.
    private func expand(_ items: [String], depth: Int = 0) -> [String] {
        var result: [String] = []
        for item in items {
            if depth < 16, let list = lists[item] {
                result += expand(list, depth: depth + 1)
            } else {
                result.append(item)
            }
        }
        return result
    }

    private func check(
        _ field: FieldDefinition, _ comparison: ComparisonOperator, _ values: inout [String], rule: String,
        location: SourceLocation, token: String
    ) throws(RuleError) {
        func fail(_ code: RuleError.Code, _ message: String, token: String = token) -> RuleError {
            RuleError(code: code, rule: rule, location: location, token: token, message: message)
        }
        if comparison == .regex {
            throw fail(.unsupportedOperator, "Vigil does not evaluate regular expressions; use glob or pmatch")
        }
        if !comparison.takesList && values.count != 1 {
            throw fail(.invalidValue, "'\(comparison.rawValue)' takes one value, not a list")
        }
        switch field.type {
        case .string:
            if [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(comparison) {
                throw fail(.unsupportedOperator, "text cannot be ordered with '\(comparison.rawValue)'")
            }
        case .number:
            // Text operators compare the number's text as Falco gives it (`evt.arg.flags contains O_TRUNC`,
            // `ka.response.code startswith 2`): see NumberText.
            if comparison.isTextTest { return }
            guard
                [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .in, .intersects].contains(
                    comparison)
            else { throw fail(.unsupportedOperator, "a number takes =, !=, <, <=, >, >=, in or a text operator") }
            for value in values where Self.number(value) == nil {
                throw fail(.invalidValue, "'\(value)' is not a number", token: value)
            }
        case .address:
            guard [.equal, .notEqual, .in, .intersects].contains(comparison) else {
                throw fail(.unsupportedOperator, "an address takes =, != or in")
            }
            for value in values where AddressRange(value) == nil {
                throw fail(.invalidValue, "'\(value)' is not an address or a CIDR range", token: value)
            }
        case .bool:
            guard comparison.isIdentity else {
                throw fail(.unsupportedOperator, "a boolean takes =, !=, in or intersects")
            }
            for value in values where Self.boolean(value) == nil {
                throw fail(.invalidValue, "'\(value)' is not true or false", token: value)
            }
        }
    }

    static func number(_ text: String) -> Int64? {
        if text.hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) }
        return Int64(text)
    }

    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    // MARK: Predicates

    /// Builds one shard's predicate for a resolved condition, interning its text constants.
    ///
    /// A compound term that reads one text field only (`proc.name in (…) or proc.name startswith …`) is
    /// remembered per value of that field as a whole.
    static func predicate(for condition: ResolvedCondition, symbols: SymbolTable) -> Predicate {
        PredicateBuilder(symbols: symbols, sharing: false).predicate(for: condition)
    }
    static func readsDetails(_ field: FieldDefinition) -> Bool {
        if case .detail = field.id { return true }
        return false
    }

    static func comparisonPredicate(
        _ field: FieldDefinition, _ comparison: ComparisonOperator, _ values: [String], symbols: SymbolTable,
        slot: Int = -1
    ) -> Predicate {
        switch field.type {
        case .number:
            if comparison.isTextTest {
                return NumberTextPredicate(field: field.id, slot: slot, test: textTest(comparison, values))
            }
            return NumberPredicate(
                field: field.id, slot: slot, comparison: comparison,
                values: Set(values.compactMap(ConditionCompiler.number)))
        case .bool:
            var accepted = Set(values.compactMap(ConditionCompiler.boolean))
            if comparison == .notEqual { accepted = Set([true, false]).subtracting(accepted) }
            return BoolPredicate(field: field.id, slot: slot, accepted: accepted)
        case .address:
            return AddressPredicate(
                field: field.id, slot: slot, ranges: values.compactMap(AddressRange.init),
                negated: comparison == .notEqual)
        case .string:
            return textPredicate(field, comparison, values, symbols: symbols, slot: slot)
        }
    }

    private static func textPredicate(
        _ field: FieldDefinition, _ comparison: ComparisonOperator, _ values: [String], symbols: SymbolTable,
        slot: Int = -1
    ) -> Predicate {
        if comparison.isIdentity {
            let set = Set(values.map { symbols.intern($0) })
            let negated = comparison == .notEqual
            if case .ancestorName(nil) = field.id {
                return AnyAncestorPredicate { name, _ in set.contains(name) != negated }
            }
            return SymbolSetPredicate(field: field.id, slot: slot, symbols: set, comparison: comparison)
        }
        let test = textTest(comparison, values)
        if case .ancestorName(nil) = field.id {
            return AnyAncestorPredicate { name, reader in test(reader.symbols.string(name)) }
        }
        return TextPredicate(field: field.id, slot: slot, test: test)
    }

    /// The test a text operator makes against its constant(s).
    static func textTest(_ comparison: ComparisonOperator, _ values: [String]) -> (String) -> Bool {
        let value = values.first ?? ""
        switch comparison {
        case .contains: return { $0.contains(value) }
        case .icontains:
            let lowered = value.lowercased()
            return { $0.lowercased().contains(lowered) }
        case .bcontains:
            let needle = hexBytes(value)
            return { text in needle.isEmpty ? false : Array(text.utf8).containsSequence(needle) }
        case .startswith: return { $0.hasPrefix(value) }
        case .bstartswith:
            let prefix = hexBytes(value)
            return { !prefix.isEmpty && Array($0.utf8).starts(with: prefix) }
        case .endswith: return { $0.hasSuffix(value) }
        case .glob: return { fnmatch(value, $0, 0) == 0 }
        case .iglob:
            // FNM_CASEFOLD (1 << 4) is a GNU extension Swift does not import.
            return { fnmatch(value, $0, 1 << 4) == 0 }
        case .pmatch:
            // A path matches a prefix when it is the prefix or lies below it.
            let prefixes = values.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
            return { path in
                prefixes.contains { prefix in
                    path == prefix || path.hasPrefix(prefix == "/" ? "/" : prefix + "/")
                }
            }
        default: return { _ in false }
        }
    }

    private static func hexBytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var characters = Array(text.utf8)[...]
        while characters.count >= 2 {
            guard let byte = UInt8(String(decoding: characters.prefix(2), as: UTF8.self), radix: 16) else { return [] }
            bytes.append(byte)
            characters = characters.dropFirst(2)
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    fileprivate func containsSequence(_ subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        for start in 0...(count - subsequence.count)
        where self[start..<start + subsequence.count].elementsEqual(subsequence) {
            return true
        }
        return false
    }
}
