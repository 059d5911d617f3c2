import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Maps CloudTrail records to events straight from their validated bytes, reading only the members
/// ``CloudTrailParser/event(from:)`` reads.
///
/// It gives exactly the event the tree path gives, or nil whenever the record is anything but plain (an
/// envelope, a duplicate or escaped key, a member of an unexpected type, a time needing the export forms, any
/// error): the caller then maps the record through the tree, which gives the event or the error.
struct CloudTrailFastMapper {
    let symbols: SymbolTable
    private var cache = ByteValueCache<Symbol>()
    private var addresses = ByteValueCache<IPAddress>()
    /// Details texts by their bytes, apart from the short strings so that large texts cannot crowd them out.
    private var detailsCache = ByteValueCache<Symbol>()
    /// The details text being written, reused from record to record.
    private var detailsWriter = JSONWriter(capacity: 1024)

    init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    typealias Slot = JSONByteScanner.Slot

    private struct Identity {
        var type = Slot()
        var arn = Slot()
        var accountId = Slot()
        var principalId = Slot()
        var invokedBy = Slot()
        var accessKeyId = Slot()
        var sessionContext = Slot()
    }

    private struct Record {
        var eventVersion = Slot()
        var eventTime = Slot()
        var eventName = Slot()
        var eventSource = Slot()
        var awsRegion = Slot()
        var sourceIPAddress = Slot()
        var userAgent = Slot()
        var errorCode = Slot()
        var readOnly = Slot()
        var recipientAccountId = Slot()
        var userIdentity = Slot()
        var additionalEventData = Slot()
        var requestParameters = Slot()
        var resources = Slot()
        var log = Slot()
        var operationName = Slot()
        var responseElements = Slot()
        var errorMessage = Slot()
        var eventType = Slot()
    }

    /// Reads the members of the record object at `index`; nil when the record needs the tree path.
    private static func readRecord(_ s: JSONByteScanner, at index: Int, unwrapping: Bool) -> Record? {
        guard s.base[index] == UInt8(ascii: "{") else { return nil }
        var record = Record()
        let complete = s.forEachMember(ofObjectAt: index) { a, b, value in
            switch b - a {
            case 3 where s.matches(a, b, "log"): return record.log.fill(with: value)
            case 6 where s.matches(a, b, "detail"): return false
            case 8 where s.matches(a, b, "readOnly"): return record.readOnly.fill(with: value)
            case 9 where s.matches(a, b, "eventTime"): return record.eventTime.fill(with: value)
            case 9 where s.matches(a, b, "eventType"): return record.eventType.fill(with: value)
            case 9 where s.matches(a, b, "eventName"): return record.eventName.fill(with: value)
            case 9 where s.matches(a, b, "awsRegion"): return record.awsRegion.fill(with: value)
            case 9 where s.matches(a, b, "userAgent"): return record.userAgent.fill(with: value)
            case 9 where s.matches(a, b, "errorCode"): return record.errorCode.fill(with: value)
            case 9 where s.matches(a, b, "resources"): return record.resources.fill(with: value)
            case 11 where s.matches(a, b, "eventSource"): return record.eventSource.fill(with: value)
            case 11 where s.matches(a, b, "detail-type"): return false
            case 12 where s.matches(a, b, "eventVersion"): return record.eventVersion.fill(with: value)
            case 12 where s.matches(a, b, "userIdentity"): return record.userIdentity.fill(with: value)
            case 12 where s.matches(a, b, "errorMessage"): return record.errorMessage.fill(with: value)
            case 13 where s.matches(a, b, "operationName"): return record.operationName.fill(with: value)
            case 15 where s.matches(a, b, "sourceIPAddress"): return record.sourceIPAddress.fill(with: value)
            case 16 where s.matches(a, b, "responseElements"): return record.responseElements.fill(with: value)
            case 17 where s.matches(a, b, "requestParameters"): return record.requestParameters.fill(with: value)
            case 18 where s.matches(a, b, "recipientAccountId"): return record.recipientAccountId.fill(with: value)
            case 19 where s.matches(a, b, "additionalEventData"): return record.additionalEventData.fill(with: value)
            default: return true
            }
        }
        guard complete else { return nil }
        // A Panther test case (`{rule_id, test_name, log}`) wraps the record in `log`.
        if record.log.kind == .object, record.eventName.kind == .absent, record.operationName.kind == .absent {
            guard unwrapping else { return nil }
            return readRecord(s, at: record.log.start, unwrapping: false)
        }
        return record
    }

    private static func readIdentity(_ s: JSONByteScanner, at index: Int) -> Identity? {
        var identity = Identity()
        let complete = s.forEachMember(ofObjectAt: index) { a, b, value in
            switch b - a {
            case 3 where s.matches(a, b, "arn"): return identity.arn.fill(with: value)
            case 4 where s.matches(a, b, "type"): return identity.type.fill(with: value)
            case 9 where s.matches(a, b, "accountId"): return identity.accountId.fill(with: value)
            case 9 where s.matches(a, b, "invokedBy"): return identity.invokedBy.fill(with: value)
            case 11 where s.matches(a, b, "principalId"): return identity.principalId.fill(with: value)
            case 11 where s.matches(a, b, "accessKeyId"): return identity.accessKeyId.fill(with: value)
            case 14 where s.matches(a, b, "sessionContext"): return identity.sessionContext.fill(with: value)
            default: return true
            }
        }
        guard complete else { return nil }
        return identity
    }

    private static let attributeKeys: [StaticString] = ["attributes"]
    private static let mfaKeys: [StaticString] = ["mfaAuthenticated"]
    private static let mfaUsedKeys: [StaticString] = ["MFAUsed"]
    private static let arnKeys: [StaticString] = ["ARN", "arn"]
    /// ``CloudTrailParser/resourceKeys``, in the same order.
    private static let resourceKeys: [StaticString] = [
        "userName", "roleName", "bucketName", "functionName", "name", "secretId", "snapshotId", "imageId",
        "groupId", "instanceId",
    ]

    /// The text of a string slot (decoding escapes as the parser does).
    private static func text(_ s: JSONByteScanner, _ slot: Slot) -> String {
        guard slot.kind == .string else { return "" }
        guard slot.escaped else { return String(decoding: s.bytes(slot.start, slot.end), as: UTF8.self) }
        let quoted = s.bytes(slot.start - 1, slot.end + 1)
        if case .string(let value)? = try? JSONParser.parse(quoted) { return value }
        return ""
    }

    /// `CloudTrailParser.isTrue`.
    private static func isTrue(_ s: JSONByteScanner, _ slot: Slot) -> Bool {
        switch slot.kind {
        case .trueValue: return true
        case .string: return text(s, slot) == "true"
        default: return false
        }
    }

    /// Whether the string slot equals `literal` as Strings compare.
    private static func equals(_ s: JSONByteScanner, _ slot: Slot, _ literal: StaticString) -> Bool {
        guard slot.kind == .string else { return false }
        if !slot.escaped, s.matches(slot.start, slot.end, literal) { return true }
        if !slot.escaped, s.isASCII(slot.start, slot.end) { return false }
        return text(s, slot) == literal.description
    }

    /// The symbol of a string slot (empty when absent or null).
    private mutating func symbol(_ s: JSONByteScanner, _ slot: Slot) -> Symbol {
        if slot.kind != .string { return intern(s.bytes(0, 0)) }
        if slot.escaped { return symbols.intern(Self.text(s, slot)) }
        return intern(s.bytes(slot.start, slot.end))
    }

    @inline(__always)
    private mutating func intern(_ bytes: UnsafeRawBufferPointer) -> Symbol {
        let symbols = self.symbols
        return cache.value(bytes, tag: 0) { symbols.intern(String(decoding: bytes, as: UTF8.self)) }
    }

    /// The event of the record at `range` of validated JSON, or nil when the tree path must map it.
    mutating func event(_ buffer: UnsafeRawBufferPointer, range: Range<Int>) -> Event? {
        let s = JSONByteScanner(buffer)
        guard range.lowerBound < range.upperBound,
            let record = Self.readRecord(s, at: range.lowerBound, unwrapping: true)
        else { return nil }

        // The provider test (CloudTrailParser.isRecord), and `core`: version, time, name and source.
        guard record.eventName.kind == .string, record.eventName.end > record.eventName.start,
            record.eventSource.kind == .string, record.eventSource.end > record.eventSource.start,
            !record.eventSource.escaped, s.isASCII(record.eventSource.start, record.eventSource.end),
            record.eventTime.kind == .string, !record.eventTime.escaped,
            record.eventVersion.isStringOrNone
        else { return nil }
        if record.eventVersion.kind == .string {
            let version = record.eventVersion
            guard !version.escaped, s.isASCII(version.start, version.end), version.end - version.start >= 2,
                s.base[version.start] == UInt8(ascii: "1"), s.base[version.start + 1] == UInt8(ascii: ".")
            else { return nil }
        }
        guard let time = RFC3339.parse(utf8: s.bytes(record.eventTime.start, record.eventTime.end)) else {
            return nil
        }
        // Every member read as a string or an object must be one (or absent); otherwise the tree reports it.
        guard record.awsRegion.isStringOrNone, record.sourceIPAddress.isStringOrNone,
            record.userAgent.isStringOrNone, record.errorCode.isStringOrNone,
            record.recipientAccountId.isStringOrNone, record.userIdentity.isObjectOrNone,
            record.additionalEventData.isObjectOrNone, record.requestParameters.isObjectOrNone
        else { return nil }

        var identity: Identity?
        var mfa = false
        if record.userIdentity.kind == .object {
            guard let read = Self.readIdentity(s, at: record.userIdentity.start),
                read.type.isStringOrNone, read.arn.isStringOrNone, read.accountId.isStringOrNone,
                read.principalId.isStringOrNone, read.invokedBy.isStringOrNone, read.accessKeyId.isStringOrNone,
                read.sessionContext.isObjectOrNone
            else { return nil }
            identity = read
            if read.sessionContext.kind == .object {
                guard let context = s.members(ofObjectAt: read.sessionContext.start, named: Self.attributeKeys),
                    context[0].isObjectOrNone
                else { return nil }
                if context[0].kind == .object {
                    guard let attributes = s.members(ofObjectAt: context[0].start, named: Self.mfaKeys) else {
                        return nil
                    }
                    mfa = Self.isTrue(s, attributes[0])
                }
            }
        }
        if !mfa, record.additionalEventData.kind == .object, Self.equals(s, record.eventName, "ConsoleLogin") {
            guard let extra = s.members(ofObjectAt: record.additionalEventData.start, named: Self.mfaUsedKeys)
            else {
                return nil
            }
            if extra[0].kind == .string { mfa = Self.text(s, extra[0]) == "Yes" }
        }

        // The resource: the first named request parameter, else resources[0].ARN.
        var resource = Slot()
        if record.requestParameters.kind == .object {
            guard let parameters = s.members(ofObjectAt: record.requestParameters.start, named: Self.resourceKeys)
            else {
                return nil
            }
            for slot in parameters where slot.kind == .string && slot.end > slot.start {
                resource = slot
                break
            }
        }
        if resource.kind == .absent, record.resources.kind == .array {
            let first = s.skipSpace(record.resources.start + 1)
            if s.base[first] == UInt8(ascii: "{") {
                guard let arns = s.members(ofObjectAt: first, named: Self.arnKeys) else { return nil }
                let arn = arns[0].kind != .absent ? arns[0] : arns[1]
                if arn.kind == .string { resource = arn }
            }
        }

        var flags: CloudFields.Flags = []
        if Self.isTrue(s, record.readOnly) { flags.insert(.readOnly) }
        if mfa { flags.insert(.mfaAuthenticated) }

        // Interned in the tree path's order, so that both give the same symbols.
        let source = record.eventSource
        let suffix: StaticString = ".amazonaws.com"
        var serviceEnd = source.end
        if source.end - source.start >= suffix.utf8CodeUnitCount,
            s.matches(source.end - suffix.utf8CodeUnitCount, source.end, suffix)
        {
            serviceEnd -= suffix.utf8CodeUnitCount
        }
        let service = intern(s.bytes(source.start, serviceEnd))
        let action: Symbol
        if record.eventName.escaped {
            action = symbols.intern(CloudTrailParser.normalizedAction(Self.text(s, record.eventName)))
        } else {
            let name = record.eventName
            action = intern(s.bytes(name.start, Self.actionEnd(s, name.start, name.end)))
        }
        let region = symbol(s, record.awsRegion)
        let account: Symbol
        if record.recipientAccountId.kind == .string {
            account = symbol(s, record.recipientAccountId)
        } else {
            account = symbol(s, identity?.accountId ?? Slot())
        }
        let accessKey = symbol(s, identity?.accessKeyId ?? Slot())
        let address: IPAddress
        let ip = record.sourceIPAddress
        if ip.kind == .string, !ip.escaped {
            let bytes = s.bytes(ip.start, ip.end)
            address = addresses.value(bytes, tag: 0) { IPAddress(String(decoding: bytes, as: UTF8.self)) ?? .none }
        } else if ip.kind == .string {
            address = IPAddress(Self.text(s, ip)) ?? .none
        } else {
            address = .none
        }
        let userAgent = symbol(s, record.userAgent)
        let errorCode = symbol(s, record.errorCode)
        let resourceSymbol = symbol(s, resource)
        let principal = principalSymbol(s, identity)
        let details = detailsSymbol(
            s,
            [
                record.userIdentity, record.requestParameters, record.responseElements, record.additionalEventData,
                record.errorMessage, record.eventType,
            ])

        let cloud = CloudFields(
            provider: .aws, service: service, action: action, region: region, account: account,
            accessKey: accessKey, sourceAddress: address, userAgent: userAgent, errorCode: errorCode,
            resource: resourceSymbol, flags: flags, details: details)
        return Event(time: time, kind: .cloudAPICall, principal: principal, fields: .cloud(cloud))
    }

    /// The details symbol of the members in `slots` (in the order of ``EventDetailsFormat/cloudTrail``'s keys),
    /// copied compactly from the bytes: the text the tree path gives for the same record.
    private mutating func detailsSymbol(_ s: JSONByteScanner, _ slots: [Slot]) -> Symbol {
        EventDetailsFormat.cloudTrail.symbol(
            from: s,
            valueStart: { index in
                let slot = slots[index]
                if slot.kind == .absent || slot.kind == .null { return nil }
                return slot.kind == .string ? slot.start - 1 : slot.start
            }, writer: &detailsWriter, cache: &detailsCache, symbols: symbols)
    }

    private mutating func principalSymbol(_ s: JSONByteScanner, _ identity: Identity?) -> Symbol {
        guard let identity else { return intern(s.bytes(0, 0)) }
        let arn = identity.arn
        if arn.kind == .string, arn.end > arn.start, !arn.escaped {
            // With an ARN the principal depends on the ARN alone.
            let bytes = s.bytes(arn.start, arn.end)
            let symbols = self.symbols
            return cache.value(bytes, tag: 1) {
                symbols.intern(
                    CloudTrailParser.principal(
                        arn: String(decoding: bytes, as: UTF8.self), type: "", accountID: "", principalID: "",
                        invokedBy: ""))
            }
        }
        return symbols.intern(
            CloudTrailParser.principal(
                arn: Self.text(s, arn), type: Self.text(s, identity.type), accountID: Self.text(s, identity.accountId),
                principalID: Self.text(s, identity.principalId), invokedBy: Self.text(s, identity.invokedBy)))
    }

    /// `CloudTrailParser.normalizedAction` on bytes: where the name ends once a version suffix is dropped.
    private static func actionEnd(_ s: JSONByteScanner, _ start: Int, _ end: Int) -> Int {
        func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
        var last = end
        var index = end
        while index > start, isDigit(s.base[index - 1]) { index -= 1 }
        if index < last, index > start, s.base[index - 1] == UInt8(ascii: "v") { last = index - 1 }
        var first = last
        while first > start, isDigit(s.base[first - 1]) { first -= 1 }
        guard last - first == 8, first > start else { return end }
        return first
    }
}

/// Finds the records of a `{"Records": [...]}` document without building its tree.
enum CloudTrailRecordSplitter {
    /// The byte ranges of the elements of `Records`, when `data` is one valid JSON object whose only member
    /// named `Records` is an array, or of the elements of a valid top-level array (`isArray`); nil otherwise
    /// (the caller then parses the document as a tree).
    static func recordRanges(_ buffer: UnsafeRawBufferPointer) -> (ranges: [Range<Int>], isArray: Bool)? {
        let s = JSONByteScanner(buffer)
        var i = s.skipSpace(0)
        guard i < s.end else { return nil }
        if s.base[i] == UInt8(ascii: "[") {
            guard let (list, after) = elements(s, from: i) else { return nil }
            return s.skipSpace(after) == s.end ? (list, true) : nil
        }
        guard s.base[i] == UInt8(ascii: "{") else { return nil }
        i = s.skipSpace(i + 1)
        guard i < s.end, s.base[i] != UInt8(ascii: "}") else { return nil }
        var ranges: [Range<Int>]?
        while true {
            guard i < s.end, s.base[i] == UInt8(ascii: "\"") else { return nil }
            var escaped = false
            let keyEnd = s.validString(at: i, escaped: &escaped)
            guard keyEnd >= 0, !escaped else { return nil }
            let isRecords = s.matches(i + 1, keyEnd - 1, "Records")
            i = s.skipSpace(keyEnd)
            guard i < s.end, s.base[i] == UInt8(ascii: ":") else { return nil }
            i = s.skipSpace(i + 1)
            if isRecords {
                guard ranges == nil, i < s.end, s.base[i] == UInt8(ascii: "["),
                    let (list, after) = elements(s, from: i)
                else { return nil }
                i = after
                ranges = list
            } else {
                i = s.validValue(at: i, depth: 1)
                guard i >= 0 else { return nil }
            }
            i = s.skipSpace(i)
            guard i < s.end else { return nil }
            if s.base[i] == UInt8(ascii: "}") { break }
            guard s.base[i] == UInt8(ascii: ",") else { return nil }
            i = s.skipSpace(i + 1)
        }
        guard s.skipSpace(i + 1) == s.end, let ranges else { return nil }
        return (ranges, false)
    }

    /// The ranges of the valid elements of the array at `index` and where it ends; nil when it is invalid.
    private static func elements(_ s: JSONByteScanner, from index: Int) -> ([Range<Int>], Int)? {
        var list: [Range<Int>] = []
        var i = s.skipSpace(index + 1)
        guard i < s.end else { return nil }
        if s.base[i] == UInt8(ascii: "]") { return (list, i + 1) }
        while true {
            let end = s.validValue(at: i, depth: 2)
            guard end >= 0 else { return nil }
            list.append(i..<end)
            i = s.skipSpace(end)
            guard i < s.end else { return nil }
            if s.base[i] == UInt8(ascii: "]") { return (list, i + 1) }
            guard s.base[i] == UInt8(ascii: ",") else { return nil }
            i = s.skipSpace(i + 1)
        }
    }

    /// Whether `range` of `buffer` holds exactly one valid JSON value.
    static func isValue(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let s = JSONByteScanner(UnsafeRawBufferPointer(rebasing: buffer[..<range.upperBound]))
        return s.validValue(at: range.lowerBound, depth: 0) == range.upperBound
    }
}
