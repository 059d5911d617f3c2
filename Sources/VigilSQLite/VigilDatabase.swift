import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Vigil's SQLite database: one file that holds the profiles, the response audit trail and the incidents.
///
/// Opening creates the parent directory and the file when missing and brings the schema up to date. The
/// database runs in WAL mode, so readers never wait for the writer, and other processes (an inspection tool,
/// `sqlite3`) may read it while the agent writes. Open one `VigilDatabase` per file and process, and share it
/// between the stores that use it.
public final class VigilDatabase: Sendable {
    /// The database file's path, as given.
    public let path: String
    /// The connections: one writer, several readers.
    let pool: DatabasePool

    /// Opens (or creates) the database at `path` and applies any migration it lacks.
    ///
    /// - Throws: ``SQLiteStoreError`` with ``SQLiteStoreError/Code/cannotCreateDirectory`` when the parent
    ///   directory cannot be made, or ``SQLiteStoreError/Code/cannotOpen`` when the file cannot be opened as a
    ///   Vigil database or migrated.
    public init(path: String) throws(SQLiteStoreError) {
        self.path = path
        try Self.makeParentDirectory(of: path)

        var configuration = Configuration()
        configuration.label = "vigil"
        // Another process holding the write lock for a moment (a second tool on the same file) delays a save
        // rather than failing it.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // GRDB already chooses NORMAL for WAL databases; it is stated here because durability depends on
            // it. With WAL, a commit is in the WAL file (at least in the kernel's page cache) before it
            // returns, so a killed or crashed agent loses no committed transaction, and the database is never
            // corrupt. Power loss or a kernel crash can lose the last commits before a checkpoint, never the
            // database's integrity. Profiles are saved again and again as they learn, so that loss costs a
            // few minutes of learning; FULL would add an fsync to every save for it.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }

        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw SQLiteStoreError(
                code: .cannotOpen, path: path,
                message: "SQLite store: cannot open \(path): \(error); check that the path names a Vigil database "
                    + "file (or none yet) that the agent may read and write (--store sqlite:PATH)",
                underlying: error)
        }
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw SQLiteStoreError(
                code: .cannotOpen, path: path,
                message: "SQLite store: cannot bring the schema of \(path) up to date: \(error); the file may "
                    + "belong to another program, or be damaged: move it aside and Vigil will create a new one",
                underlying: error)
        }
    }

    /// The schema's history. Append-only: a released migration is never edited, removed or reordered, since
    /// databases in the field have applied it; later versions register new ones after these.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: profiles") { db in
            try db.execute(
                sql: """
                    CREATE TABLE profile (
                        subject TEXT NOT NULL,
                        name TEXT NOT NULL,
                        state TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        PRIMARY KEY (subject, name)
                    )
                    """)
        }
        migrator.registerMigration("v2: response audit trail") { db in
            try db.execute(
                sql: """
                    CREATE TABLE response_audit (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        alert_id TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        pid INTEGER NOT NULL,
                        start_time INTEGER NOT NULL,
                        workload INTEGER NOT NULL,
                        container INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX response_audit_alert ON response_audit (alert_id, seq);
                    """)
        }
        migrator.registerMigration("v3: incidents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE incidents (
                        id TEXT PRIMARY KEY NOT NULL,
                        severity TEXT NOT NULL,
                        title TEXT NOT NULL,
                        first_time INTEGER NOT NULL,
                        last_time INTEGER NOT NULL,
                        layers TEXT NOT NULL,
                        root_cause TEXT NOT NULL,
                        step_count INTEGER NOT NULL,
                        finding_count INTEGER NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX incidents_last_time ON incidents (last_time, id);
                    CREATE TABLE incident_findings (
                        id TEXT PRIMARY KEY NOT NULL,
                        incident_id TEXT NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX incident_findings_incident ON incident_findings (incident_id);
                    """)
        }
        return migrator
    }

    /// Creates the directory that will hold the database file, and its parents, like `mkdir -p`.
    private static func makeParentDirectory(of path: String) throws(SQLiteStoreError) {
        guard let slash = path.lastIndex(of: "/") else { return }
        let directory = String(path[..<slash])
        if directory.isEmpty { return }
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { continue }
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                let number = errno
                throw SQLiteStoreError(
                    code: .cannotCreateDirectory, path: path, call: "mkdir", errorNumber: number,
                    message: "SQLite store: cannot create directory \(prefix): mkdir failed: "
                        + "\(String(cString: strerror(number))) (errno \(number)); create it, or choose a path "
                        + "the agent can write (--store sqlite:PATH)")
            }
        }
    }
}

/// A failure of the SQLite store; the message names the database and says what to do.
public struct SQLiteStoreError: Error, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The directory for the database file could not be created.
        public static let cannotCreateDirectory = Code("cannot create directory")
        /// The file could not be opened as a Vigil database, or its schema could not be brought up to date.
        public static let cannotOpen = Code("cannot open")
        /// A row holds a value this version cannot read (an unknown profile state, an incident line that does
        /// not parse).
        public static let invalidRow = Code("invalid row")
        /// A query or a transaction failed.
        public static let queryFailed = Code("query failed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The database file.
    public var path: String
    /// The system call that failed, if one did.
    public var call: String?
    /// The errno that call set, if one failed.
    public var errorNumber: Int32?
    /// What happened and what to do.
    public var message: String
    /// The error that caused it (GRDB's `DatabaseError` for SQLite failures), if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(
        code: Code, path: String, call: String? = nil, errorNumber: Int32? = nil, message: String,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.path = path
        self.call = call
        self.errorNumber = errorNumber
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

extension VigilDatabase {
    /// Runs `body` in a read (or, with `write`, a write transaction), turning a failure into a
    /// ``SQLiteStoreError`` that says what was being done.
    func query<Result: Sendable>(
        _ operation: String, write: Bool = false, _ body: @escaping @Sendable (Database) throws -> Result
    ) async throws(SQLiteStoreError) -> Result {
        do {
            return write ? try await pool.write(body) : try await pool.read(body)
        } catch {
            throw SQLiteStoreError(
                code: .queryFailed, path: path,
                message: "SQLite store: \(operation) in \(path) failed: \(error); check free space and "
                    + "that the agent may write the file and its directory",
                underlying: error)
        }
    }
}
