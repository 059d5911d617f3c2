import VigilCore

/// A compiled condition, evaluated per event with no allocation once its caches are warm.
///
/// Predicates hold per-shard caches (string tests memoised by symbol), so each shard compiles its own.
class Predicate {
    /// A rough cost of one evaluation, so that `and` and `or` try their cheap terms first.
    var cost: Int { 1 }
    func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { false }
}

/// A test of one field, read through the reader's per-event cache when the predicate has a slot there (see
/// ``FieldReader/reserveSlots(_:)``): rules checked against one event read each field once.
class FieldPredicate: Predicate {
    let field: FieldID
    /// The field's slot in the reader's cache, or -1 to read it directly.
    let slot: Int
    init(field: FieldID, slot: Int) {
        self.field = field
        self.slot = slot
    }
    @inline(__always)
    final func read(_ event: Event, _ reader: FieldReader) -> FieldValue {
        slot < 0 ? reader.value(field, in: event) : reader.value(slot: slot, field, event)
    }
    /// The field's value as a scalar: no enum copy for the common cases (text, numbers, booleans).
    @inline(__always)
    final func scalar(_ event: Event, _ reader: FieldReader) -> FieldReader.Scalar {
        slot < 0
            ? FieldReader.Scalar(reader.value(field, in: event)) : reader.scalar(slot: slot, field, event)
    }
}

final class ConstantPredicate: Predicate {
    let value: Bool
    init(_ value: Bool) { self.value = value }
    override var cost: Int { 0 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { value }
}

/// Orders terms cheapest first: terms have no side effects besides their caches, so the order changes only
/// how soon `and` and `or` know their answer.
private func cheapestFirst(_ terms: [Predicate]) -> ContiguousArray<Predicate> {
    ContiguousArray(
        terms.enumerated().sorted { ($0.element.cost, $0.offset) < ($1.element.cost, $1.offset) }.map(\.element))
}

/// The terms of an `and` or an `or`, cheapest first, kept in a list iterated without retaining them.
class TermListPredicate: Predicate {
    let terms: ContiguousArray<Predicate>
    fileprivate let list: PredicateList
    private let total: Int
    init(_ terms: [Predicate]) {
        self.terms = cheapestFirst(terms)
        self.list = PredicateList(self.terms)
        self.total = terms.reduce(1) { $0 + $1.cost }
    }
    deinit { list.deallocate() }
    override var cost: Int { total }
}

final class AndPredicate: TermListPredicate {
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        for index in 0..<list.count where !list.evaluate(index, event, reader) { return false }
        return true
    }
}

final class OrPredicate: TermListPredicate {
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        for index in 0..<list.count where list.evaluate(index, event, reader) { return true }
        return false
    }
}

/// Predicates in raw memory, unretained: iterating them costs no reference counting. Whoever makes a list keeps
/// its predicates alive and deallocates it.
struct PredicateList {
    private let base: UnsafeMutablePointer<Unmanaged<Predicate>>
    let count: Int

    init(_ predicates: some Collection<Predicate>) {
        count = predicates.count
        base = .allocate(capacity: max(1, count))
        for (index, predicate) in predicates.enumerated() { (base + index).initialize(to: .passUnretained(predicate)) }
    }

    @inline(__always)
    func evaluate(_ index: Int, _ event: Event, _ reader: FieldReader) -> Bool {
        base[index]._withUnsafeGuaranteedRef { $0.evaluate(event, reader) }
    }

    func deallocate() { base.deallocate() }
}

final class NotPredicate: Predicate {
    let term: Predicate
    init(_ term: Predicate) { self.term = term }
    override var cost: Int { term.cost }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { !term.evaluate(event, reader) }
}

final class ExistsPredicate: FieldPredicate {
    init(_ field: FieldID, slot: Int = -1) { super.init(field: field, slot: slot) }
    override var cost: Int { FieldReader.cost(of: field) }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        scalar(event, reader).tag != .missing
    }
}

/// A test of one text field made of several terms (`proc.name in (…) or proc.name startswith …`), remembered
/// per value: its result depends on the field's symbol alone, so a value seen before is decided by one lookup.
final class FieldMemoPredicate: FieldPredicate {
    let inner: Predicate
    // Unchecked: a shard's detector alone evaluates its predicates, one event at a time.
    @exclusivity(unchecked) private var memo = SymbolFlags(maximumCapacity: 1 << 14)
    init(field: FieldID, slot: Int = -1, inner: Predicate) {
        self.inner = inner
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) + 2 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let value = scalar(event, reader)
        guard value.tag == .symbol else { return inner.evaluate(event, reader) }
        let symbol = value.symbol
        if let known = memo.value(for: symbol) { return known }
        let result = inner.evaluate(event, reader)
        memo.store(result, for: symbol)
        return result
    }
}

/// `=`, `!=`, `in` and `intersects` on text: symbol identity, since constants are interned when compiled.
///
/// On a list field `=` and `intersects` hold when any element is in the set, `in` when every element is
/// (Falco's rule for list fields), and `!=` when none is.
final class SymbolSetPredicate: FieldPredicate {
    let symbols: SymbolSet
    let comparison: ComparisonOperator
    private let negated: Bool
    init(field: FieldID, slot: Int = -1, symbols: Set<Symbol>, comparison: ComparisonOperator) {
        self.symbols = SymbolSet(symbols)
        self.comparison = comparison
        self.negated = comparison == .notEqual
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) + 1 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let value = scalar(event, reader)
        if value.tag == .symbol { return symbols.contains(value.symbol) != negated }
        guard value.tag == .other else { return false }
        switch read(event, reader) {
        case .symbol(let symbol):
            return symbols.contains(symbol) != negated
        case .symbols(let list):
            switch comparison {
            case .in: return list.allSatisfy { symbols.contains($0) }
            case .notEqual: return !list.contains { symbols.contains($0) }
            default: return list.contains { symbols.contains($0) }
            }
        default:
            return false
        }
    }
}

/// A text test other than identity (`contains`, `startswith`, `glob`, `pmatch`…), memoised by symbol; on a
/// list field it holds when any element passes.
final class TextPredicate: FieldPredicate {
    let test: (String) -> Bool
    // Unchecked: a shard's detector alone evaluates its predicates, one event at a time.
    @exclusivity(unchecked) private var memo = SymbolFlags(maximumCapacity: 1 << 14)
    init(field: FieldID, slot: Int = -1, test: @escaping (String) -> Bool) {
        self.test = test
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) + 2 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let value = scalar(event, reader)
        if value.tag == .symbol { return passes(value.symbol, reader) }
        guard value.tag == .other else { return false }
        switch read(event, reader) {
        case .symbol(let symbol): return passes(symbol, reader)
        case .symbols(let list): return list.contains { passes($0, reader) }
        default: return false
        }
    }
    private func passes(_ symbol: Symbol, _ reader: FieldReader) -> Bool {
        if let known = memo.value(for: symbol) { return known }
        let result = test(reader.symbols.string(symbol))
        memo.store(result, for: symbol)
        return result
    }
}

/// A text test on a number's text as Falco gives it (``NumberText``: `evt.arg.flags contains O_TRUNC`,
/// `ka.response.code startswith 2`), memoised by number and event kind.
final class NumberTextPredicate: FieldPredicate {
    private struct Key: Hashable {
        var number: Int64
        var kind: EventKind
    }

    let test: (String) -> Bool
    @exclusivity(unchecked) private var memo: [Key: Bool] = [:]
    /// The last answer, which a stream of events with the same number (open flags) repeats without hashing.
    @exclusivity(unchecked) private var last: (key: Key, result: Bool)?
    init(field: FieldID, slot: Int = -1, test: @escaping (String) -> Bool) {
        self.test = test
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) + 4 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let read = scalar(event, reader)
        guard read.tag == .number else { return false }
        let number = read.bits
        let key = Key(number: number, kind: event.kind)
        if let last, last.key == key { return last.result }
        if let known = memo[key] {
            last = (key, known)
            return known
        }
        let result = test(NumberText.text(number, field: field, kind: event.kind))
        if memo.count >= 1 << 12 { memo.removeAll(keepingCapacity: true) }
        memo[key] = result
        last = (key, result)
        return result
    }
}

/// A test of a field read from an event's details, remembered per details symbol: such a value depends on the
/// details text alone, so an event whose details were seen before is decided without reading them again.
final class DetailsPredicate: Predicate {
    let inner: Predicate
    @exclusivity(unchecked) private var memo = SymbolFlags(maximumCapacity: 1 << 12)
    init(_ inner: Predicate) { self.inner = inner }
    override var cost: Int { 20 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let details = FieldReader.details(of: event)
        if details.isNone { return inner.evaluate(event, reader) }
        if let known = memo.value(for: details) { return known }
        let result = inner.evaluate(event, reader)
        memo.store(result, for: details)
        return result
    }
}

/// `proc.aname` without an index: true when any known ancestor's name passes.
final class AnyAncestorPredicate: Predicate {
    let inner: (Symbol, FieldReader) -> Bool
    @exclusivity(unchecked) private var names: [Symbol] = []
    init(inner: @escaping (Symbol, FieldReader) -> Bool) { self.inner = inner }
    override var cost: Int { 30 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        reader.ancestorNames(of: event, into: &names)
        for name in names where inner(name, reader) { return true }
        return false
    }
}

final class NumberPredicate: FieldPredicate {
    let comparison: ComparisonOperator
    /// The constants, sorted: lists are short, so a scan beats hashing.
    let values: [Int64]
    let value: Int64
    init(field: FieldID, slot: Int = -1, comparison: ComparisonOperator, values: Set<Int64>) {
        self.comparison = comparison
        self.values = values.sorted()
        self.value = values.first ?? 0
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) }

    /// Whether `number` is one of the constants: a binary search, since lists of flags can be long.
    @inline(__always)
    private func contains(_ number: Int64) -> Bool {
        var low = 0
        var high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < number { low = middle + 1 } else { high = middle }
        }
        return low < values.count && values[low] == number
    }

    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let read = scalar(event, reader)
        guard read.tag == .number else { return false }
        let number = read.bits
        switch comparison {
        case .equal, .in, .intersects: return contains(number)
        case .notEqual: return !contains(number)
        case .less: return number < value
        case .lessOrEqual: return number <= value
        case .greater: return number > value
        case .greaterOrEqual: return number >= value
        default: return false
        }
    }
}

/// A boolean against the values it may take (`= true`, `!= true`, `in (true)`).
final class BoolPredicate: FieldPredicate {
    private let acceptsTrue: Bool
    private let acceptsFalse: Bool
    init(field: FieldID, slot: Int = -1, accepted: Set<Bool>) {
        self.acceptsTrue = accepted.contains(true)
        self.acceptsFalse = accepted.contains(false)
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let value = scalar(event, reader)
        guard value.tag == .bool else { return false }
        return value.bits != 0 ? acceptsTrue : acceptsFalse
    }
}

/// An address against addresses and CIDR ranges.
final class AddressPredicate: FieldPredicate {
    let ranges: [AddressRange]
    let negated: Bool
    init(field: FieldID, slot: Int = -1, ranges: [AddressRange], negated: Bool) {
        self.ranges = ranges
        self.negated = negated
        super.init(field: field, slot: slot)
    }
    override var cost: Int { FieldReader.cost(of: field) + ranges.count / 4 }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .address(let address) = read(event, reader) else { return false }
        for range in ranges where range.contains(address) { return !negated }
        return negated
    }
}

/// An address, or a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`).
///
/// The network and its mask are kept as the four words of ``IPAddress``, so a test is four masked compares with
/// no allocation. An IPv4 address sits in the last word (`::ffff:a.b.c.d`): its prefix counts from there.
struct AddressRange: Equatable {
    let address: IPAddress
    let prefixLength: Int
    private let network: [UInt32]
    private let mask: [UInt32]

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let maximum = address.family == .v4 ? 32 : 128
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        self.address = address
        // Mask bits per word, counted from the first word of the family's address.
        var remaining = prefixLength
        var mask: [UInt32] = [0, 0, 0, 0]
        for index in (address.family == .v4 ? 3 : 0)..<4 where remaining > 0 {
            let bits = min(32, remaining)
            mask[index] = bits == 32 ? .max : ~(UInt32.max >> UInt32(bits))
            remaining -= bits
        }
        let words = [address.words.0, address.words.1, address.words.2, address.words.3]
        self.mask = mask
        self.network = zip(words, mask).map { $0 & $1 }
    }

    func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.family == address.family else { return false }
        let words = candidate.words
        return words.0 & mask[0] == network[0] && words.1 & mask[1] == network[1]
            && words.2 & mask[2] == network[2] && words.3 & mask[3] == network[3]
    }
}
