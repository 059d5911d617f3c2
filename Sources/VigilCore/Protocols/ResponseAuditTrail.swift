import DequeModule

/// One entry of the response audit trail: a record and the alert it answered.
public struct ResponseAuditEntry: Sendable, Equatable {
    /// The id of the finding or incident the action answered (`f-…`, `i-…`).
    public var alertID: String
    /// The action and how it ended.
    public var record: ResponseRecord

    /// Creates an entry.
    public init(alertID: String, record: ResponseRecord) {
        self.alertID = alertID
        self.record = record
    }
}

/// Keeps every response record, so that an operator can see what was done, refused or only considered, and why.
///
/// Responders write a record for each action they consider, taken or not (refusals and dry runs included).
/// Implementations: ``MemoryResponseAuditTrail`` here, and the SQLite trail in `VigilSQLite`.
public protocol ResponseAuditTrail: Sendable {
    /// Appends `record`, made in answer to the alert with id `alertID`.
    func record(_ record: ResponseRecord, alertID: String) async throws
    /// The records made for the alert with id `id`, in the order they were appended.
    func records(forAlert id: String) async throws -> [ResponseRecord]
    /// The last `limit` entries, in the order they were appended (oldest first).
    func latest(_ limit: Int) async throws -> [ResponseAuditEntry]
}

/// An audit trail in memory: nothing survives the process. It keeps the last `capacity` entries, so a long
/// run cannot grow it without limit.
public actor MemoryResponseAuditTrail: ResponseAuditTrail {
    private var entries = Deque<ResponseAuditEntry>()
    /// How many entries it keeps; older ones are dropped first.
    public let capacity: Int

    /// Creates an empty trail that keeps the last `capacity` entries.
    public init(capacity: Int = 10_000) {
        precondition(capacity > 0, "an audit trail keeps at least one entry")
        self.capacity = capacity
    }

    /// Appends `record`, dropping the oldest entry when the trail is full.
    public func record(_ record: ResponseRecord, alertID: String) {
        if entries.count == capacity { entries.removeFirst() }
        entries.append(ResponseAuditEntry(alertID: alertID, record: record))
    }

    /// The records made for the alert with id `id`, oldest first.
    public func records(forAlert id: String) -> [ResponseRecord] {
        entries.filter { $0.alertID == id }.map(\.record)
    }

    /// The last `limit` entries, oldest first.
    public func latest(_ limit: Int) -> [ResponseAuditEntry] {
        Array(entries.suffix(max(0, limit)))
    }
}
