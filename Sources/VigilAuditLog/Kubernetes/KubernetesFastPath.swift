import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Maps a plain audit `Event` line straight from its validated bytes to the event
/// ``KubernetesAuditRecord/event(symbols:)`` gives, reading only the members the event uses.
///
/// Nil whenever the line is anything but one plain `Event` object (a list, an array, a wrapper such as a Panther
/// record, an AKS record or a GKE entry with its `protoPayload`, a duplicate or escaped key, a value of an
/// unexpected type): the caller then reads the line through the tree. The request
/// object, when there is one, is read through the tree as before (it decides the name and the pod flags).
struct KubernetesFastMapper {
    typealias Slot = JSONByteScanner.Slot

    let symbols: SymbolTable
    private var cache = ByteValueCache<Symbol>()
    private var addresses = ByteValueCache<IPAddress>()
    /// Details texts by their bytes, apart from the short strings so that large texts cannot crowd them out.
    private var detailsCache = ByteValueCache<Symbol>()
    /// The details text being written, reused from event to event.
    private var detailsWriter = JSONWriter(capacity: 1024)

    init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    private struct Members {
        var kind = Slot()
        var apiVersion = Slot()
        var verb = Slot()
        var objectRef = Slot()
        var requestURI = Slot()
        var stageTimestamp = Slot()
        var requestReceivedTimestamp = Slot()
        var timestamp = Slot()
        var metadata = Slot()
        var user = Slot()
        var impersonatedUser = Slot()
        var sourceIPs = Slot()
        var userAgent = Slot()
        var responseStatus = Slot()
        var requestObject = Slot()
        var annotations = Slot()
        var stage = Slot()
    }

    private static let usernameKeys: [StaticString] = ["username"]
    private static let metadataKeys: [StaticString] = ["metadata"]
    private static let nameKeys: [StaticString] = ["name"]

    /// Whether a request object may hold a pod spec: it names `containers`, or holds escapes (which could
    /// spell it). Only such objects need the tree.
    private static func mayHoldPodSpec(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let key: StaticString = "\"containers\""
        guard let base = bytes.baseAddress else { return false }
        if memchr(base, 0x5C, bytes.count) != nil { return true }
        let count = key.utf8CodeUnitCount
        var index = 0
        while index + count <= bytes.count {
            guard let quote = memchr(base + index, 0x22, bytes.count - index - count + 1) else { return false }
            index = base.distance(to: UnsafeRawPointer(quote))
            if memcmp(base + index, key.utf8Start, count) == 0 { return true }
            index += 1
        }
        return false
    }
    private static let creationKeys: [StaticString] = ["creationTimestamp"]
    private static let codeKeys: [StaticString] = ["code"]
    private static let refKeys: [StaticString] = ["resource", "subresource", "namespace", "name"]

    /// The text of a string slot (decoding escapes as the parser does); nil for any other value.
    private static func text(_ s: JSONByteScanner, _ slot: Slot) -> String? {
        guard slot.kind == .string else { return nil }
        guard slot.escaped else { return String(decoding: s.bytes(slot.start, slot.end), as: UTF8.self) }
        if case .string(let value)? = try? JSONParser.parse(s.bytes(slot.start - 1, slot.end + 1)) { return value }
        return nil
    }

    /// The symbol of a string slot, or of the empty string for any other value.
    private mutating func symbol(_ s: JSONByteScanner, _ slot: Slot) -> Symbol {
        guard slot.kind == .string else { return intern(s.bytes(0, 0)) }
        if slot.escaped { return symbols.intern(Self.text(s, slot) ?? "") }
        return intern(s.bytes(slot.start, slot.end))
    }

    @inline(__always)
    private mutating func intern(_ bytes: UnsafeRawBufferPointer) -> Symbol {
        let symbols = self.symbols
        return cache.value(bytes, tag: 0) { symbols.intern(String(decoding: bytes, as: UTF8.self)) }
    }

    /// The event of the validated object at `range`, or nil when the tree path must read it.
    mutating func event(_ buffer: UnsafeRawBufferPointer, range: Range<Int>, maximumDepth: Int) -> Event? {
        let s = JSONByteScanner(buffer)
        guard s.base[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        var m = Members()
        let complete = s.forEachMember(ofObjectAt: range.lowerBound) { a, b, value in
            switch b - a {
            case 3 where s.matches(a, b, "log"): return false
            case 4 where s.matches(a, b, "kind"): return m.kind.fill(with: value)
            case 4 where s.matches(a, b, "verb"): return m.verb.fill(with: value)
            case 4 where s.matches(a, b, "user"): return m.user.fill(with: value)
            case 5 where s.matches(a, b, "stage"): return m.stage.fill(with: value)
            case 7 where s.matches(a, b, "rule_id"): return false
            case 8 where s.matches(a, b, "metadata"): return m.metadata.fill(with: value)
            case 9 where s.matches(a, b, "objectRef"): return m.objectRef.fill(with: value)
            case 9 where s.matches(a, b, "sourceIPs"): return m.sourceIPs.fill(with: value)
            case 9 where s.matches(a, b, "userAgent"): return m.userAgent.fill(with: value)
            case 9 where s.matches(a, b, "test_name"): return false
            case 9 where s.matches(a, b, "timestamp"): return m.timestamp.fill(with: value)
            case 10 where s.matches(a, b, "apiVersion"): return m.apiVersion.fill(with: value)
            case 10 where s.matches(a, b, "properties"): return false
            case 10 where s.matches(a, b, "requestURI"): return m.requestURI.fill(with: value)
            case 11 where s.matches(a, b, "annotations"): return m.annotations.fill(with: value)
            case 12 where s.matches(a, b, "protoPayload"): return false
            case 13 where s.matches(a, b, "requestObject"): return m.requestObject.fill(with: value)
            case 14 where s.matches(a, b, "stageTimestamp"): return m.stageTimestamp.fill(with: value)
            case 14 where s.matches(a, b, "responseStatus"): return m.responseStatus.fill(with: value)
            case 16 where s.matches(a, b, "impersonatedUser"): return m.impersonatedUser.fill(with: value)
            case 24 where s.matches(a, b, "requestReceivedTimestamp"):
                return m.requestReceivedTimestamp.fill(with: value)
            default: return true
            }
        }
        guard complete else { return nil }
        // Only a plain `Event`: kind absent (or not a string) or exactly `Event`, an audit.k8s.io apiVersion.
        if m.kind.kind == .string {
            guard !m.kind.escaped, s.matches(m.kind.start, m.kind.end, "Event") else { return nil }
        }
        if m.apiVersion.kind == .string {
            let prefix: StaticString = "audit.k8s.io/"
            let api = m.apiVersion
            guard !api.escaped, s.isASCII(api.start, api.end), api.end - api.start >= prefix.utf8CodeUnitCount,
                s.matches(api.start, api.start + prefix.utf8CodeUnitCount, prefix)
            else { return nil }
        }
        guard m.verb.kind != .absent || m.objectRef.kind != .absent || m.requestURI.kind != .absent else {
            return nil
        }

        // Time: the first string of the stamps, else metadata.creationTimestamp.
        var stamp = Slot()
        for slot in [m.stageTimestamp, m.requestReceivedTimestamp, m.timestamp] where slot.kind == .string {
            stamp = slot
            break
        }
        if stamp.kind != .string, m.metadata.kind == .object {
            guard let found = s.members(ofObjectAt: m.metadata.start, named: Self.creationKeys) else { return nil }
            stamp = found[0]
        }
        var time: Int64 = 0
        if stamp.kind == .string {
            if stamp.escaped {
                time = Self.text(s, stamp).flatMap { RFC3339.parse($0) } ?? 0
            } else {
                time = RFC3339.parse(utf8: s.bytes(stamp.start, stamp.end)) ?? 0
            }
        }

        var username = Slot()
        if m.user.kind == .object {
            guard let found = s.members(ofObjectAt: m.user.start, named: Self.usernameKeys) else { return nil }
            username = found[0]
        }
        var flags: KubernetesFields.Flags = []
        if m.impersonatedUser.kind == .object {
            // Its username is not part of the event, but a duplicate would be for the tree to judge.
            guard s.members(ofObjectAt: m.impersonatedUser.start, named: Self.usernameKeys) != nil else {
                return nil
            }
            flags.insert(.impersonated)
        }
        var ref = [Slot](repeating: Slot(), count: 4)
        if m.objectRef.kind == .object {
            guard let found = s.members(ofObjectAt: m.objectRef.start, named: Self.refKeys) else { return nil }
            ref = found
        }
        var responseCode: UInt16 = 0
        if m.responseStatus.kind == .object {
            guard let found = s.members(ofObjectAt: m.responseStatus.start, named: Self.codeKeys) else {
                return nil
            }
            let code = found[0]
            if code.kind == .number {
                // Plain digits only; any other number form is for the tree to convert.
                var value = 0
                for index in code.start..<code.end {
                    let digit = s.base[index] &- UInt8(ascii: "0")
                    guard digit < 10, value < 1 << 20 else { return nil }
                    value = value * 10 + Int(digit)
                }
                if let exact = UInt16(exactly: value) { responseCode = exact }
            }
        }
        // The first string of sourceIPs.
        var address = IPAddress.none
        if m.sourceIPs.kind == .array {
            var index = s.skipSpace(m.sourceIPs.start + 1)
            while s.base[index] != UInt8(ascii: "]") {
                let element = s.slot(at: index)
                if element.kind == .string {
                    if element.escaped {
                        if let text = Self.text(s, element) { address = IPAddress(text) ?? .none }
                    } else {
                        let bytes = s.bytes(element.start, element.end)
                        address = addresses.value(bytes, tag: 0) {
                            IPAddress(String(decoding: bytes, as: UTF8.self)) ?? .none
                        }
                    }
                    break
                }
                index = s.skipSpace(element.after)
                if s.base[index] == UInt8(ascii: ",") { index = s.skipSpace(index + 1) }
            }
        }
        if username.kind == .string {
            let anonymous: StaticString = "system:anonymous"
            if !username.escaped, s.matches(username.start, username.end, anonymous) {
                flags.insert(.anonymous)
            } else if username.escaped || !s.isASCII(username.start, username.end) {
                if Self.text(s, username) == anonymous.description { flags.insert(.anonymous) }
            }
        }

        // The request object decides the name when objectRef has none, and the pod flags.
        var nameText: String?
        var nameSlot = ref[3]
        let request = m.requestObject
        if request.kind == .object, !Self.mayHoldPodSpec(s.bytes(request.start, request.end)) {
            // Without containers the request object only gives the name when objectRef has none.
            if !(nameSlot.kind == .string && nameSlot.end > nameSlot.start) {
                guard let found = s.members(ofObjectAt: request.start, named: Self.metadataKeys) else {
                    return nil
                }
                if found[0].kind == .object {
                    guard let names = s.members(ofObjectAt: found[0].start, named: Self.nameKeys) else {
                        return nil
                    }
                    nameSlot = names[0]
                } else {
                    nameSlot = Slot()
                }
            }
        } else if request.kind == .object {
            let bytes = s.bytes(m.requestObject.start, m.requestObject.end)
            guard let request = try? JSONParser.parse(bytes, maximumDepth: maximumDepth) else { return nil }
            var record = KubernetesAuditRecord()
            record.name = Self.text(s, ref[3]) ?? ""
            record.readRequestObject(request)
            flags.formUnion(record.flags)
            nameText = record.name
        }

        let principal = symbol(s, username)
        let verb = symbol(s, m.verb)
        let resource = symbol(s, ref[0])
        let subresource = symbol(s, ref[1])
        let namespace = symbol(s, ref[2])
        let name = nameText.map { symbols.intern($0) } ?? symbol(s, nameSlot)
        let userAgent = symbol(s, m.userAgent)
        let details = detailsSymbol(
            s,
            [
                m.user, m.impersonatedUser, m.requestURI, m.objectRef, m.requestObject, m.responseStatus, m.annotations,
                m.stage,
            ])
        return Event(
            time: time, kind: .kubernetesRequest, principal: principal,
            fields: .kubernetes(
                KubernetesFields(
                    verb: verb, resource: resource, subresource: subresource, namespace: namespace, name: name,
                    sourceAddress: address, userAgent: userAgent, responseCode: responseCode, flags: flags,
                    details: details)))
    }

    /// The details symbol of the members in `slots` (in the order of ``EventDetailsFormat/kubernetesAudit``'s
    /// keys), copied compactly from the bytes: the text the tree path gives for the same event.
    private mutating func detailsSymbol(_ s: JSONByteScanner, _ slots: [Slot]) -> Symbol {
        EventDetailsFormat.kubernetesAudit.symbol(
            from: s,
            valueStart: { index in
                let slot = slots[index]
                if slot.kind == .absent || slot.kind == .null { return nil }
                return slot.kind == .string ? slot.start - 1 : slot.start
            }, writer: &detailsWriter, cache: &detailsCache, symbols: symbols)
    }
}
