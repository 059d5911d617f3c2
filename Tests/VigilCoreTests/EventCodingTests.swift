import Testing
import VigilCore
import VigilTestKit

@Suite("JSON Lines event encoding")
struct EventCodingTests {
    @Test("every event kind survives encode → decode into a fresh symbol table", arguments: EventKind.allCases)
    func roundTrip(kind: EventKind) throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols)
        let workload = builder.workload(namespace: "shop", deployment: "web", container: "app")
        let event = builder.sample(of: kind, workload: workload)
        var encoder = EventEncoder(symbols: symbols)
        let line = encoder.line(for: event)
        #expect(!line.contains("\n"))

        // Decoding into another table gives other symbol numbers, so compare by re-encoding.
        let otherSymbols = SymbolTable()
        _ = otherSymbols.intern("shift every symbol number")
        let decoded = try EventDecoder(symbols: otherSymbols).decode(line: line)
        var otherEncoder = EventEncoder(symbols: otherSymbols)
        #expect(otherEncoder.line(for: decoded) == line)
        #expect(decoded.kind == kind)
        #expect(decoded.time == event.time)
        #expect(decoded.process == event.process)
        #expect(decoded.uid == event.uid)
        #expect(decoded.fields.group == kind.fieldGroup)

        // Decoding into the same table gives an identical value.
        #expect(try EventDecoder(symbols: symbols).decode(line: line) == event)
    }

    @Test("an exec event has the documented shape")
    func execShape() throws {
        let symbols = SymbolTable()
        var builder = EventBuilder(symbols: symbols, start: 1_795_910_400_000_000_001)
        let event = builder.exec(
            pid: 42, parent: 7, executable: "/bin/sh", arguments: ["sh", "-c", "id; whoami"], uid: 1000)
        var encoder = EventEncoder(symbols: symbols)
        let object = try #require(try JSONParser.parse(encoder.line(for: event)).object)
        #expect(object["type"]?.string == "event")
        #expect(object["time"]?.string == "2026-11-29T00:00:00.000000001Z")
        #expect(object["kind"]?.string == "process.exec")
        #expect(object["layer"]?.string == "workload")
        #expect(object["workload"]?["kind"]?.string == "host")
        #expect(object["process"]?["pid"]?.int64 == 42)
        #expect(object["uid"]?.int64 == 1000)
        let fields = try #require(object["fields"]?.object)
        #expect(fields["executable"]?.string == "/bin/sh")
        #expect(fields["args"]?.array?.compactMap(\.string) == ["sh", "-c", "id; whoami"])
        #expect(fields["parent"]?["pid"]?.int64 == 7)
    }

    @Test("no arguments and one empty argument stay different", arguments: [[], [""], ["", ""], ["a", ""], ["sh"]])
    func argumentLists(arguments: [String]) throws {
        let symbols = SymbolTable()
        #expect(ArgumentList.split(ArgumentList.join(arguments)) == arguments)
        var builder = EventBuilder(symbols: symbols)
        let event = builder.exec(pid: 3, executable: "/bin/x", arguments: arguments)
        var encoder = EventEncoder(symbols: symbols)
        let decoded = try EventDecoder(symbols: SymbolTable()).decode(line: encoder.line(for: event))
        guard case .process(let fields) = decoded.fields else { Issue.record("not a process event"); return }
        #expect(fields.arguments.isNone == arguments.isEmpty)
        let object = try #require(try JSONParser.parse(encoder.line(for: event)).object)
        #expect(object["fields"]?["args"]?.array?.compactMap(\.string) ?? [] == arguments)
    }

    @Test("unknown members are ignored so newer files still load")
    func unknownMembers() throws {
        let line =
            #"{"type":"event","time":"2026-01-01T00:00:00Z","kind":"file.open","future":{"x":1},"#
            + #""fields":{"path":"/etc/hosts","flags":0,"mode":0,"result":3,"inode":123}}"#
        let symbols = SymbolTable()
        let event = try EventDecoder(symbols: symbols).decode(line: line)
        guard case .file(let fields) = event.fields else { Issue.record("not a file event"); return }
        #expect(symbols.string(fields.path) == "/etc/hosts")
        #expect(event.workload == .host)
    }

    @Test(
        "malformed events give an error that names the problem",
        arguments: [
            (#"{"kind":"file.open"}"#, EventDecodingError.Code.missingField, "time"),
            (#"{"time":"2026-01-01T00:00:00Z","kind":"file.teleport"}"#, .unknownKind, "kind"),
            (#"{"time":"yesterday","kind":"file.open"}"#, .invalidField, "time"),
            (
                #"{"time":"2026-01-01T00:00:00Z","kind":"network.connect","fields":{"remote_port":70000}}"#,
                .invalidField,
                "fields.remote_port"
            ),
            (
                #"{"time":"2026-01-01T00:00:00Z","kind":"network.connect","fields":{"remote_address":"999.1.1.1"}}"#,
                .invalidField, "fields.remote_address"
            ),
            (
                #"{"time":"2026-01-01T00:00:00Z","kind":"process.exec","fields":{"args":["a",3]}}"#, .invalidField,
                "fields.args[1]"
            ),
            (
                #"{"time":"2026-01-01T00:00:00Z","kind":"ptrace","fields":{"request":16}}"#, .missingField,
                "fields.target"
            ),
            (#"{"type":"finding","time":"2026-01-01T00:00:00Z","kind":"file.open"}"#, .notAnEvent, "type"),
            (#"[1,2]"#, .notAnEvent, ""),
            (#"{"time":"2026-01-01T00:00:00Z","kind":"file.open""#, .invalidJSON, ""),
        ])
    func malformed(line: String, code: EventDecodingError.Code, field: String) {
        #expect {
            _ = try EventDecoder(symbols: SymbolTable()).decode(line: line)
        } throws: { error in
            guard let error = error as? EventDecodingError else { return false }
            return error.code == code && error.field == field
        }
    }

    @Test("events are fixed-size and trivially copyable")
    func eventLayout() {
        func requireBitwiseCopyable<T: BitwiseCopyable>(_: T.Type) {}
        requireBitwiseCopyable(Event.self)
        #expect(MemoryLayout<Event>.size <= 128)
    }
}

@Suite("Addresses")
struct IPAddressTests {
    @Test(
        "parse and print",
        arguments: [
            ("127.0.0.1", "127.0.0.1"), ("10.0.0.255", "10.0.0.255"), ("::1", "::1"), ("fe80::1", "fe80::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::", "::"), ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("2001:DB8::7", "2001:db8::7"),
        ])
    func parsePrint(text: String, expected: String) throws {
        #expect(try #require(IPAddress(text)).description == expected)
    }

    @Test("invalid text is rejected", arguments: ["", "1.2.3", "256.1.1.1", "1.2.3.4.5", "1::2::3", "12345::", "x"])
    func invalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("loopback")
    func loopback() {
        #expect(IPAddress("127.9.9.9")!.isLoopback)
        #expect(IPAddress("::1")!.isLoopback)
        #expect(!IPAddress("169.254.169.254")!.isLoopback)
    }
}

@Suite("Symbols")
struct SymbolTableTests {
    @Test("interning is idempotent and resolves back")
    func intern() {
        let table = SymbolTable()
        let a = table.intern("/bin/sh")
        #expect(table.intern("/bin/sh") == a)
        #expect(table.string(a) == "/bin/sh")
        #expect(table.intern("") == .none)
        #expect(table.lookup("/never") == nil)
    }

    @Test("a full table maps new strings to overflow and counts them")
    func bound() {
        let table = SymbolTable(maximumSymbols: 4)
        let first = table.intern("a")
        let second = table.intern("b")
        #expect(first != .overflow && second != .overflow)
        #expect(table.intern("c") == .overflow)
        #expect(table.intern("d") == .overflow)
        #expect(table.intern("a") == first)
        #expect(table.overflowCount == 2)
    }

    @Test("workloads intern by identity")
    func workloads() {
        let table = SymbolTable()
        let web = Workload(
            kind: .kubernetes, namespace: "shop", ownerKind: "Deployment", ownerName: "web", containerName: "app")
        let id = table.intern(web)
        #expect(id != .host)
        #expect(table.intern(web) == id)
        #expect(table.workload(id).name == "shop/Deployment/web/app")
        #expect(table.workload(.host).name == "host")
    }
}
