import Foundation
import Testing
import VigilCore
import VigilProfiles
import VigilSQLite

/// The stores every conformance test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case files
    case sqlite

    /// Opens the store kept in `directory` (a fresh, empty store for `memory`).
    func open(in directory: String) throws -> any ProfileStore {
        switch self {
        case .memory: MemoryProfileStore()
        case .files: try FileProfileStore(directory: directory + "/profiles")
        case .sqlite: try SQLiteProfileStore(path: directory + "/db/vigil.sqlite")
        }
    }

    var testDescription: String { rawValue }
}

/// Runs `body` with a new empty directory, and removes the directory afterwards.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("vigil-store-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A compact JSON body, as the profile model writes one.
func jsonBody(_ members: [(key: String, value: JSONValue)]) -> [UInt8] {
    var writer = JSONWriter()
    writer.value(.object(JSONObject(members)))
    return writer.bytes
}

/// A workload profile named `name`.
func workload(
    _ name: String, state: ProfileState = .learning, updatedAt: Int64 = 1_795_910_400_123_456_789,
    body: [UInt8]? = nil
) -> StoredProfile {
    StoredProfile(
        key: ProfileKey(subject: .workload, name: name), state: state, updatedAt: updatedAt,
        body: body ?? jsonBody([("name", .string(name))]))
}

/// Sorts keys the way every store lists them.
func sortedKeys(_ keys: [ProfileKey]) -> [ProfileKey] {
    keys.sorted { ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name) }
}
