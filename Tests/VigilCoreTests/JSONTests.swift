import Testing
import VigilCore

/// Parses `text`, returning the error it throws (or nil if it parses).
private func parseError(_ text: String) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(text)
        return nil
    } catch {
        return error
    }
}

private func parseError(bytes: [UInt8]) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

private let cloudTrailRecord = """
    {"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice@example.com",\
    "arn":"arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com","accountId":"123456789012",\
    "accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE",\
    "arn":"arn:aws:iam::123456789012:role/Admin","accountId":"123456789012","userName":"Admin"},\
    "webIdFederationData":{},"attributes":{"creationDate":"2026-11-29T18:00:00Z","mfaAuthenticated":"true"}}},\
    "eventTime":"2026-11-29T18:09:50Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy",\
    "awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"[aws-cli/2.15.0 Python/3.11 \\"x\\"]",\
    "requestParameters":{"bucketName":"logs-\\u00e9t\\u00e9","policy":"{\\"Version\\":\\"2012-10-17\\"}",\
    "tags":["a","b",null,true,false],"size":-12.5e-3,"count":18446744073709551615,"ratio":0.25},\
    "responseElements":null,"requestID":"EXAMPLE123","eventID":"1d1a3b4c-0000-4000-8000-000000000001",\
    "readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012",\
    "eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256",\
    "clientProvidedHostHeader":"s3.eu-west-1.amazonaws.com"},"note":"日本語 😀 \\ud83d\\ude00"}
    """

@Suite("JSON parsing")
struct JSONParsingTests {
    @Test func scalars() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse("false") == .bool(false))
        #expect(try JSONParser.parse("0") == .integer(0))
        #expect(try JSONParser.parse("-0") == .integer(0))
        #expect(try JSONParser.parse("42") == .integer(42))
        #expect(try JSONParser.parse("-17") == .integer(-17))
        #expect(try JSONParser.parse("1.5") == .double(1.5))
        #expect(try JSONParser.parse("-0.0") == .double(-0.0))
        #expect(try JSONParser.parse("1e3") == .double(1000))
        #expect(try JSONParser.parse("1E+2") == .double(100))
        #expect(try JSONParser.parse("25e-1") == .double(2.5))
        #expect(try JSONParser.parse("0.1") == .double(0.1))
        #expect(try JSONParser.parse("3.141592653589793") == .double(3.141592653589793))
        #expect(try JSONParser.parse("1.7976931348623157e308") == .double(1.7976931348623157e308))
        #expect(try JSONParser.parse("5e-324") == .double(.leastNonzeroMagnitude))
        #expect(try JSONParser.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try JSONParser.parse("\"hi\"") == .string("hi"))
        #expect(try JSONParser.parse("\"\"") == .string(""))
        #expect(try JSONParser.parse(" \t\r\n 7 \n") == .integer(7))
    }

    @Test func doublesMatchStandardLibrary() throws {
        let samples = [
            "0.3", "1.1", "2.675", "1e22", "1e23", "9007199254740993", "9007199254740993.0", "123.456e-7",
            "0.000001", "4.9406564584124654e-324", "2.2250738585072014e-308", "-987654.321e10", "1e-22",
            "8.41e21", "0.1e-5", "12345678901234567.5",
        ]
        for sample in samples {
            #expect(try JSONParser.parse(sample).double == Double(sample), "\(sample)")
        }
    }

    @Test func containersAndOrder() throws {
        let value = try JSONParser.parse(#"{"z":1,"a":[1,"two",3.5,null,{}],"m":{"k":[]},"a":false}"#)
        let object = try #require(value.object)
        #expect(object.keys == ["z", "a", "m", "a"])
        #expect(object.count == 4)
        #expect(object["a"] == .array([.integer(1), .string("two"), .double(3.5), .null, .object(JSONObject())]))
        #expect(value["m"]?["k"] == .array([]))
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([])["z"] == nil)
        var visited: [String] = []
        for member in object { visited.append(member.key) }
        #expect(visited == ["z", "a", "m", "a"])
        #expect(
            value
                == .object(
                    JSONObject([
                        ("z", .integer(1)),
                        ("a", .array([.integer(1), .string("two"), .double(3.5), .null, .object(JSONObject())])),
                        ("m", .object(JSONObject([("k", .array([]))]))),
                        ("a", .bool(false)),
                    ])))
        // Same members in a different order are a different object.
        #expect(JSONObject([("a", .null), ("b", .null)]) != JSONObject([("b", .null), ("a", .null)]))
        #expect(
            try JSONParser.parse(" [ [ ] , { } , [ 1 , [ 2 ] ] ] ")
                == .array([.array([]), .object(JSONObject()), .array([.integer(1), .array([.integer(2)])])]))
    }

    @Test func accessors() {
        #expect(JSONValue.string("s").string == "s")
        #expect(JSONValue.integer(1).string == nil)
        #expect(JSONValue.bool(true).bool == true)
        #expect(JSONValue.integer(-5).int64 == -5)
        #expect(JSONValue.unsigned(5).int64 == 5)
        #expect(JSONValue.unsigned(.max).int64 == nil)
        #expect(JSONValue.double(3).int64 == 3)
        #expect(JSONValue.double(3.5).int64 == nil)
        #expect(JSONValue.double(1e300).int64 == nil)
        #expect(JSONValue.double(.nan).int64 == nil)
        #expect(JSONValue.integer(-1).uint64 == nil)
        #expect(JSONValue.integer(7).uint64 == 7)
        #expect(JSONValue.unsigned(.max).uint64 == .max)
        #expect(JSONValue.double(2).uint64 == 2)
        #expect(JSONValue.integer(2).double == 2)
        #expect(JSONValue.unsigned(4).double == 4)
        #expect(JSONValue.double(0.5).double == 0.5)
        #expect(JSONValue.string("1").double == nil)
        #expect(JSONValue.array([.null]).array == [.null])
        #expect(JSONValue.null.array == nil)
        #expect(JSONValue.object(JSONObject()).object == JSONObject())
        #expect(JSONValue.null.isNull)
        #expect(!JSONValue.bool(false).isNull)
    }

    @Test func integerBoundaries() throws {
        #expect(try JSONParser.parse("-9223372036854775808") == .integer(.min))
        #expect(try JSONParser.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONParser.parse("9223372036854775808") == .unsigned(9_223_372_036_854_775_808))
        #expect(try JSONParser.parse("18446744073709551615") == .unsigned(.max))
        #expect(try JSONParser.parse("18446744073709551616") == .double(18_446_744_073_709_551_616.0))
        #expect(try JSONParser.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        #expect(try JSONParser.parse("1e400") == .double(.infinity))
    }

    @Test func escapes() throws {
        #expect(try JSONParser.parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#) == .string("a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti"))
        #expect(try JSONParser.parse(#""\u0041\u00e9\u4e2d\u0000""#) == .string("Aé中\u{0}"))
        #expect(try JSONParser.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""x\ud83d\ude00y\u00E9""#) == .string("x😀yé"))
        #expect(try JSONParser.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try JSONParser.parse("\"raw 中文 😀 \\n\"") == .string("raw 中文 😀 \n"))
        #expect(try JSONParser.parse("\"é\\\"\"") == .string("é\""))
    }

    @Test func inputKinds() throws {
        let text = #"{"a":[1,2]}"#
        let expected = JSONValue.object(JSONObject([("a", .array([.integer(1), .integer(2)]))]))
        #expect(try JSONParser.parse(text) == expected)
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
        let padded = "xx" + text + "yy"
        let substring = padded.dropFirst(2).dropLast(2)
        #expect(try JSONParser.parse(substring) == expected)
        let bytes = Array(text.utf8)
        let fromRaw = try bytes.withUnsafeBytes { buffer throws(JSONParseError) in try JSONParser.parse(buffer) }
        #expect(fromRaw == expected)
        #expect(parseError("") == JSONParseError(code: .unexpectedEnd, offset: 0))
        #expect(parseError(bytes: []) == JSONParseError(code: .unexpectedEnd, offset: 0))
        #expect(parseError("   ") == JSONParseError(code: .unexpectedEnd, offset: 3))
    }

    @Test func realisticRecord() throws {
        let value = try JSONParser.parse(cloudTrailRecord)
        #expect(value["eventName"]?.string == "PutBucketPolicy")
        #expect(value["userIdentity"]?["sessionContext"]?["sessionIssuer"]?["userName"]?.string == "Admin")
        #expect(value["requestParameters"]?["bucketName"]?.string == "logs-été")
        #expect(value["requestParameters"]?["policy"]?.string == #"{"Version":"2012-10-17"}"#)
        #expect(value["requestParameters"]?["count"] == .unsigned(.max))
        #expect(value["requestParameters"]?["size"] == .double(-0.0125))
        #expect(value["userAgent"]?.string == #"[aws-cli/2.15.0 Python/3.11 "x"]"#)
        #expect(value["note"]?.string == "日本語 😀 😀")
        #expect(value["readOnly"]?.bool == false)
        #expect(value["responseElements"]?.isNull == true)
        #expect(try JSONParser.parse(value.serialized()) == value)
    }
}

@Suite("JSON errors")
struct JSONErrorTests {
    @Test func errorCodesAndOffsets() {
        #expect(parseError(#"{"a":"#) == JSONParseError(code: .unexpectedEnd, offset: 5))
        #expect(parseError("[1,]") == JSONParseError(code: .unexpectedCharacter, offset: 3))
        #expect(parseError(#"{"a":1,}"#) == JSONParseError(code: .unexpectedCharacter, offset: 7))
        #expect(parseError("01") == JSONParseError(code: .invalidNumber, offset: 1))
        #expect(parseError("-01") == JSONParseError(code: .invalidNumber, offset: 2))
        #expect(parseError("\"\u{1}\"") == JSONParseError(code: .controlCharacterInString, offset: 1))
        #expect(parseError("\"ab\\\"\n\"") == JSONParseError(code: .controlCharacterInString, offset: 5))
        #expect(parseError(#""\ud800""#) == JSONParseError(code: .invalidUnicode, offset: 1))
        #expect(parseError(#""ab\udc00""#) == JSONParseError(code: .invalidUnicode, offset: 3))
        #expect(parseError(#""\ud800\u0041""#) == JSONParseError(code: .invalidUnicode, offset: 1))
        #expect(parseError(#""\ud800\n""#) == JSONParseError(code: .invalidUnicode, offset: 1))
        #expect(parseError(bytes: [0x22, 0xC3, 0x28, 0x22]) == JSONParseError(code: .invalidUTF8, offset: 1))
        #expect(
            parseError(bytes: [0x22, 0x5C, 0x6E, 0x61, 0xED, 0xA0, 0x80, 0x22])
                == JSONParseError(code: .invalidUTF8, offset: 4))  // encoded surrogate after an escape
        #expect(parseError(bytes: [0x22, 0xE2, 0x82, 0x22]) == JSONParseError(code: .invalidUTF8, offset: 1))
        #expect(parseError(bytes: [0x22, 0xC0, 0xAF, 0x22]) == JSONParseError(code: .invalidUTF8, offset: 1))
        #expect(
            parseError(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22])
                == JSONParseError(code: .invalidUTF8, offset: 1))
        #expect(parseError("1 2") == JSONParseError(code: .trailingCharacters, offset: 2))
        #expect(parseError("{} x") == JSONParseError(code: .trailingCharacters, offset: 3))
        #expect(parseError(#""\x""#) == JSONParseError(code: .invalidEscape, offset: 1))
        #expect(parseError(#""\u12G4""#) == JSONParseError(code: .invalidEscape, offset: 1))
        #expect(parseError(String(repeating: "[", count: 600)) == JSONParseError(code: .tooDeep, offset: 512))
    }

    @Test func strictness() {
        let rejected: [(String, JSONParseError.Code, Int)] = [
            ("+1", .unexpectedCharacter, 0),
            ("NaN", .unexpectedCharacter, 0),
            ("Infinity", .unexpectedCharacter, 0),
            ("-Infinity", .invalidNumber, 1),
            ("[1,2,]", .unexpectedCharacter, 5),
            ("[1 2]", .unexpectedCharacter, 3),
            ("// c\n1", .unexpectedCharacter, 0),
            ("[1]/*x*/", .trailingCharacters, 3),
            ("{'a':1}", .unexpectedCharacter, 1),
            ("{\"a\" 1}", .unexpectedCharacter, 5),
            ("{1:2}", .unexpectedCharacter, 1),
            ("1.", .unexpectedEnd, 2),
            ("1.e5", .invalidNumber, 2),
            (".5", .unexpectedCharacter, 0),
            ("1e", .unexpectedEnd, 2),
            ("1e+", .unexpectedEnd, 3),
            ("1ex", .invalidNumber, 2),
            ("-", .unexpectedEnd, 1),
            ("- 1", .invalidNumber, 1),
            ("tru", .unexpectedEnd, 3),
            ("trux", .unexpectedCharacter, 3),
            ("nul", .unexpectedEnd, 3),
            ("True", .unexpectedCharacter, 0),
            ("\"abc", .unexpectedEnd, 4),
            ("\"\\", .unexpectedEnd, 2),
            ("\"\\u00", .unexpectedEnd, 5),
            ("\"\\ud800", .unexpectedEnd, 7),
            ("[", .unexpectedEnd, 1),
            ("{", .unexpectedEnd, 1),
            ("[1", .unexpectedEnd, 2),
            ("{\"a\"", .unexpectedEnd, 4),
            ("{\"a\":1", .unexpectedEnd, 6),
            ("]", .unexpectedCharacter, 0),
            ("\u{FEFF}1", .unexpectedCharacter, 0),
            ("\"tab\there\"", .controlCharacterInString, 4),
        ]
        for (text, code, offset) in rejected {
            #expect(parseError(text) == JSONParseError(code: code, offset: offset), "\(text.debugDescription)")
        }
    }

    @Test func descriptions() {
        let error = parseError(#"{"a": [1, 2}"#)
        #expect(error?.description == "invalid JSON at byte 11: unexpected character '}' (expected ',' or ']')")
        #expect(
            parseError("[1,]")?.description
                == "invalid JSON at byte 3: unexpected character ']' (expected a value)")
        #expect(parseError("")?.description == "invalid JSON at byte 0: unexpected end of input")
        #expect(parseError("1 2")?.code.description == "unexpected characters after the value")
        #expect(JSONParseError.Code.invalidUTF8 != JSONParseError.Code.invalidUnicode)
        let codes: Set<JSONParseError.Code> = [
            .unexpectedEnd, .unexpectedCharacter, .invalidNumber, .invalidEscape, .invalidUnicode, .invalidUTF8,
            .tooDeep, .trailingCharacters, .controlCharacterInString,
        ]
        #expect(codes.count == 9)
    }

    @Test func depthLimit() throws {
        let bomb = String(repeating: "[", count: 100_000)
        #expect(parseError(bomb)?.code == .tooDeep)
        let objectBomb = String(repeating: #"{"a":"#, count: 100_000)
        #expect(parseError(objectBomb)?.code == .tooDeep)
        // Exactly at the limit is fine; one more is not.
        let atLimit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try JSONParser.parse(atLimit).array != nil)
        let overLimit = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(parseError(overLimit) == JSONParseError(code: .tooDeep, offset: 512))
        #expect(try JSONParser.parse("[[1]]", maximumDepth: 2) == .array([.array([.integer(1)])]))
        #expect(throws: JSONParseError(code: .tooDeep, offset: 1)) { try JSONParser.parse("[[1]]", maximumDepth: 1) }
        #expect(try JSONParser.parse("7", maximumDepth: 0) == .integer(7))
    }

    @Test func everyPrefixOfARecord() {
        let bytes = Array(cloudTrailRecord.utf8)
        var parsed = 0
        for length in 0...bytes.count {
            do {
                _ = try JSONParser.parse(Array(bytes[..<length]))
                parsed += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= length)
                if length < bytes.count {
                    #expect(error.code == .unexpectedEnd, "prefix \(length)")
                }
            }
        }
        #expect(parsed == 1)
    }

    @Test func mutatedRecordsNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        let original = Array(cloudTrailRecord.utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\u0-+.eE \n".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        var outcomes = [0, 0]
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[position] = interesting[Int(generator.next() % UInt64(interesting.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                #expect(try JSONParser.parse(value.serialized()) == value)
                outcomes[0] += 1
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                outcomes[1] += 1
            }
        }
        #expect(outcomes[1] > 0)
    }
}

@Suite("JSON writing")
struct JSONWriterTests {
    @Test func writesObjectsWithCommas() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("s", "x")
        writer.field("i", Int64(-3))
        writer.field("n", 7)
        writer.field("u", UInt64.max)
        writer.field("b", true)
        writer.field("d", 0.5)
        writer.key("arr")
        writer.beginArray()
        writer.int(1)
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.null()
        writer.bool(false)
        writer.endArray()
        writer.key("o")
        writer.beginObject()
        writer.key("k")
        writer.null()
        writer.endObject()
        writer.field("nan", Double.nan)
        writer.field("inf", -Double.infinity)
        writer.endObject()
        #expect(
            writer.text == #"{"s":"x","i":-3,"n":7,"u":18446744073709551615,"b":true,"d":0.5,"#
                + #""arr":[1,{},[],null,false],"o":{"k":null},"nan":null,"inf":null}"#)
    }

    @Test func integersAndDoubles() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for value: Int64 in [0, 9, 10, -1, -10, 1234567890, .max, .min] { writer.int(value) }
        writer.uint(0)
        writer.uint(.max)
        writer.double(1.0)
        writer.double(-0.0)
        writer.double(1e100)
        writer.double(.leastNonzeroMagnitude)
        writer.double(0.1)
        writer.endArray()
        #expect(
            writer.text == "[0,9,10,-1,-10,1234567890,9223372036854775807,-9223372036854775808,0,"
                + "18446744073709551615,1.0,-0.0,1e+100,5e-324,0.1]")
        let parsed = try JSONParser.parse(writer.bytes)
        #expect(parsed.array?[10] == .double(1.0))
        #expect(parsed.array?[12] == .double(1e100))
        #expect(parsed.array?[13] == .double(.leastNonzeroMagnitude))
    }

    @Test func escaping() {
        var writer = JSONWriter()
        writer.string("q\"b\\s/ \n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F} é 中 😀")
        #expect(writer.text == #""q\"b\\s/ \n\r\t\b\f\u0000\u001f"# + "\u{7F} é 中 😀\"")
    }

    @Test func roundTripsTrickyStrings() throws {
        let strings = [
            "", "plain", "\"quoted\"", "back\\slash\\", "\\\"", "line1\nline2\r\n", "\t\u{0}\u{1}\u{1F}",
            "emoji 😀👩‍👩‍👧‍👦🇫🇷", "中文字符", "mixed \"中\" \\ 😀\n", "</script>", "\u{2028}\u{2029}", "\u{10FFFF}",
            String(repeating: "ab\"", count: 1000),
        ]
        for string in strings {
            var writer = JSONWriter()
            writer.beginObject()
            writer.field(string, string)
            writer.endObject()
            let parsed = try JSONParser.parse(writer.bytes)
            #expect(parsed[string]?.string == string)
            #expect(try JSONParser.parse(JSONValue.string(string).serialized()) == .string(string))
        }
    }

    @Test func serializesValues() throws {
        let value = JSONValue.object(
            JSONObject([
                ("b", .integer(1)),
                ("a", .array([.null, .bool(true), .unsigned(.max), .double(2.5), .string("x\"y"), .array([])])),
                ("c", .object(JSONObject([("d", .object(JSONObject()))]))),
            ]))
        let text = value.serialized()
        #expect(text == #"{"b":1,"a":[null,true,18446744073709551615,2.5,"x\"y",[]],"c":{"d":{}}}"#)
        #expect(try JSONParser.parse(text) == value)
        #expect(JSONValue.null.serialized() == "null")
        #expect(JSONValue.double(.infinity).serialized() == "null")
    }

    @Test func jsonLinesAndReset() {
        var writer = JSONWriter(capacity: 64)
        for index in 0..<3 {
            writer.beginObject()
            writer.field("i", index)
            writer.endObject()
            writer.bytes.append(UInt8(ascii: "\n"))
        }
        #expect(writer.text == "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n")
        let capacity = writer.bytes.capacity
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.bytes.capacity == capacity)
        writer.beginObject()
        writer.field("after", "reset")
        writer.endObject()
        #expect(writer.text == #"{"after":"reset"}"#)
        // Reset in the middle of a record clears the comma state too.
        writer.reset()
        writer.beginArray()
        writer.int(1)
        writer.reset()
        writer.beginArray()
        writer.int(2)
        writer.endArray()
        #expect(writer.text == "[2]")
    }
}

/// A small deterministic generator for the mutation test.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
