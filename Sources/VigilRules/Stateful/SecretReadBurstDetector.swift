import VigilCore

/// Flags one cloud principal reading the values of many distinct AWS Secrets Manager secrets within a short
/// window: stolen credentials dumping every secret they reach (T1555.006, Cloud Secrets Management Stores).
/// An application reads its own few secrets, often the same ones again and again; that raises nothing.
///
/// Counted are successful `GetSecretValue` calls (the secret is the event's resource) and `BatchGetSecretValue`
/// calls. A batch that names its secrets (`secretIdList`) counts each of them; the names are in the request
/// parameters of the event's details, read once per distinct details text. A batch that selects by filter names
/// none, and CloudTrail does not log which secrets it returned (AWS logs a `GetSecretValue` entry per secret
/// besides, and those are counted as such): each page of a filtered batch counts as one secret at least, the
/// pages of one read being told apart from a later re-read of the same filter by the
/// ``Configuration/paginationGap`` between them. A secret named by ARN and by name counts once (the ARN's
/// random suffix is dropped).
///
/// When ``Configuration/threshold`` distinct secrets were read within ``Configuration/window`` by one
/// principal, one finding is raised, high severity, with the reads as evidence; then none for that principal
/// until a window has passed. Events may come slightly out of order (CloudTrail delivers them so): the window
/// is measured back from the latest read seen.
///
/// State is one shard's (control-plane events are sharded by principal) and bounded: at most
/// ``Configuration/threshold`` reads per principal, at most ``Configuration/maximumPrincipals`` principals
/// (idle ones aged out once per window, then the least recently active evicted, both counted), and bounded
/// caches from a secret's symbol and a batch's details to what they name. The per-event path compares
/// symbols and hashes a cached key; it allocates only when a principal, secret or batch is first seen, and when
/// idle principals are swept (once per window).
public struct SecretReadBurstDetector: Detector {
    /// When a burst is reported, and the bounds of the state.
    public struct Configuration: Sendable, Equatable {
        /// How many distinct secrets one principal must read within the window.
        public var threshold: Int
        /// The window, in nanoseconds.
        public var window: Int64
        /// How many principals one shard follows at most.
        public var maximumPrincipals: Int
        /// The longest pause, in nanoseconds, between two pages of one filtered batch read.
        public var paginationGap: Int64

        /// Creates a configuration; by default 5 distinct secrets within 10 minutes, 4,096 principals, pages at
        /// most 30 s apart.
        public init(
            threshold: Int = 5, window: Int64 = 600 * 1_000_000_000, maximumPrincipals: Int = 4_096,
            paginationGap: Int64 = 30 * 1_000_000_000
        ) {
            self.threshold = max(2, threshold)
            self.window = window
            self.maximumPrincipals = max(1, maximumPrincipals)
            self.paginationGap = paginationGap
        }
    }

    /// What the detector did, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Secrets counted (a batch counts each secret it names).
        public var reads: UInt64 = 0
        /// Principals forgotten after a window without reads.
        public var principalsAgedOut: UInt64 = 0
        /// Principals forgotten because the bound was reached.
        public var principalsEvicted: UInt64 = 0
        /// Times a cache of secret names or batch contents was emptied because it was full.
        public var cacheResets: UInt64 = 0
        /// Findings raised.
        public var findings: UInt64 = 0

        /// Statistics with every count zero.
        public init() {}
    }

    /// The rule the findings name.
    public static let rule = RuleReference(id: "vigil.cloud.secret-read-burst", name: "Burst of secret value reads")
    /// Cloud Secrets Management Stores, credential access.
    public static let mitre = MITREMapping(tactic: .credentialAccess, technique: "T1555.006")

    /// The thresholds and bounds.
    public let configuration: Configuration
    /// What the detector did so far.
    public private(set) var statistics = Statistics()

    private let symbols: SymbolTable
    private let service: Symbol
    private let getSecretValue: Symbol
    private let batchGetSecretValue: Symbol

    /// One secret read: its key, the latest time, the event that read it, and its name (none for a filtered page).
    private struct Read {
        var key: UInt64
        var time: Int64
        var event: Event
        var name: Symbol
    }

    /// What one principal read lately.
    private struct Principal {
        /// Distinct secrets read within the window, at most `threshold`.
        var reads: ContiguousArray<Read>
        /// The latest read's time.
        var latest: Int64
        /// When the last finding was raised.
        var reported: Int64?
        /// The last filtered batch: its details, time and page number.
        var filter: Symbol = .none
        var filterTime: Int64 = .min
        var filterPage: UInt64 = 0
    }

    /// What a batch read selects.
    private enum Selection {
        /// The secrets it names: keys and names.
        case named([(key: UInt64, name: Symbol)])
        /// A filter: the secrets are not in the record.
        case filtered
    }

    private var principals: [Symbol: Principal] = [:]
    private var secretKeys: [Symbol: UInt64] = [:]
    private var batches: [Symbol: Selection] = [:]
    private var nextSweep: Int64 = .min
    private static let maximumSecretKeys = 16_384
    private static let maximumBatches = 1_024

    /// Creates a detector over `symbols`.
    public init(symbols: SymbolTable, configuration: Configuration = Configuration()) {
        self.symbols = symbols
        self.configuration = configuration
        service = symbols.intern("secretsmanager")
        getSecretValue = symbols.intern("GetSecretValue")
        batchGetSecretValue = symbols.intern("BatchGetSecretValue")
    }

    /// A factory for the engine: one detector per shard.
    public static func factory(configuration: Configuration = Configuration()) -> DetectorFactory {
        { shard in SecretReadBurstDetector(symbols: shard.symbols, configuration: configuration) }
    }

    /// How many principals are followed now.
    public var followedPrincipals: Int { principals.count }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        for event in events where event.kind == .cloudAPICall {
            guard case .cloud(let cloud) = event.fields, cloud.service == service, cloud.errorCode.isNone,
                !event.principal.isNone
            else { continue }
            if cloud.action == getSecretValue {
                guard !cloud.resource.isNone else { continue }
                let key = secretKey(cloud.resource)
                guard var principal = take(event) else { continue }
                add(Read(key: key, time: event.time, event: event, name: cloud.resource), to: &principal)
                settle(principal, after: event, into: &findings)
            } else if cloud.action == batchGetSecretValue {
                let selection = selection(of: cloud.details)
                guard var principal = take(event) else { continue }
                switch selection {
                case .named(let secrets):
                    for secret in secrets {
                        add(Read(key: secret.key, time: event.time, event: event, name: secret.name), to: &principal)
                    }
                case .filtered:
                    // Pages may arrive slightly out of order: one earlier than the last counts as close.
                    let follows =
                        principal.filter == cloud.details && principal.filterTime != .min
                        && event.time - principal.filterTime <= configuration.paginationGap
                    if follows {
                        principal.filterPage += 1
                    } else {
                        principal.filterPage = 0
                    }
                    principal.filter = cloud.details
                    principal.filterTime = max(principal.filterTime, event.time)
                    let key = Self.pageKey(details: cloud.details, page: principal.filterPage)
                    add(Read(key: key, time: event.time, event: event, name: .none), to: &principal)
                }
                settle(principal, after: event, into: &findings)
            }
        }
    }

    // MARK: Principals

    /// The state of the event's principal, taken out of the table (put back by `settle`); a new one when unknown.
    private mutating func take(_ event: Event) -> Principal? {
        if event.time >= nextSweep { sweep(now: event.time) }
        if let principal = principals.removeValue(forKey: event.principal) { return principal }
        if principals.count >= configuration.maximumPrincipals {
            sweep(now: event.time)
            if principals.count >= configuration.maximumPrincipals,
                let idle = principals.min(by: { $0.value.latest < $1.value.latest })
            {
                principals.removeValue(forKey: idle.key)
                statistics.principalsEvicted += 1
            }
        }
        var reads = ContiguousArray<Read>()
        reads.reserveCapacity(configuration.threshold)
        return Principal(reads: reads, latest: event.time)
    }

    /// Forgets principals with no read within the window; runs at most once per window.
    private mutating func sweep(now: Int64) {
        nextSweep = now + configuration.window
        let limit = now - configuration.window
        let before = principals.count
        principals = principals.filter { $0.value.latest >= limit }
        statistics.principalsAgedOut += UInt64(before - principals.count)
    }

    /// Counts one secret read: a secret already read moves to its latest time; reads older than the window go.
    private mutating func add(_ read: Read, to principal: inout Principal) {
        statistics.reads += 1
        principal.latest = max(principal.latest, read.time)
        let limit = principal.latest - configuration.window
        var index = principal.reads.startIndex
        while index < principal.reads.endIndex {
            if principal.reads[index].time <= limit {
                principal.reads.remove(at: index)
            } else {
                index += 1
            }
        }
        guard read.time > limit else { return }
        if let existing = principal.reads.firstIndex(where: { $0.key == read.key }) {
            if read.time >= principal.reads[existing].time { principal.reads[existing] = read }
            return
        }
        if principal.reads.count >= configuration.threshold, let oldest = oldestIndex(principal.reads) {
            principal.reads[oldest] = read
        } else {
            principal.reads.append(read)
        }
    }

    /// Reports a burst when there is one and none was reported within the window, then puts the state back.
    private mutating func settle(_ principal: Principal, after event: Event, into findings: inout [Finding]) {
        var principal = principal
        let quiet = principal.reported.map { principal.latest - $0 >= configuration.window } ?? true
        if principal.reads.count >= configuration.threshold, quiet {
            principal.reported = principal.latest
            statistics.findings += 1
            findings.append(finding(principal, event: event))
        }
        principals[event.principal] = principal
    }

    private func oldestIndex(_ reads: ContiguousArray<Read>) -> Int? {
        var oldest: Int?
        for index in reads.indices where oldest == nil || reads[index].time < reads[oldest!].time { oldest = index }
        return oldest
    }

    // MARK: Secrets

    /// The key of the secret a `GetSecretValue` names, cached by symbol.
    private mutating func secretKey(_ resource: Symbol) -> UInt64 {
        if let key = secretKeys[resource] { return key }
        let key = Self.key(Self.secretName(symbols.string(resource)))
        if secretKeys.count >= Self.maximumSecretKeys {
            secretKeys.removeAll(keepingCapacity: true)
            statistics.cacheResets += 1
        }
        secretKeys[resource] = key
        return key
    }

    /// What a `BatchGetSecretValue` selects, read from its details' request parameters once per details text.
    private mutating func selection(of details: Symbol) -> Selection {
        if let cached = batches[details] { return cached }
        var selection = Selection.filtered
        if !details.isNone, let record = try? JSONParser.parse(symbols.string(details)),
            let list = (record["requestParameters"]?["secretIdList"] ?? record["requestParameters"]?["SecretIdList"])?
                .array
        {
            var named: [(key: UInt64, name: Symbol)] = []
            for id in list.compactMap(\.string) where !id.isEmpty {
                named.append((key: Self.key(Self.secretName(id)), name: symbols.intern(id)))
            }
            if !named.isEmpty { selection = .named(named) }
        }
        if batches.count >= Self.maximumBatches {
            batches.removeAll(keepingCapacity: true)
            statistics.cacheResets += 1
        }
        batches[details] = selection
        return selection
    }

    /// A secret's name from its id: the id itself, or for an ARN
    /// (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf`) the name without the six-character suffix
    /// Secrets Manager appends, so that a secret read by ARN and by name is one secret.
    static func secretName(_ id: String) -> Substring {
        // arn : partition : service : region : account : secret : name
        let parts = id.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", parts[5] == "secret" else { return Substring(id) }
        let name = parts[6]
        let bytes = name.utf8
        guard bytes.count > 7 else { return name }
        let dash = bytes.index(bytes.endIndex, offsetBy: -7)
        let suffix = bytes[bytes.index(after: dash)...]
        let isSuffix =
            bytes[dash] == UInt8(ascii: "-")
            && suffix.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            }
        return isSuffix ? name[..<dash] : name
    }

    /// FNV-1a over the name's bytes: a key that stays the same for the same name.
    static func key(_ name: Substring) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// The key of one page of a filtered batch: its details and its page number, kept apart from names' keys
    /// by a tag byte no name's hash starts from.
    static func pageKey(details: Symbol, page: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ 0xff
        for word in [UInt64(details.rawValue), page] {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= (word >> UInt64(shift)) & 0xff
                hash &*= 0x100_0000_01b3
            }
        }
        return hash
    }

    // MARK: Finding (only when one is raised)

    private func finding(_ principal: Principal, event: Event) -> Finding {
        let reads = principal.reads.sorted { $0.time < $1.time }
        let names = reads.filter { !$0.name.isNone }.map { String(Self.secretName(symbols.string($0.name))) }
        let pages = reads.count - names.count
        var evidence: [Event] = []
        for read in reads where read.event != event && !evidence.contains(read.event) { evidence.append(read.event) }
        let span = (reads.last?.time ?? event.time) - (reads.first?.time ?? event.time)
        var what: [String] = []
        if !names.isEmpty {
            let shown = names.prefix(5).joined(separator: ", ")
            what.append(names.count > 5 ? "\(shown) and \(names.count - 5) more" : shown)
        }
        if pages > 0 {
            what.append(
                "\(pages) \(pages == 1 ? "page" : "pages") of BatchGetSecretValue by filter, whose secrets CloudTrail "
                    + "does not name (each counted as one)")
        }
        let window = ContainerDriftDetector.duration(configuration.window)
        return Finding(
            severity: .high, rule: Self.rule, mitre: Self.mitre, event: event, evidence: evidence,
            explanation:
                "\(symbols.string(event.principal)) read the values of \(reads.count) distinct Secrets Manager secrets "
                + "within \(ContainerDriftDetector.duration(span)) (\(what.joined(separator: "; "))): "
                + "\(configuration.threshold) or more in \(window) is how stolen credentials dump a secrets store, "
                + "not how an application loads its configuration.")
    }
}
