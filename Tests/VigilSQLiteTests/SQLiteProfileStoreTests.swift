import Foundation
import GRDB
import Testing
import VigilCore
import VigilSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SQLite store's own promises: its schema, and clear errors for what it cannot read or open.
///
/// The tests look at the database through a connection of their own, as `sqlite3` or another tool would.
@Suite("SQLiteProfileStore")
struct SQLiteProfileStoreTests {
    @Test func theDefaultPathIsInTheVigilDirectory() {
        #expect(SQLiteProfileStore.defaultPath == ".vigil/vigil.sqlite")
    }

    @Test func openingCreatesTheDirectoriesAndTheSchema() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/var/lib/vigil/vigil.sqlite"
            let store = try SQLiteProfileStore(path: path)
            try await store.save([workload("web")])
            #expect(store.database.path == path)

            let db = try DatabaseQueue(path: path)
            try await db.read { db in
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(profile)").map { row in
                    let name: String = row["name"]
                    let type: String = row["type"]
                    return "\(name) \(type) notnull=\(row["notnull"] as Int) pk=\(row["pk"] as Int)"
                }
                #expect(
                    columns == [
                        "subject TEXT notnull=1 pk=1", "name TEXT notnull=1 pk=2", "state TEXT notnull=1 pk=0",
                        "updated_at INTEGER notnull=1 pk=0", "body BLOB notnull=1 pk=0",
                    ])
                #expect(
                    try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") == [
                        "v1: profiles", "v2: response audit trail", "v3: incidents",
                    ])
                #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM profile") == 1)
                // Names stay text for people reading the table, though they are bound as bytes.
                #expect(try String.fetchOne(db, sql: "SELECT typeof(name) || ' ' || name FROM profile") == "text web")
            }
        }
    }

    @Test func theSameDatabaseServesSeveralStoresAndReopens() async throws {
        try await withTemporaryDirectory { directory in
            let database = try VigilDatabase(path: directory + "/vigil.sqlite")
            let first = SQLiteProfileStore(database: database)
            let second = SQLiteProfileStore(database: database)
            try await first.save([workload("web")])
            #expect(try await second.keys() == [ProfileKey(subject: .workload, name: "web")])
            // Opening again runs no migration twice.
            let reopened = try SQLiteProfileStore(path: directory + "/vigil.sqlite")
            #expect(try await reopened.load(ProfileKey(subject: .workload, name: "web")) == workload("web"))
        }
    }

    @Test func aRowWithAnUnknownStateIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            let store = try SQLiteProfileStore(path: path)
            let good = workload("good")
            try await store.save([good, workload("odd")])
            let db = try DatabaseQueue(path: path)
            try await db.write { db in
                try db.execute(sql: "UPDATE profile SET state = 'hibernating' WHERE name = 'odd'")
                // A subject a newer Vigil might add: not a key this version can name.
                try db.execute(
                    sql: "INSERT INTO profile VALUES ('node', 'node-1', 'ready', 1, x'')")
            }

            let error = await #expect(throws: SQLiteStoreError.self) {
                try await store.load(ProfileKey(subject: .workload, name: "odd"))
            }
            #expect(error?.code == .invalidRow)
            #expect(error?.path == path)
            #expect(error?.description.contains("'hibernating'") == true)
            #expect(error?.description.contains("workload:odd") == true)
            #expect(try await store.load(good.key) == good)
            #expect(try await store.keys() == [good.key, ProfileKey(subject: .workload, name: "odd")])
        }
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SQLiteStoreError.self) { try SQLiteProfileStore(path: path) }
            #expect(error?.code == .cannotOpen)
            #expect(error?.description.contains(path) == true)
            #expect(error?.underlying is DatabaseError)
        }
    }

    @Test func aDirectoryInTheWayIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: SQLiteStoreError.self) { try SQLiteProfileStore(path: directory) }
            #expect(error?.code == .cannotOpen)

            try Data().write(to: URL(fileURLWithPath: directory + "/file"))
            let blocked = #expect(throws: SQLiteStoreError.self) {
                try SQLiteProfileStore(path: directory + "/file/sub/vigil.sqlite")
            }
            #expect(blocked?.code == .cannotCreateDirectory)
            #expect(blocked?.call == "mkdir")
            #expect(blocked?.errorNumber == ENOTDIR)
            #expect(blocked?.description.contains("errno \(ENOTDIR)") == true)
        }
    }

    @Test func aForeignTableIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/other.sqlite"
            let db = try DatabaseQueue(path: path)
            try await db.write { db in try db.execute(sql: "CREATE TABLE profile (id INTEGER PRIMARY KEY)") }
            let error = #expect(throws: SQLiteStoreError.self) { try SQLiteProfileStore(path: path) }
            #expect(error?.code == .cannotOpen)
            #expect(error?.description.contains("schema") == true)
        }
    }
}
