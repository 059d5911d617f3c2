import Testing
import VigilCore

@Suite("Event details")
struct EventDetailsTests {
    @Test("details of Kubernetes and cloud events survive encode → decode as their JSON text")
    func detailsRoundTrip() throws {
        let symbols = SymbolTable()
        let details = #"{"user":{"username":"alice","groups":["system:masters"]},"stage":"ResponseComplete"}"#
        let events = [
            Event(
                time: 1, kind: .kubernetesRequest, principal: symbols.intern("alice"),
                fields: .kubernetes(
                    KubernetesFields(
                        verb: symbols.intern("create"), resource: symbols.intern("pods"), responseCode: 201,
                        details: symbols.intern(details)))),
            Event(
                time: 2, kind: .cloudAPICall,
                fields: .cloud(
                    CloudFields(
                        provider: .aws, service: symbols.intern("iam"), action: symbols.intern("CreateUser"),
                        details: symbols.intern(#"{"requestParameters":{"userName":"bob"}}"#)))),
        ]
        var encoder = EventEncoder(symbols: symbols)
        for event in events {
            let line = encoder.line(for: event)
            let fields = try #require(try JSONParser.parse(line)["fields"]?.object)
            #expect(fields["details"]?.string?.hasPrefix("{\"") == true)
            #expect(try EventDecoder(symbols: symbols).decode(line: line) == event)
        }
        // No details, no member.
        let bare = Event(
            time: 3, kind: .kubernetesRequest,
            fields: .kubernetes(KubernetesFields(verb: symbols.intern("get"), resource: symbols.intern("pods"))))
        #expect(!encoder.line(for: bare).contains("details"))
    }

    @Test("details that are not the JSON text of an object are rejected, naming the field")
    func invalidDetails() {
        let line =
            #"{"type":"event","time":"2026-11-29T00:00:00Z","kind":"k8s.request","fields":{"verb":"get","details":"{not json"}}"#
        #expect(throws: EventDecodingError.self) { try EventDecoder(symbols: SymbolTable()).decode(line: line) }
        do {
            _ = try EventDecoder(symbols: SymbolTable()).decode(line: line)
        } catch {
            #expect(error.code == .invalidField)
            #expect(error.field == "fields.details")
        }
    }

    @Test("the Kubernetes and cloud event layouts still fit the fixed event size")
    func eventSize() {
        #expect(MemoryLayout<Event>.size <= 128)
        #expect(MemoryLayout<KubernetesFields>.size <= 56)
        #expect(MemoryLayout<CloudFields>.size <= 64)
    }

    /// Validated JSON texts the compact copy must write exactly as parsing and writing them does.
    static let awkwardValues = [
        #"{ "a" : [ 1 , -2 , 0 , 3.5 , 1e3 , -0 , 12345678901234567890 , 123456789012345678 ] }"#,
        #"{"s":"plain","e":"tab\there \"quoted\" \\ \/ \u00e9 \ud83d\ude00 \u0001","k\u0041":true}"#,
        #"[null,true,false,{},[],{"dup":1,"dup":2}]"#,
        "\"top\"", "-12", "0.000001", "{\n\t\"nested\": {\"deep\": [[[\"x\"]]]}\r\n}", "\"caf\u{e9} \u{1F600}\"",
    ]

    @Test("a compact copy of validated JSON bytes equals writing the parsed value", arguments: awkwardValues)
    func compactCopy(text: String) throws {
        let parsed = try JSONParser.parse(text)
        var expected = JSONWriter()
        expected.beginArray()
        expected.value(parsed)
        expected.value(parsed)
        expected.endArray()
        var copied = JSONWriter()
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            let scanner = JSONByteScanner(buffer)
            #expect(scanner.validValue(at: 0, depth: 0) == bytes.count)
            copied.beginArray()
            copied.compactValue(scanner, at: 0)
            copied.compactValue(scanner, at: 0)
            copied.endArray()
        }
        #expect(copied.text == expected.text)
    }

    @Test("details keep the listed members in order, leave out null ones, and shrink when too long")
    func detailsFormat() throws {
        let format = EventDetailsFormat(keys: ["a", "big", "c"], droppable: ["big"], maximumLength: 64)
        let members: [String: JSONValue] = [
            "c": .integer(3), "a": .string("x"), "other": .bool(true), "big": .string("small"),
        ]
        #expect(format.text { members[$0] } == #"{"a":"x","big":"small","c":3}"#)
        let large: [String: JSONValue] = ["a": .string("x"), "big": .string(String(repeating: "y", count: 100))]
        #expect(format.text { large[$0] } == #"{"a":"x"}"#)
        let tooLarge: [String: JSONValue] = ["a": .string(String(repeating: "z", count: 100))]
        #expect(format.text { tooLarge[$0] } == "")
        #expect(format.text { $0 == "a" ? .null : nil } == "")
    }
}
