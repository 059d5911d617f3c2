import VigilCore

/// A compiled condition, evaluated per event with no allocation once its caches are warm.
///
/// Predicates hold per-shard caches (string tests memoised by symbol), so each shard compiles its own.
class Predicate {
    func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { false }
}

final class ConstantPredicate: Predicate {
    let value: Bool
    init(_ value: Bool) { self.value = value }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { value }
}

final class AndPredicate: Predicate {
    let terms: [Predicate]
    init(_ terms: [Predicate]) { self.terms = terms }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        for term in terms where !term.evaluate(event, reader) { return false }
        return true
    }
}

final class OrPredicate: Predicate {
    let terms: [Predicate]
    init(_ terms: [Predicate]) { self.terms = terms }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        for term in terms where term.evaluate(event, reader) { return true }
        return false
    }
}

final class NotPredicate: Predicate {
    let term: Predicate
    init(_ term: Predicate) { self.term = term }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool { !term.evaluate(event, reader) }
}

final class ExistsPredicate: Predicate {
    let field: FieldID
    init(_ field: FieldID) { self.field = field }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        reader.value(field, in: event) != .missing
    }
}

/// `=`, `!=`, `in` and `intersects` on text: symbol identity, since constants are interned when compiled.
///
/// On a list field `=` and `intersects` hold when any element is in the set, `in` when every element is
/// (Falco's rule for list fields), and `!=` when none is.
final class SymbolSetPredicate: Predicate {
    let field: FieldID
    let symbols: Set<Symbol>
    let comparison: ComparisonOperator
    init(field: FieldID, symbols: Set<Symbol>, comparison: ComparisonOperator) {
        self.field = field
        self.symbols = symbols
        self.comparison = comparison
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        switch reader.value(field, in: event) {
        case .symbol(let symbol):
            return symbols.contains(symbol) != (comparison == .notEqual)
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
final class TextPredicate: Predicate {
    let field: FieldID
    let test: (String) -> Bool
    private var memo: [Symbol: Bool] = [:]
    init(field: FieldID, test: @escaping (String) -> Bool) {
        self.field = field
        self.test = test
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        switch reader.value(field, in: event) {
        case .symbol(let symbol): return passes(symbol, reader)
        case .symbols(let list): return list.contains { passes($0, reader) }
        default: return false
        }
    }
    private func passes(_ symbol: Symbol, _ reader: FieldReader) -> Bool {
        if let known = memo[symbol] { return known }
        let result = test(reader.symbols.string(symbol))
        if memo.count >= 1 << 16 { memo.removeAll(keepingCapacity: true) }
        memo[symbol] = result
        return result
    }
}

/// A text test on a number's text as Falco gives it (``NumberText``: `evt.arg.flags contains O_TRUNC`,
/// `ka.response.code startswith 2`), memoised by number and event kind.
final class NumberTextPredicate: Predicate {
    private struct Key: Hashable {
        var number: Int64
        var kind: EventKind
    }

    let field: FieldID
    let test: (String) -> Bool
    private var memo: [Key: Bool] = [:]
    init(field: FieldID, test: @escaping (String) -> Bool) {
        self.field = field
        self.test = test
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .number(let number) = reader.value(field, in: event) else { return false }
        let key = Key(number: number, kind: event.kind)
        if let known = memo[key] { return known }
        let result = test(NumberText.text(number, field: field, kind: event.kind))
        if memo.count >= 1 << 12 { memo.removeAll(keepingCapacity: true) }
        memo[key] = result
        return result
    }
}

/// A test of a field read from an event's details, remembered per details symbol: such a value depends on the
/// details text alone, so an event whose details were seen before is decided without reading them again.
final class DetailsPredicate: Predicate {
    let inner: Predicate
    private var memo: [Symbol: Bool] = [:]
    init(_ inner: Predicate) { self.inner = inner }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        let details = FieldReader.details(of: event)
        if details.isNone { return inner.evaluate(event, reader) }
        if let known = memo[details] { return known }
        let result = inner.evaluate(event, reader)
        if memo.count >= 1 << 12 { memo.removeAll(keepingCapacity: true) }
        memo[details] = result
        return result
    }
}

/// `proc.aname` without an index: true when any known ancestor's name passes.
final class AnyAncestorPredicate: Predicate {
    let inner: (Symbol, FieldReader) -> Bool
    private var names: [Symbol] = []
    init(inner: @escaping (Symbol, FieldReader) -> Bool) { self.inner = inner }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        reader.ancestorNames(of: event, into: &names)
        for name in names where inner(name, reader) { return true }
        return false
    }
}

final class NumberPredicate: Predicate {
    let field: FieldID
    let comparison: ComparisonOperator
    let values: Set<Int64>
    let value: Int64
    init(field: FieldID, comparison: ComparisonOperator, values: Set<Int64>) {
        self.field = field
        self.comparison = comparison
        self.values = values
        self.value = values.first ?? 0
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .number(let number) = reader.value(field, in: event) else { return false }
        switch comparison {
        case .equal, .in, .intersects: return values.contains(number)
        case .notEqual: return !values.contains(number)
        case .less: return number < value
        case .lessOrEqual: return number <= value
        case .greater: return number > value
        case .greaterOrEqual: return number >= value
        default: return false
        }
    }
}

/// A boolean against the values it may take (`= true`, `!= true`, `in (true)`).
final class BoolPredicate: Predicate {
    let field: FieldID
    let accepted: Set<Bool>
    init(field: FieldID, accepted: Set<Bool>) {
        self.field = field
        self.accepted = accepted
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .bool(let value) = reader.value(field, in: event) else { return false }
        return accepted.contains(value)
    }
}

/// An address against addresses and CIDR ranges.
final class AddressPredicate: Predicate {
    let field: FieldID
    let ranges: [AddressRange]
    let negated: Bool
    init(field: FieldID, ranges: [AddressRange], negated: Bool) {
        self.field = field
        self.ranges = ranges
        self.negated = negated
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .address(let address) = reader.value(field, in: event) else { return false }
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
