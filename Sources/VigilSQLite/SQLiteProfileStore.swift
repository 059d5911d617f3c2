import Foundation
import GRDB
import VigilCore

/// The embedded default profile store (the agent's `--store sqlite:PATH`): one row per profile in Vigil's
/// SQLite database.
///
/// `save` writes the whole group in one transaction, so a reader, or a restart after the process is
/// killed, sees all of a group or none of it. The table is
/// `profile(subject, name, state, updated_at, body)`, keyed by `(subject, name)`, with `updated_at` in
/// nanoseconds since the epoch and the body as a BLOB, as given.
///
/// Queries run on GRDB's own dispatch queues, never blocking a thread of Swift's cooperative pool.
public struct SQLiteProfileStore: ProfileStore {
    /// Where the agent keeps its database unless told otherwise, relative to its working directory.
    public static let defaultPath = ".vigil/vigil.sqlite"

    /// The database the profiles live in.
    public let database: VigilDatabase

    /// A store over an open database, sharing it with the database's other stores.
    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Opens (or creates) the database at `path`, with its parent directory.
    ///
    /// - Throws: ``SQLiteStoreError`` when the directory or the database cannot be made or opened.
    public init(path: String = defaultPath) throws(SQLiteStoreError) {
        self.init(database: try VigilDatabase(path: path))
    }

    /// The profile with `key`, or nil.
    ///
    /// - Throws: ``SQLiteStoreError/Code/invalidRow`` when the row's state is not one this version knows,
    ///   ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func load(_ key: ProfileKey) async throws -> StoredProfile? {
        let row = try await database.query("loading profile \(key)") { db in
            try Row.fetchOne(
                db, sql: "SELECT state, updated_at, body FROM profile WHERE subject = ? AND name = \(Self.name)",
                arguments: [key.subject.rawValue, Data(key.name.utf8)]
            ).map { row -> (state: String, updatedAt: Int64, body: Data) in
                (row[0], row[1], row[2] ?? Data())
            }
        }
        guard let row else { return nil }
        guard let state = ProfileState(rawValue: row.state) else {
            let known = ProfileState.allCases.map(\.rawValue).joined(separator: ", ")
            throw SQLiteStoreError(
                code: .invalidRow, path: database.path,
                message: "SQLite store: profile \(key) in \(database.path) has state '\(row.state)', which is not "
                    + "one of \(known) (written by a newer Vigil?); upgrade Vigil, or remove the profile "
                    + "so that it is learned again")
        }
        return StoredProfile(key: key, state: state, updatedAt: row.updatedAt, body: [UInt8](row.body))
    }

    /// Saves the profiles in one transaction: all of them, or, when it throws, none.
    ///
    /// - Throws: ``SQLiteStoreError/Code/queryFailed`` when SQLite fails (a full disk, a read-only file).
    public func save(_ profiles: [StoredProfile]) async throws {
        if profiles.isEmpty { return }
        try await database.query("saving \(profiles.count) profiles", write: true) { db in
            // An empty body is bound as a NULL pointer, which SQLite takes for NULL: coalesce it back to x''.
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO profile (subject, name, state, updated_at, body)
                    VALUES (?, \(Self.name), ?, ?, coalesce(?, x''))
                    ON CONFLICT (subject, name) DO UPDATE
                    SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body
                    """)
            for profile in profiles {
                try statement.execute(arguments: [
                    profile.key.subject.rawValue, Data(profile.key.name.utf8), profile.state.rawValue,
                    profile.updatedAt, Data(profile.body),
                ])
            }
        }
    }

    /// The keys of every profile, sorted by subject, then name. Rows of a subject this version does not know
    /// (written by a newer Vigil) are left out.
    ///
    /// - Throws: ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func keys() async throws -> [ProfileKey] {
        let rows = try await database.query("listing profiles") { db in
            // Read as a blob, for the same reason names are written as one (see `name`).
            try Row.fetchAll(db, sql: "SELECT subject, CAST(name AS BLOB) FROM profile").map {
                row -> (String, Data) in (row[0], row[1] ?? Data())
            }
        }
        let keys = rows.compactMap { subject, name in
            ProfileSubject(rawValue: subject).map {
                ProfileKey(subject: $0, name: String(decoding: name, as: UTF8.self))
            }
        }
        // Sorted here rather than in SQL, so the order is Swift's string order, as in every other store.
        return keys.sorted { ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name) }
    }

    /// Removes the profile with `key`; a missing key is not an error.
    ///
    /// - Throws: ``SQLiteStoreError/Code/queryFailed`` when SQLite fails.
    public func remove(_ key: ProfileKey) async throws {
        try await database.query("removing profile \(key)", write: true) { db in
            try db.execute(
                sql: "DELETE FROM profile WHERE subject = ? AND name = \(Self.name)",
                arguments: [key.subject.rawValue, Data(key.name.utf8)])
        }
    }

    /// How a profile name goes into SQL. GRDB binds a String as a C string, which would end a name at its first
    /// NUL (so that "a\0b" and "a\0c" would share a row); bound as UTF-8 bytes and cast to TEXT, the name
    /// keeps its full length and stays text for anyone reading the table. An empty blob binds as NULL, hence
    /// `coalesce`.
    private static let name = "CAST(coalesce(?, x'') AS TEXT)"
}
