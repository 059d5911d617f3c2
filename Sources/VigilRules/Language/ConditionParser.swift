/// Parses condition text in Falco's syntax into a ``ConditionNode``:
///
/// ```
/// condition  := or
/// or         := and ('or' and)*
/// and        := not ('and' not)*
/// not        := 'not' not | primary
/// primary    := '(' condition ')' | field 'exists' | field operator operand | macro-name
/// operand    := value | '(' value (',' value)* ')'
/// ```
///
/// Values are quoted (`'…'` or `"…"`, with backslash escapes) or bare words (`/etc/shadow`, `execve`,
/// `127.0.0.1`); a bare word ends at white space, a comma or a parenthesis. Errors carry the line and column
/// of the offending token.
public struct ConditionParser {
    private let bytes: [UInt8]
    private var index = 0
    private let firstLine: Int
    private let rule: String

    /// Parses `text`; `line` is the line the condition starts on in its file (for messages), `rule` the name
    /// of the rule or macro it belongs to.
    public static func parse(_ text: String, line: Int = 0, rule: String = "") throws(RuleError) -> ConditionNode {
        var parser = ConditionParser(bytes: Array(text.utf8), firstLine: line, rule: rule)
        let node = try parser.parseOr()
        parser.skipSpace()
        if parser.index < parser.bytes.count {
            throw parser.error(.syntax, token: parser.peekToken(), "unexpected text after the condition")
        }
        return node
    }

    private init(bytes: [UInt8], firstLine: Int, rule: String) {
        self.bytes = bytes
        self.firstLine = firstLine
        self.rule = rule
    }

    // MARK: Grammar

    private mutating func parseOr() throws(RuleError) -> ConditionNode {
        var terms = [try parseAnd()]
        while consumeKeyword("or") { terms.append(try parseAnd()) }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd() throws(RuleError) -> ConditionNode {
        var terms = [try parseNot()]
        while consumeKeyword("and") { terms.append(try parseNot()) }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseNot() throws(RuleError) -> ConditionNode {
        if consumeKeyword("not") { return .not(try parseNot()) }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(RuleError) -> ConditionNode {
        skipSpace()
        guard index < bytes.count else {
            throw error(.syntax, token: "", "the condition ends where a test was expected")
        }
        if bytes[index] == UInt8(ascii: "(") {
            index += 1
            let inner = try parseOr()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ")") else {
                throw error(.syntax, token: peekToken(), "expected ')' to close the group")
            }
            index += 1
            return inner
        }
        let location = currentLocation()
        let name = readIdentifier()
        guard !name.isEmpty else { throw error(.syntax, token: peekToken(), "expected a field, a macro or '('") }
        if ["and", "or", "not"].contains(name) {
            throw RuleError(
                code: .syntax, rule: rule, location: location, token: name,
                message: "'\(name)' where a test was expected")
        }
        var argument: String?
        if index < bytes.count && bytes[index] == UInt8(ascii: "[") {
            argument = try readBracketArgument()
        }
        let field = FieldReference(name: name, argument: argument, location: location)
        // A name with no operator after it is a macro.
        let saved = index
        skipSpace()
        let operatorLocation = currentLocation()
        guard let spelling = readOperatorSpelling() else {
            index = saved
            if argument != nil {
                throw error(.syntax, token: peekToken(), "expected an operator after \(field.spelled)")
            }
            return .macro(name, location)
        }
        if spelling == "exists" { return .exists(field) }
        guard let comparison = ComparisonOperator(spelling: spelling) else {
            // A word that is no operator: the name was a macro and the word starts something else.
            index = saved
            if argument != nil || name.contains(".") {
                throw RuleError(
                    code: .syntax, rule: rule, location: operatorLocation, token: spelling,
                    message: "'\(spelling)' is not an operator after \(field.spelled)")
            }
            return .macro(name, location)
        }
        let operand = try readOperand(list: comparison.takesList)
        return .comparison(field, comparison, operand, operatorLocation)
    }

    // MARK: Tokens

    private mutating func consumeKeyword(_ keyword: String) -> Bool {
        skipSpace()
        let saved = index
        let word = readIdentifier()
        if word == keyword { return true }
        index = saved
        return false
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    private mutating func readIdentifier() -> String {
        let start = index
        while index < bytes.count, Self.isIdentifierByte(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// `[2]`, `[/metadata/name]`, `[foo bar]`: everything up to the matching `]`.
    private mutating func readBracketArgument() throws(RuleError) -> String {
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "]") { index += 1 }
        guard index < bytes.count else { throw error(.syntax, token: "[", "a field argument is not closed with ']'") }
        let argument = String(decoding: bytes[start..<index], as: UTF8.self)
        index += 1
        return argument.trimmingQuotes()
    }

    /// `=`, `==`, `!=`, `<`, `<=`, `>`, `>=`, or a word operator; nil when none is there.
    private mutating func readOperatorSpelling() -> String? {
        guard index < bytes.count else { return nil }
        let symbols: [UInt8] = Array("=!<>".utf8)
        if symbols.contains(bytes[index]) {
            let start = index
            index += 1
            if index < bytes.count && bytes[index] == UInt8(ascii: "=") { index += 1 }
            let spelling = String(decoding: bytes[start..<index], as: UTF8.self)
            return spelling == "!" ? nil : spelling
        }
        let start = index
        while index < bytes.count, (bytes[index] >= 0x61 && bytes[index] <= 0x7A) { index += 1 }
        if start == index { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func readOperand(list: Bool) throws(RuleError) -> Operand {
        skipSpace()
        guard index < bytes.count else { throw error(.syntax, token: "", "a comparison has no value") }
        if bytes[index] == UInt8(ascii: "(") {
            index += 1
            var items: [String] = []
            while true {
                skipSpace()
                guard index < bytes.count else { throw error(.syntax, token: "(", "a list is not closed with ')'") }
                if bytes[index] == UInt8(ascii: ")") {
                    index += 1
                    break
                }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                items.append(try readValue())
            }
            return .list(items)
        }
        if list {
            // Falco accepts `x in list_name` only inside parentheses; a bare word here is a list's name.
            return .list([try readValue()])
        }
        return .value(try readValue())
    }

    private mutating func readValue() throws(RuleError) -> String {
        skipSpace()
        guard index < bytes.count else { throw error(.syntax, token: "", "a value is missing") }
        let quote = bytes[index]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            let location = currentLocation()
            index += 1
            var value: [UInt8] = []
            while index < bytes.count, bytes[index] != quote {
                if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    index += 1
                    switch bytes[index] {
                    case UInt8(ascii: "n"): value.append(0x0A)
                    case UInt8(ascii: "t"): value.append(0x09)
                    default: value.append(bytes[index])
                    }
                } else {
                    value.append(bytes[index])
                }
                index += 1
            }
            guard index < bytes.count else {
                throw RuleError(
                    code: .syntax, rule: rule, location: location, token: String(UnicodeScalar(quote)),
                    message: "a quoted value is not closed")
            }
            index += 1
            return String(decoding: value, as: UTF8.self)
        }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if [0x20, 0x09, 0x0A, 0x0D].contains(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ")")
                || byte == UInt8(ascii: "(")
            {
                break
            }
            index += 1
        }
        guard start < index else { throw error(.syntax, token: peekToken(), "expected a value") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: Errors

    private func currentLocation() -> SourceLocation {
        var line = 0
        var column = 1
        for position in 0..<min(index, bytes.count) {
            if bytes[position] == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(line: firstLine == 0 ? 0 : firstLine + line, column: column)
    }

    private func peekToken() -> String {
        var end = index
        while end < bytes.count, ![0x20, 0x09, 0x0A, 0x0D].contains(bytes[end]), end - index < 40 { end += 1 }
        return String(decoding: bytes[index..<end], as: UTF8.self)
    }

    private func error(_ code: RuleError.Code, token: String, _ message: String) -> RuleError {
        RuleError(code: code, rule: rule, location: currentLocation(), token: token, message: message)
    }
}

extension String {
    /// The text without one pair of surrounding quotes.
    func trimmingQuotes() -> String {
        guard count >= 2, let first = first, let last = last, first == last, first == "\"" || first == "'" else {
            return self
        }
        return String(dropFirst().dropLast())
    }
}
