import Foundation
import Testing
import VigilCloudEvents
import VigilCore

/// The other input forms (Records object, EventBridge lines, gzip) and hostile input. Records come from the
/// Stratus Red Team detonation logs (DataDog/stratus-red-team @7c9a7a5a, Apache-2.0).
@Suite struct InputFormTests {
    static let source = DataPaths.stratusFile("aws.credential-access.ec2-steal-instance-credentials")

    /// The same records as a `{"Records":[…]}` file, as EventBridge envelopes one per line, and gzip-compressed
    /// (by /bin/gzip) all give the same events as the plain array.
    @Test func recordsObjectEventBridgeAndGzipGiveTheSameEvents() throws {
        let plain = try ReadResult(path: Self.source)
        #expect(plain.events.count == 45)
        let array = try JSONParser.parse(try String(contentsOfFile: Self.source, encoding: .utf8))
        let records = try #require(array.array)

        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Records")
        writer.value(array)
        writer.endObject()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recordsPath = directory + "/records.json"
        try Data(writer.bytes).write(to: URL(fileURLWithPath: recordsPath))

        var lines = ""
        for record in records {
            var envelope = JSONWriter()
            envelope.beginObject()
            envelope.field("version", "0")
            envelope.field("detail-type", "AWS API Call via CloudTrail")
            envelope.field("source", "aws.ec2")
            envelope.key("detail")
            envelope.value(record)
            envelope.endObject()
            lines += envelope.text + "\n"
        }
        let linesPath = directory + "/eventbridge.jsonl"
        try lines.write(toFile: linesPath, atomically: true, encoding: .utf8)

        let gzipPath = directory + "/records.json.gz"
        try gzip(recordsPath, to: gzipPath)

        for path in [recordsPath, linesPath, gzipPath] {
            let other = try ReadResult(path: path)
            #expect(other.skipped.total == 0, "\(path)")
            #expect(other.events.count == plain.events.count, "\(path)")
            #expect(other.calls == plain.calls, "\(path)")
            #expect(other.events.map(\.time) == plain.events.map(\.time), "\(path)")
            #expect(other.events.map { other.text($0.principal) } == plain.events.map { plain.text($0.principal) })
        }
        #expect(
            try CloudEventFile.detectFormat(path: recordsPath)
                == CloudEventFormat(container: .recordsObject, provider: .aws))
        #expect(try CloudEventFile.detectFormat(path: linesPath) == CloudEventFormat(container: .lines, provider: .aws))
        #expect(
            try CloudEventFile.detectFormat(path: gzipPath)
                == CloudEventFormat(container: .recordsObject, provider: .aws, compressed: true))
    }

    /// A gzip file cut in half is a clear `truncated gzip` error, not a crash or a partial read; bytes that start
    /// like gzip but are garbage are `invalid gzip`.
    @Test func truncatedAndCorruptGzip() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gzipPath = directory + "/whole.json.gz"
        try gzip(Self.source, to: gzipPath)
        let whole = try Data(contentsOf: URL(fileURLWithPath: gzipPath))
        let cutPath = directory + "/cut.json.gz"
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cutPath))
        #expect {
            _ = try CloudEventFile.read(path: cutPath, symbols: SymbolTable())
        } throws: { error in
            guard let error = error as? CloudEventError else { return false }
            return error.code == .truncatedGzip && error.path == cutPath && error.message.contains("cut short")
        }
        #expect(CloudEventFormat.detect(Array(whole.prefix(whole.count / 2))) == nil)

        let garbage: [UInt8] = [0x1f, 0x8b] + Array(repeating: 0x41, count: 64)
        #expect(throws: CloudEventError.self) { _ = try CloudEventDecoder(bytes: garbage, symbols: SymbolTable()) }
        do {
            _ = try CloudEventDecoder(bytes: garbage, symbols: SymbolTable())
        } catch {
            #expect(error.code == .invalidGzip)
        }
    }

    /// A gzip file whose content is larger than the limit is refused before memory grows past it.
    @Test func decompressionIsBounded() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gzipPath = directory + "/records.json.gz"
        try gzip(Self.source, to: gzipPath)
        let limits = CloudEventLimits(maximumDecompressedSize: 10_000)
        do {
            _ = try CloudEventFile.read(path: gzipPath, symbols: SymbolTable(), limits: limits)
            Issue.record("a file decompressing past the limit was accepted")
        } catch {
            #expect(error.code == .tooLarge)
        }
    }

    /// Hostile JSON lines around two real records (the first two of the Stratus file): malformed JSON, wrong
    /// types, an unknown event version, a megabyte string, a line over the length limit, a non-object. Each bad
    /// line is counted under its reason; the good records still arrive.
    @Test func hostileLines() throws {
        let records = try #require(try JSONParser.parse(String(contentsOfFile: Self.source, encoding: .utf8)).array)
        func line(_ value: JSONValue) -> String {
            var writer = JSONWriter()
            writer.value(value)
            return writer.text
        }
        let huge = String(repeating: "A", count: 1 << 20)
        let input = [
            line(records[0]),
            "{\"eventName\": \"CreateUser\", \"eventSource\": \"iam.amazonaws.com\", \"eventTime\": ",  // cut short
            "{\"eventName\": 7, \"eventSource\": \"iam.amazonaws.com\", \"eventTime\": \"2024-01-01T00:00:00Z\"}",
            "{\"eventName\": \"CreateUser\", \"eventSource\": \"iam.amazonaws.com\","
                + " \"eventTime\": \"2024-01-01T00:00:00Z\","
                + " \"userIdentity\": \"root\"}",
            "{\"eventVersion\": \"2.0\", \"eventName\": \"CreateUser\", \"eventSource\": \"iam.amazonaws.com\","
                + " \"eventTime\": \"2024-01-01T00:00:00Z\"}",
            "{\"eventName\": \"CreateUser\", \"eventSource\": \"iam.amazonaws.com\"}",
            "{\"eventName\": \"\(huge)\", \"eventSource\": \"iam.amazonaws.com\", \"eventTime\": \"not a time\"}",
            "[1, 2, 3]",
            "\u{0}\u{1}binary",
            "",
            "{\"eventName\": \"GetCallerIdentity\", \"eventSource\": \"sts.amazonaws.com\","
                + " \"eventTime\": \"2024-01-01T00:00:00Z\", \"sourceIPAddress\": \"\(huge)\"}",
            line(records[1]),
        ].joined(separator: "\n")
        let limits = CloudEventLimits(maximumLineLength: 512 << 10)
        let symbols = SymbolTable()
        var decoder = try CloudEventDecoder(bytes: Array(input.utf8), symbols: symbols, limits: limits)
        var batch = EventBatch()
        while decoder.fill(&batch) {}
        #expect(batch.count == 2)
        let skipped = decoder.skipped
        #expect(skipped[.invalidJSON] == 2)
        #expect(skipped[.invalidField] == 2)
        #expect(skipped[.unsupportedVersion] == 1)
        #expect(skipped[.missingField] == 1)
        #expect(skipped[.notACloudRecord] == 1)
        #expect(skipped[.tooLarge] == 2)
        #expect(skipped.total == 9)
        #expect(skipped.messages.contains { $0.hasPrefix("line 3: invalid field 'eventName'") })
        #expect(skipped.messages.contains { $0.contains("unsupported version") && $0.contains("update Vigil") })
    }

    /// A 0-byte file, a whitespace-only file and a truncated (not gzip) JSON document are counted, not thrown.
    @Test func emptyAndBrokenDocuments() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = directory + "/empty.json"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let emptyResult = try ReadResult(path: empty)
        #expect(emptyResult.events.isEmpty)
        #expect(emptyResult.skipped[.emptyInput] == 1)
        #expect(CloudEventFormat.detect([]) == nil)

        let spaces = try ReadResult(bytes: Array("  \n\n ".utf8))
        #expect(spaces.skipped[.emptyInput] == 1)

        // A pretty-printed Records file cut in the middle: one broken document, one skip (not one per line).
        let text = try String(contentsOfFile: Self.source, encoding: .utf8)
        let cut = try ReadResult(bytes: Array(text.utf8.prefix(text.utf8.count / 2)))
        #expect(cut.events.isEmpty)
        #expect(cut.skipped[.invalidJSON] == 1 && cut.skipped.total == 1)

        let missing = directory + "/missing.json"
        do {
            _ = try CloudEventFile.read(path: missing, symbols: SymbolTable())
            Issue.record("a missing file was read")
        } catch {
            #expect(error.code == .unreadable && error.errno == ENOENT)
        }
    }

    /// Version suffixes come off only when they are an 8-digit date with an optional `v<digits>`.
    @Test func actionNormalization() {
        #expect(CloudTrailParser.normalizedAction("UpdateFunctionCode20150331v2") == "UpdateFunctionCode")
        #expect(CloudTrailParser.normalizedAction("GetFunction20150331") == "GetFunction")
        #expect(CloudTrailParser.normalizedAction("AddPermission20150331v2") == "AddPermission")
        #expect(CloudTrailParser.normalizedAction("CreateUser") == "CreateUser")
        #expect(CloudTrailParser.normalizedAction("Thing123456789") == "Thing123456789")
        #expect(CloudTrailParser.normalizedAction("ListV2") == "ListV2")
        #expect(CloudTrailParser.normalizedAction("20150331") == "20150331")
        #expect(
            CloudTrailParser.principal(
                arn: "arn:aws-cn:sts::1:assumed-role/R/s", type: "AssumedRole",
                accountID: "1", principalID: "", invokedBy: "") == "arn:aws-cn:iam::1:role/R")
        #expect(
            CloudTrailParser.principal(
                arn: "", type: "Root", accountID: "42", principalID: "42",
                invokedBy: "") == "arn:aws:iam::42:root")
        #expect(
            CloudTrailParser.principal(
                arn: "", type: "AWSService", accountID: "", principalID: "",
                invokedBy: "lambda.amazonaws.com") == "lambda.amazonaws.com")
    }
}
