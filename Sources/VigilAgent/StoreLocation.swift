import VigilCore
import VigilProfiles
import VigilSQLite

/// Where profiles are kept: `memory`, `files:DIR` or `sqlite:PATH` (the embedded default).
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// Nothing persists.
    case memory
    /// One JSON file per profile under a directory.
    case files(String)
    /// A SQLite database.
    case sqlite(String)

    /// The embedded default: `sqlite:.vigil/vigil.sqlite`.
    public static let standard = StoreLocation.sqlite(SQLiteProfileStore.defaultPath)

    /// Parses `memory`, `files:DIR`, `sqlite:PATH` or `sqlite` (the default path).
    public init(parsing text: String) throws {
        if text == "memory" {
            self = .memory
        } else if text == "sqlite" {
            self = .standard
        } else if text.hasPrefix("sqlite:"), text.count > 7 {
            self = .sqlite(String(text.dropFirst(7)))
        } else if text.hasPrefix("files:"), text.count > 6 {
            self = .files(String(text.dropFirst(6)))
        } else {
            throw AgentError("'\(text)' is not a store: use memory, files:DIR or sqlite:PATH")
        }
    }

    /// Opens the store.
    public func open() throws -> any ProfileStore {
        switch self {
        case .memory: return MemoryProfileStore()
        case .files(let directory): return try FileProfileStore(directory: directory)
        case .sqlite(let path): return try SQLiteProfileStore(path: path)
        }
    }

    public var description: String {
        switch self {
        case .memory: return "memory"
        case .files(let directory): return "files:\(directory)"
        case .sqlite(let path): return "sqlite:\(path)"
        }
    }
}
