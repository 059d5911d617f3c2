import VigilCore

/// The in-memory profile store for tests: VigilCore's ``VigilCore/MemoryProfileStore`` under the name the
/// test kit has always used.
public typealias InMemoryProfileStore = MemoryProfileStore
