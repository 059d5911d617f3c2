import Testing
import VigilCloudEvents
import VigilCore

/// The details a CloudTrail event carries (`CloudFields.details`): the parts rules read beyond the fixed fields,
/// the same from the byte-level path as from the tree.
@Suite struct CloudTrailDetailsTests {
    static let base =
        #""eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"iam.amazonaws.com","#
        + #""eventName":"CreateUser","awsRegion":"us-east-1","eventID":"e-1","requestID":"r-1""#

    static func details(_ record: String, fastPath: Bool) throws -> JSONValue {
        let symbols = SymbolTable()
        var decoder = try CloudEventDecoder(
            bytes: Array(record.utf8), symbols: symbols, path: "input", fastPath: fastPath)
        var batch = EventBatch()
        while decoder.fill(&batch) {}
        let event = try #require(batch.events.first)
        guard case .cloud(let fields) = event.fields else {
            Issue.record("not a cloud event")
            return .null
        }
        return fields.details.isNone ? .null : try JSONParser.parse(symbols.string(fields.details))
    }

    @Test("a record keeps its identity, request, response, additional data, error message and event type")
    func keptMembers() throws {
        let record =
            "{\(Self.base),\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"alice\"},"
            + #""requestParameters":{"userName":"bob"},"responseElements":{"user":{"userName":"bob"}},"#
            + #""additionalEventData":{"MFAUsed":"No"},"errorMessage":"m","eventType":"AwsApiCall","readOnly":false}"#
        for fastPath in [true, false] {
            let details = try Self.details(record, fastPath: fastPath)
            #expect(
                details.object?.keys == [
                    "userIdentity", "requestParameters", "responseElements", "additionalEventData", "errorMessage",
                    "eventType",
                ])
            #expect(details["requestParameters"]?["userName"]?.string == "bob")
        }
    }

    @Test("oversized response elements go first, then oversized request parameters")
    func oversizedParts() throws {
        let big = String(repeating: "x", count: 200 << 10)
        let record =
            "{\(Self.base),\"requestParameters\":{\"policy\":\"\(big)\"},\"responseElements\":{\"r\":\"\(big)\"},"
            + #""eventType":"AwsApiCall"}"#
        for fastPath in [true, false] {
            #expect(try Self.details(record, fastPath: fastPath).object?.keys == ["requestParameters", "eventType"])
        }
    }

    @Test func awkwardDetailsGiveIdenticalEvents() throws {
        let records = [
            "{\(Self.base), \"requestParameters\" : { \"policyDocument\" : \"{\\\"Version\\\":\\\"2012\\\"}\" } }",
            "{\(Self.base),\"responseElements\":{\"n\":[1.0,-0,1e2,99999999999999999999],\"s\":\"\\u00e9\\/\"}}",
            "{\(Self.base),\"responseElements\":null,\"errorMessage\":null}",
            "{\(Self.base),\"additionalEventData\":{\"a\":1,\"a\":2}}",
            "{\(Self.base),\"userIdentity\":{\"type\":\"Root\",\"sessionContext\":{\"attributes\":{}}}}",
            "{\(Self.base)}",
        ]
        let lines = Array(records.joined(separator: "\n").utf8)
        let delivery = Array(("{\"Records\":[" + records.joined(separator: ",") + "]}").utf8)
        for bytes in [lines, delivery] {
            let fast = try FastPathEquivalenceTests.read(bytes, fastPath: true)
            let tree = try FastPathEquivalenceTests.read(bytes, fastPath: false)
            #expect(fast.events == tree.events)
            #expect(fast.events.count == records.count)
        }
    }
}
