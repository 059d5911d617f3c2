import VigilCore

/// Builds one shard's predicates from resolved conditions.
///
/// Rules are written with shared macros (`open_read`, `spawned_process`, `container`), so the same term
/// appears in many rules checked against the same event. With `sharing`, every distinct term is built once,
/// and a costly term used by several rules remembers its answer for the event being checked: the first rule
/// that needs it computes it, the others read it. Count every condition with ``count(_:)`` before building.
final class PredicateBuilder {
    private let symbols: SymbolTable
    private let sharing: Bool
    private var uses: [String: Int] = [:]
    private var built: [String: Predicate] = [:]
    /// Slots in the reader's per-event cache, by field (only with `sharing`).
    private var slots: [String: Int] = [:]

    /// How many slots of the reader's cache the predicates use (see ``FieldReader/reserveSlots(_:)``).
    var slotCount: Int { slots.count }

    init(symbols: SymbolTable, sharing: Bool) {
        self.symbols = symbols
        self.sharing = sharing
    }

    /// Counts the terms of a condition that will be built, so that terms used more than once are shared.
    func count(_ condition: ResolvedCondition) {
        uses[Self.key(condition), default: 0] += 1
        switch condition {
        case .and(let terms), .or(let terms): for term in terms { count(term) }
        case .not(let term): count(term)
        default: break
        }
    }

    /// The predicate for `condition`.
    ///
    /// A compound term that reads one text field only (`proc.name in (…) or proc.name startswith …`) is
    /// remembered per value of that field as a whole.
    func predicate(for condition: ResolvedCondition) -> Predicate {
        guard sharing else { return make(condition) }
        let key = Self.key(condition)
        if let existing = built[key] { return existing }
        var predicate = make(condition)
        // A cheap test costs no more than reading a remembered answer.
        if uses[key, default: 0] > 1, predicate.cost >= 3 { predicate = SharedPredicate(predicate) }
        built[key] = predicate
        return predicate
    }

    /// The cache slot for `field` when sharing, else -1 (read directly).
    func slot(for field: FieldID) -> Int { slot(field) }

    private func slot(_ field: FieldID) -> Int {
        guard sharing else { return -1 }
        let key = "\(field)"
        if let slot = slots[key] { return slot }
        slots[key] = slots.count
        return slots.count - 1
    }

    private func make(_ condition: ResolvedCondition) -> Predicate {
        switch condition {
        case .and, .or, .not:
            if let field = condition.singleTextField {
                return FieldMemoPredicate(field: field, slot: slot(field), inner: plain(condition))
            }
        default: break
        }
        return plain(condition)
    }

    private func plain(_ condition: ResolvedCondition) -> Predicate {
        switch condition {
        case .constant(let value): return ConstantPredicate(value)
        // Nested `and`s (and `or`s) from macros are one list: one call per term instead of one per level.
        case .and(let terms): return AndPredicate(flattened(terms, and: true).map { predicate(for: $0) })
        case .or(let terms): return OrPredicate(flattened(terms, and: false).map { predicate(for: $0) })
        case .not(let term): return NotPredicate(predicate(for: term))
        case .exists(let field):
            // Details fields have their own memo, by details text.
            if ConditionCompiler.readsDetails(field) { return DetailsPredicate(ExistsPredicate(field.id)) }
            return ExistsPredicate(field.id, slot: slot(field.id))
        case .compare(let field, let comparison, let values):
            if ConditionCompiler.readsDetails(field) {
                return DetailsPredicate(
                    ConditionCompiler.comparisonPredicate(field, comparison, values, symbols: symbols))
            }
            return ConditionCompiler.comparisonPredicate(
                field, comparison, values, symbols: symbols, slot: slot(field.id))
        }
    }

    /// The terms with those that are themselves `and`s (or `or`s) replaced by their own terms, unless such a
    /// term is shared with other rules, where it is decided once per event as a whole.
    private func flattened(_ terms: [ResolvedCondition], and: Bool) -> [ResolvedCondition] {
        var result: [ResolvedCondition] = []
        for term in terms {
            switch term {
            case .and(let inner) where and && !isShared(term): result += flattened(inner, and: true)
            case .or(let inner) where !and && !isShared(term): result += flattened(inner, and: false)
            default: result.append(term)
            }
        }
        return result
    }

    private func isShared(_ condition: ResolvedCondition) -> Bool {
        sharing && uses[Self.key(condition), default: 0] > 1
    }

    /// A text naming a term by its structure: equal terms have equal keys.
    static func key(_ condition: ResolvedCondition) -> String {
        switch condition {
        case .constant(let value): return value ? "T" : "F"
        case .and(let terms): return "&(" + terms.map(key).joined(separator: ",") + ")"
        case .or(let terms): return "|(" + terms.map(key).joined(separator: ",") + ")"
        case .not(let term): return "!(" + key(term) + ")"
        case .exists(let field): return "E(\(field.id))"
        case .compare(let field, let comparison, let values):
            return
                "C(\(field.id) \(field.type) \(comparison.rawValue) \(values.count):\(values.joined(separator: "\u{1}")))"
        }
    }
}

/// A term several rules share, remembering its answer for the event being checked (numbered by the reader,
/// see ``FieldReader/countEvent()``).
final class SharedPredicate: Predicate {
    let inner: Predicate
    // Unchecked: a shard's detector alone evaluates its predicates, one event at a time.
    @exclusivity(unchecked) private var event: Int64 = .min
    @exclusivity(unchecked) private var result = false
    init(_ inner: Predicate) { self.inner = inner }
    override var cost: Int { min(inner.cost, 4) }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        if self.event == reader.eventNumber { return result }
        result = inner.evaluate(event, reader)
        self.event = reader.eventNumber
        return result
    }
}
