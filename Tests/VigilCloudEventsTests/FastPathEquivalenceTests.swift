import Foundation
import Testing
import VigilCloudEvents
import VigilCore

/// The byte-level CloudTrail path (`CloudEventDecoder(fastPath: true)`, the default) must give exactly what the
/// full JSON tree path gives: the same events (symbols included, each side with its own table) and the same
/// skips, for every record of the real data and for hand-made awkward records.
@Suite struct FastPathEquivalenceTests {
    /// Events and skips of `bytes`, read with or without the fast path.
    static func read(_ bytes: [UInt8], fastPath: Bool) throws -> (events: [Event], skipped: CloudSkipCounts) {
        let symbols = SymbolTable()
        var decoder = try CloudEventDecoder(bytes: bytes, symbols: symbols, path: "input", fastPath: fastPath)
        var batch = EventBatch()
        while decoder.fill(&batch, upTo: 64) {}
        return (Array(batch.events), decoder.skipped)
    }

    /// Every JSON, JSON-lines and gzip file under ../shared/data/cloudtrail.
    static func dataFiles() -> [String] {
        let root = DataPaths.path("cloudtrail")
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".json") || relative.hasSuffix(".jsonl") || relative.hasSuffix(".gz") {
                files.append(root + "/" + relative)
            }
        }
        return files.sorted()
    }

    /// All 38 CloudTrail files of the shared data (35 Stratus detonations, 3 Panther test-case files):
    /// identical events and skips, record for record.
    @Test func realDataGivesIdenticalEvents() throws {
        var files = 0
        var events = 0
        var skips = 0
        for path in Self.dataFiles() {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let fast = try Self.read(bytes, fastPath: true)
            let tree = try Self.read(bytes, fastPath: false)
            #expect(fast.events.count == tree.events.count, "\(path)")
            for (index, pair) in zip(fast.events, tree.events).enumerated() where pair.0 != pair.1 {
                Issue.record("\(path) event \(index): \(pair.0) != \(pair.1)")
            }
            #expect(fast.skipped == tree.skipped, "\(path)")
            files += 1
            events += tree.events.count
            skips += tree.skipped.total
        }
        print("fast path equivalence: \(files) files, \(events) events, \(skips) skipped records")
        #expect(files == 38)
        #expect(events >= 310)
    }

    /// The same real records again as one `{"Records": [...]}` delivery file (plain and gzip) and as JSON lines.
    @Test func realRecordsInEveryContainerGiveIdenticalEvents() throws {
        var records: [String] = []
        for path in Self.dataFiles() where path.hasSuffix(".json") {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            guard case .array(let list) = try JSONParser.parse(bytes) else { continue }
            for value in list {
                var writer = JSONWriter()
                writer.value(value)
                records.append(writer.text)
            }
        }
        #expect(records.count >= 310)
        let delivery = Array(("{\"Records\":[" + records.joined(separator: ",") + "]}").utf8)
        let lines = Array(records.joined(separator: "\n").utf8)
        for bytes in [delivery, lines] {
            let fast = try Self.read(bytes, fastPath: true)
            let tree = try Self.read(bytes, fastPath: false)
            #expect(fast.events == tree.events)
            #expect(fast.skipped == tree.skipped)
            #expect(fast.events.count == records.count)
        }
    }

    /// Records built to take every fallback: escapes, duplicate and escaped keys, wrong types, envelopes,
    /// export time forms, missing members, MFA variants, resources, invalid JSON and nesting.
    @Test func awkwardRecordsGiveIdenticalEvents() throws {
        let base =
            #""eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"iam.amazonaws.com","#
            + #""eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1""#
        let identity = #""userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"}"#
        let records = [
            "{\(base),\(identity)}",
            "{\(base),\(identity),\"readOnly\":true,\"errorCode\":\"AccessDenied\",\"recipientAccountId\":\"2\"}",
            #"{"eventVersion":"1.08","eventTime":"2024-01-02 03:04:05.123 UTC","eventSource":"s3.amazonaws.com","#
                + #""eventName":"GetObject"}"#,
            #"{"eventVersion":"2.0","eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","eventName":"Y"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","event\u004eame":"X"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s\u002ecom","eventName":"Get\u0041\"x\"","#
                + #""userAgent":"caf\u00e9 \ud83d\ude00","awsRegion":7}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","userAgent":"caf\u00e9"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","userIdentity":[1]}"#,
            #"{"eventTime":"nope","eventSource":"s","eventName":"X"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"","eventName":"X"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventName":"X"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"lambda.amazonaws.com","#
                + #""eventName":"UpdateFunctionCode20150331v2","userIdentity":{"type":"AssumedRole","#
                + #""arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"attributes":"#
                + #"{"mfaAuthenticated":"true"}}}}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","#
                + #""additionalEventData":{"MFAUsed":"Yes"},"userIdentity":{"type":"Root","accountId":"9"}}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","#
                + #""additionalEventData":"x"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","userIdentity":{"#
                + #""type":"AWSService","invokedBy":"ec2.amazonaws.com"},"requestParameters":{"name":"","#
                + #""roleName":"r","userName":null}}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","requestParameters":5,"#
                + #""resources":[{"arn":"a","ARN":null}]}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","#
                + #""resources":[{"accountId":"1","arn":"arn:x"}]}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","resources":["a"]}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","userIdentity":{"#
                + #""type":"IAMUser","principalId":"P","sessionContext":{"attributes":{"mfaAuthenticated":true},"#
                + #""attributes":{}}}}"#,
            #"{"detail-type":"AWS API Call via CloudTrail","detail":{\#(base)}}"#,
            #"{"rule_id":"r","log":{\#(base),\#(identity)}}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","n":[1.5e3,-0,{"a":[]}]}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","n":01}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","s":"\ud800"}"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X","s":"\x"}"#,
            "{\"eventTime\":\"2024-01-02T03:04:05Z\",\"eventSource\":\"s\",\"eventName\":\"X\",\"s\":\"\u{1}\"}",
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X"} trailing"#,
            #"{"eventTime":"2024-01-02T03:04:05Z","eventSource":"s","eventName":"X""#,
            #"{"protoPayload":{"methodName":"m"},"resource":{"type":"gce_instance"}}"#,
            #"[1, 2]"#,
            #""just a string""#,
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        // As JSON lines (each record on its own), and as arrays and delivery files of the valid ones.
        let lines = Array(records.joined(separator: "\n").utf8)
        let valid = records.filter { (try? JSONParser.parse($0)) != nil }
        let array = Array(("[" + valid.joined(separator: ",") + "]").utf8)
        let delivery = Array(("{\"Other\":[1,{}],\"Records\":[" + valid.joined(separator: ",") + "]}").utf8)
        let broken = Array(("{\"Records\":[" + valid.joined(separator: ",") + ",{]}").utf8)
        let twice = Array(("{\"Records\":[" + valid[0] + "],\"Records\":[]}").utf8)
        let notArray = Array(#"{"Records":{"a":1}}"#.utf8)
        for bytes in [lines, array, delivery, broken, twice, notArray] {
            let fast = try Self.read(bytes, fastPath: true)
            let tree = try Self.read(bytes, fastPath: false)
            #expect(fast.events == tree.events, "\(String(decoding: bytes.prefix(40), as: UTF8.self))")
            #expect(fast.skipped == tree.skipped, "\(String(decoding: bytes.prefix(40), as: UTF8.self))")
        }
        #expect(try Self.read(lines, fastPath: true).events.count > 10)
    }
}
