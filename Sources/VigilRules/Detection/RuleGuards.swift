import VigilCore

/// Rules of one event kind whose conditions each require a test of the same text field (`fd.name`, `proc.name`,
/// `dns.name`): the tests' answers for one value of the field are kept together as a bit mask, so one lookup per
/// event tells which of those rules can still match, and the others are skipped without being evaluated.
///
/// A test is a conjunct of its rule's condition (the condition is `test and …`), so a rule whose bit is clear is
/// false whatever the rest says. A test reads that one field only, so its answer depends on the field's symbol
/// alone and can be remembered by symbol.
final class GuardGroup {
    let field: FieldID
    private let slot: Int
    /// The tests, one per guarded rule.
    private let owned: [Predicate]
    private let tests: PredicateList
    /// Per test, the bit of its answer in a mask: its rule's position among the kind's rules.
    private let bits: [UInt64]
    // Unchecked: a shard's detector alone uses its groups, one event at a time.
    @exclusivity(unchecked) private var masks = SymbolMemo<UInt64>(maximumCapacity: 1 << 14, placeholder: 0)

    /// Kinds with more rules than this (the bits of a mask) are not guarded.
    static let capacity = 64

    /// A group of `tests`, test i guarding the rule at position `positions[i]` among its kind's rules.
    init(field: FieldID, slot: Int, tests: [Predicate], positions: [Int]) {
        precondition(tests.count == positions.count && positions.allSatisfy { $0 < Self.capacity })
        self.field = field
        self.slot = slot
        self.owned = tests
        self.tests = PredicateList(tests)
        self.bits = positions.map { 1 << UInt64($0) }
    }

    deinit { tests.deallocate() }

    /// Which guarded rules may match `event`, the event being checked: the bits of their positions.
    @inline(__always)
    func mask(_ event: Event, _ reader: FieldReader) -> UInt64 {
        let value = reader.scalar(slot: slot, field, event)
        guard value.tag == .symbol else { return compute(event, reader) }
        if let known = masks.value(for: value.symbol) { return known }
        let mask = compute(event, reader)
        masks.store(mask, for: value.symbol)
        return mask
    }

    private func compute(_ event: Event, _ reader: FieldReader) -> UInt64 {
        var mask: UInt64 = 0
        for index in 0..<tests.count where tests.evaluate(index, event, reader) { mask |= bits[index] }
        return mask
    }

    /// The terms a condition requires: its top-level conjuncts, nested `and`s opened.
    static func conjuncts(_ condition: ResolvedCondition) -> [ResolvedCondition] {
        guard case .and(let terms) = condition else { return [condition] }
        return terms.flatMap(conjuncts)
    }
}
