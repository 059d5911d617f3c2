/// A set of strings with a size bound. Past the bound it stops growing and records that it overflowed,
/// so growth is never unbounded and never silent.
public struct BoundedSet: Sendable, Equatable {
    /// The members.
    public private(set) var members: Set<String> = []
    /// The most members kept.
    public let capacity: Int
    /// Whether a member was refused because the set was full.
    public private(set) var overflowed = false

    /// Creates an empty set holding at most `capacity` members.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds a member; returns true when it was new and kept, false when known or refused.
    @discardableResult
    public mutating func insert(_ member: String) -> Bool {
        if members.contains(member) { return false }
        guard members.count < capacity else {
            overflowed = true
            return false
        }
        members.insert(member)
        return true
    }

    /// Removes a member.
    public mutating func remove(_ member: String) { members.remove(member) }

    /// Whether `member` is in the set.
    public func contains(_ member: String) -> Bool { members.contains(member) }

    /// The members, sorted.
    public var sorted: [String] { members.sorted() }

    /// How many members the set holds.
    public var count: Int { members.count }

    /// Adds every member of `other` (as far as the bound allows).
    public mutating func merge(_ other: BoundedSet) {
        for member in other.members.sorted() { insert(member) }
        if other.overflowed { overflowed = true }
    }

    /// Marks the set as overflowed (when restoring a stored profile).
    mutating func markOverflowed() { overflowed = true }
}
