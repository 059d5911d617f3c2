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

/// `=`, `!=` and `in` on text: symbol identity, since constants are interned when compiled.
final class SymbolSetPredicate: Predicate {
    let field: FieldID
    let symbols: Set<Symbol>
    let negated: Bool
    init(field: FieldID, symbols: Set<Symbol>, negated: Bool) {
        self.field = field
        self.symbols = symbols
        self.negated = negated
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .symbol(let symbol) = reader.value(field, in: event) else { return false }
        return symbols.contains(symbol) != negated
    }
}

/// A text test other than identity (`contains`, `startswith`, `glob`, `pmatch`…), memoised by symbol.
final class TextPredicate: Predicate {
    let field: FieldID
    let test: (String) -> Bool
    private var memo: [Symbol: Bool] = [:]
    init(field: FieldID, test: @escaping (String) -> Bool) {
        self.field = field
        self.test = test
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .symbol(let symbol) = reader.value(field, in: event) else { return false }
        if let known = memo[symbol] { return known }
        let result = test(reader.symbols.string(symbol))
        if memo.count >= 1 << 16 { memo.removeAll(keepingCapacity: true) }
        memo[symbol] = result
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

final class BoolPredicate: Predicate {
    let field: FieldID
    let expected: Bool
    init(field: FieldID, expected: Bool) {
        self.field = field
        self.expected = expected
    }
    override func evaluate(_ event: Event, _ reader: FieldReader) -> Bool {
        guard case .bool(let value) = reader.value(field, in: event) else { return false }
        return value == expected
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
struct AddressRange: Equatable {
    let address: IPAddress
    let prefixLength: Int

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
    }

    func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.family == address.family else { return false }
        let network = address.bytes
        let bytes = candidate.bytes
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if network[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}
