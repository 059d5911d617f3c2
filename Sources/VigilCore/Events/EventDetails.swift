/// How the `details` text of Kubernetes and cloud events is made (``KubernetesFields/details``,
/// ``CloudFields/details``): which members of the source record it keeps, in which order, and how long it may be.
///
/// The text is the compact JSON object of the kept members the record has (null ones left out), each as the
/// record gave it. Parsers that read a record as a tree and parsers that walk its bytes both write it through
/// ``write(into:present:member:)``, so that they give the same text for the same record.
public struct EventDetailsFormat: Sendable {
    /// The members kept, in the order they are written.
    public let keys: [String]
    /// Members left out, one more at a time in this order, while the text is longer than ``maximumLength``;
    /// when it is still too long without all of them, the event has no details.
    public let droppable: [String]
    /// The longest text kept: details are interned, and one oversized record must not fill the symbol table.
    public let maximumLength: Int

    /// A format keeping `keys`.
    public init(keys: [String], droppable: [String], maximumLength: Int = 256 << 10) {
        self.keys = keys
        self.droppable = droppable
        self.maximumLength = maximumLength
    }

    /// A Kubernetes audit event's `user` (groups included), `impersonatedUser`, `requestURI`, `objectRef`,
    /// `requestObject`, `responseStatus`, `annotations` and `stage`; the request object goes first when too long.
    public static let kubernetesAudit = EventDetailsFormat(
        keys: [
            "user", "impersonatedUser", "requestURI", "objectRef", "requestObject", "responseStatus", "annotations",
            "stage",
        ],
        droppable: ["requestObject"])

    /// A CloudTrail record's `userIdentity`, `requestParameters`, `responseElements`, `additionalEventData`,
    /// `errorMessage` and `eventType`; the response elements go first when too long, then the request parameters.
    public static let cloudTrail = EventDetailsFormat(
        keys: [
            "userIdentity", "requestParameters", "responseElements", "additionalEventData", "errorMessage",
            "eventType",
        ],
        droppable: ["responseElements", "requestParameters"])

    /// Writes into `writer` (emptied first) the details object of the members at the positions in ``keys`` for
    /// which `present` is true, each value written by `member`. Returns false, with `writer` empty, when no
    /// member is present or the text stays too long.
    public func write(
        into writer: inout JSONWriter, present: (Int) -> Bool, member: (Int, inout JSONWriter) -> Void
    ) -> Bool {
        for leftOut in 0...droppable.count {
            writer.reset()
            writer.beginObject()
            var written = 0
            for index in keys.indices where present(index) && !droppable.prefix(leftOut).contains(keys[index]) {
                writer.key(keys[index])
                member(index, &writer)
                written += 1
            }
            writer.endObject()
            if written == 0 { break }
            if writer.bytes.count <= maximumLength { return true }
        }
        writer.reset()
        return false
    }

    /// The interned details text of a record read by a fast path: `valueStart` gives where member `index`'s
    /// value starts in `scanner`'s bytes (the opening quote of a string), nil when it is absent or null. Equal
    /// texts come back as the same symbol through `cache` without interning again; none when no member is
    /// present.
    public func symbol(
        from scanner: JSONByteScanner, valueStart: (Int) -> Int?, writer: inout JSONWriter,
        cache: inout ByteValueCache<Symbol>, symbols: SymbolTable
    ) -> Symbol {
        let found = write(
            into: &writer, present: { valueStart($0) != nil },
            member: { index, writer in
                if let start = valueStart(index) { writer.compactValue(scanner, at: start) }
            })
        guard found else { return .none }
        return writer.bytes.withUnsafeBytes { bytes in
            cache.value(bytes, tag: 0) { symbols.intern(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    /// The details text of a record read as a tree: `member` gives a member's value, nil when absent (null
    /// counts as absent). Empty when there is none.
    public func text(_ member: (String) -> JSONValue?) -> String {
        var writer = JSONWriter(capacity: 512)
        let found = write(
            into: &writer, present: { index in member(keys[index]).map { !$0.isNull } ?? false },
            member: { index, writer in writer.value(member(keys[index]) ?? .null) })
        return found ? writer.text : ""
    }
}
