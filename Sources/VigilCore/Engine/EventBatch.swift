/// A reusable, contiguous buffer of events: the unit that moves between sensors, shards and detectors.
///
/// Sensors fill one and push it; the sink hands its buffer to the engine and returns the batch empty
/// with a recycled buffer, so steady-state batching allocates nothing.
public struct EventBatch: RandomAccessCollection, Sendable {
    /// The events, in order.
    public var events: ContiguousArray<Event>

    /// An empty batch with room for `capacity` events.
    public init(capacity: Int = 1024) {
        events = []
        events.reserveCapacity(capacity)
    }

    /// A batch holding `events`.
    public init(_ events: some Sequence<Event>) {
        self.events = ContiguousArray(events)
    }

    /// A batch over `events`, sharing its storage.
    @inlinable
    public init(_ events: ContiguousArray<Event>) {
        self.events = events
    }

    /// The first event's index (0).
    @inlinable public var startIndex: Int { events.startIndex }
    /// One past the last event's index.
    @inlinable public var endIndex: Int { events.endIndex }
    /// The event at `position`.
    @inlinable public subscript(position: Int) -> Event { events[position] }

    /// Appends an event.
    @inlinable
    public mutating func append(_ event: Event) { events.append(event) }

    /// Empties the batch, keeping its storage for reuse.
    @inlinable
    public mutating func removeAll() { events.removeAll(keepingCapacity: true) }
}
