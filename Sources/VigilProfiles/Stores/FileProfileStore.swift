import Dispatch
import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A profile store that keeps each profile as a human-readable JSON file (the agent's `--store files:DIR`).
///
/// Layout: `DIR/<subject>/<name>.json`, where `<subject>` is `workload` or `principal` and the name is
/// encoded so that any name is one safe file name: `/`, `%`, `~`, control characters and a leading `.` are
/// percent-encoded (`shop/Deployment/web/web` is `shop%2FDeployment%2Fweb%2Fweb.json`), and a name too long
/// for a file name keeps a readable prefix followed by `~` and the SHA-256 of the name. Each file holds:
///
/// ```json
/// {
///   "subject": "workload",
///   "name": "shop/Deployment/web/web",
///   "state": "completed",
///   "updated_at": "2026-11-29T18:09:50.123456789Z",
///   "profile": { … }
/// }
/// ```
///
/// `profile` is the body itself when the body is compact JSON (as the profile model writes it); `load` then
/// returns the compact JSON, which may differ from the saved body in whitespace only. Any other body is kept
/// byte for byte as `body_base64`.
///
/// **Crash safety.** A profile is written to a temporary file (`.tmp-…`) in the same directory, flushed with
/// `fsync`, renamed over the old file, and the directory is flushed: a reader, or a restart after a crash of
/// the process or of the machine, sees each profile whole, old or new. `save` writes and flushes the whole
/// group under temporary names before it renames any of them, so a failure while writing (a full disk)
/// changes nothing; but the renames are not one transaction, so a crash during them can leave part of a
/// group new and part old. Use the SQLite store (`VigilSQLite`), which saves a group in one transaction,
/// when a group must be all or nothing.
///
/// Temporary files left by a crash are ignored, and removed when a store is opened once they are five
/// minutes old (younger ones may belong to another process writing the same directory).
///
/// **Damaged files.** `load` throws ``FileProfileStoreError/Code/corrupt`` naming a file that is not a valid
/// profile; ``keys()`` skips such files, and files that do not belong in the directory, and lists them in
/// ``skippedFiles`` and ``skipReasons``. Nothing in the directory can make the store crash.
///
/// Files are created readable by their owner only (profiles show what workloads execute and open).
/// Operations run one at a time on a dispatch queue of the store, so their blocking file I/O never holds a
/// thread of Swift's cooperative pool. `keys()` reads and checks every file, so it costs one read per
/// profile.
public final class FileProfileStore: ProfileStore {
    /// The store's directory, as given (without a trailing `/`; `.` when given an empty path).
    public let directory: String
    private let queue = DispatchQueue(label: "vigil.file-profile-store")
    private let skipped = Mutex<[FileProfileStoreError]>([])

    /// Temporary files younger than this may be another writer's, in flight: only older ones are cleaned up.
    private static let temporaryFileGracePeriod: Int64 = 5 * 60 * 1_000_000_000
    private static let fileMode: mode_t = 0o600
    private static let directoryMode: mode_t = 0o700

    /// Opens the store in `directory`, creating it and its subdirectories as needed, and removes stale
    /// temporary files a crash left behind.
    ///
    /// - Throws: ``FileProfileStoreError`` with ``FileProfileStoreError/Code/cannotCreateDirectory`` (and the
    ///   errno) when the directories cannot be created.
    public init(directory: String) throws(FileProfileStoreError) {
        var directory = directory.isEmpty ? "." : directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
        for subject in ProfileSubject.allCases {
            try makeDirectory(subjectDirectory(subject))
        }
        removeStaleTemporaryFiles()
    }

    /// The paths of the files the last ``keys()`` skipped because they are not valid profiles or do not
    /// belong in the store.
    public var skippedFiles: [String] {
        skipped.withLock { $0.map(\.path) }
    }

    /// Why the last ``keys()`` skipped each of ``skippedFiles``, in the same order.
    public var skipReasons: [FileProfileStoreError] {
        skipped.withLock { $0 }
    }

    /// The file that holds the profile with `key`, whether or not it exists.
    public func path(for key: ProfileKey) -> String {
        subjectDirectory(key.subject) + "/" + ProfileFileName.fileName(for: key.name)
    }

    /// The profile with `key`, or nil when there is no file for it.
    ///
    /// - Throws: ``FileProfileStoreError`` with ``FileProfileStoreError/Code/corrupt`` naming the file when it
    ///   is not a valid profile of `key`, or ``FileProfileStoreError/Code/cannotRead`` when it cannot be read.
    public func load(_ key: ProfileKey) async throws -> StoredProfile? {
        try await onQueue { () throws(FileProfileStoreError) in try self.loadNow(key) }
    }

    /// Saves the profiles, each atomically; see the type's documentation for what a crash can leave.
    ///
    /// - Throws: ``FileProfileStoreError/Code/cannotWrite`` naming the file and the failed call.
    public func save(_ profiles: [StoredProfile]) async throws {
        try await onQueue { () throws(FileProfileStoreError) in try self.saveNow(profiles) }
    }

    /// The keys of every valid profile file, sorted by subject, then name. Files that are not valid profiles
    /// are skipped and listed in ``skippedFiles``.
    ///
    /// - Throws: ``FileProfileStoreError/Code/cannotRead`` when a store directory cannot be listed.
    public func keys() async throws -> [ProfileKey] {
        try await onQueue { () throws(FileProfileStoreError) in try self.keysNow() }
    }

    /// Removes the profile's file; a missing file is not an error.
    ///
    /// - Throws: ``FileProfileStoreError/Code/cannotWrite`` when the file cannot be removed.
    public func remove(_ key: ProfileKey) async throws {
        try await onQueue { () throws(FileProfileStoreError) in try self.removeNow(key) }
    }

    // MARK: Operations, on the queue

    private func loadNow(_ key: ProfileKey) throws(FileProfileStoreError) -> StoredProfile? {
        let path = path(for: key)
        let bytes: [UInt8]?
        do {
            bytes = try StoreFileSystem.contents(of: path)
        } catch {
            throw FileProfileStoreError(reading: path, error)
        }
        guard let bytes else { return nil }
        let profile = try decode(bytes, at: path, in: key.subject)
        guard profile.key == key else {
            throw FileProfileStoreError(
                code: .corrupt, path: path,
                message: "files store: \(path) holds profile \(profile.key), not \(key); "
                    + "move it out of \(directory), and profile \(key) will be saved anew")
        }
        return profile
    }

    private func saveNow(_ profiles: [StoredProfile]) throws(FileProfileStoreError) {
        for subject in Set(profiles.map(\.key.subject)) {
            try makeDirectory(subjectDirectory(subject))
        }
        // Phase 1: every new file is complete and on the disk under a temporary name; a failure removes them
        // all, leaving every profile as it was.
        var pending: [(temporary: String, target: String)] = []
        pending.reserveCapacity(profiles.count)
        for profile in profiles {
            let target = path(for: profile.key)
            let temporary = temporaryPath(in: subjectDirectory(profile.key.subject))
            do {
                try StoreFileSystem.writeNew(temporary, ProfileEnvelope.encode(profile), mode: Self.fileMode)
            } catch {
                discard(pending.map(\.temporary) + [temporary])
                throw FileProfileStoreError(
                    writing: target, error,
                    consequence: "no profile of the \(profiles.count) being saved was changed")
            }
            pending.append((temporary, target))
        }
        // Phase 2: publish each one with an atomic rename.
        for (index, file) in pending.enumerated() {
            do {
                try StoreFileSystem.move(file.temporary, over: file.target)
            } catch {
                discard(pending[index...].map(\.temporary))
                throw FileProfileStoreError(
                    writing: file.target, error,
                    consequence: "\(index) of the \(profiles.count) profiles being saved were saved")
            }
        }
        // Phase 3: make the renames themselves survive a crash of the machine.
        for subject in Set(profiles.map(\.key.subject)) {
            let path = subjectDirectory(subject)
            do {
                try StoreFileSystem.syncDirectory(path)
            } catch {
                throw FileProfileStoreError(
                    writing: path, error,
                    consequence: "the profiles were saved but may not survive a crash of the machine")
            }
        }
    }

    private func keysNow() throws(FileProfileStoreError) -> [ProfileKey] {
        var keys: [ProfileKey] = []
        var skippedNow: [FileProfileStoreError] = []
        let subjectNames = Set(ProfileSubject.allCases.map(\.rawValue))
        for name in try list(directory).sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            if !subjectNames.contains(name) || !StoreFileSystem.isDirectory(path) {
                skippedNow.append(.foreign(path, directory: directory))
            }
        }
        for subject in ProfileSubject.allCases {
            let subjectPath = subjectDirectory(subject)
            // Names starting with "." are temporary files (in flight or left by a crash) or hidden files.
            for name in try list(subjectPath).sorted() where !name.hasPrefix(".") {
                let path = subjectPath + "/" + name
                guard name.hasSuffix(ProfileFileName.suffix) else {
                    skippedNow.append(.foreign(path, directory: directory))
                    continue
                }
                do {
                    // A file removed since the listing is simply gone.
                    guard let bytes = try StoreFileSystem.contents(of: path) else { continue }
                    keys.append(try decode(bytes, at: path, in: subject).key)
                } catch let failure as SystemCallFailure {
                    skippedNow.append(FileProfileStoreError(reading: path, failure))
                } catch let error as FileProfileStoreError {
                    skippedNow.append(error)
                } catch {
                    skippedNow.append(FileProfileStoreError(code: .corrupt, path: path, message: "\(error)"))
                }
            }
        }
        skipped.withLock { $0 = skippedNow }
        return keys.sorted { ($0.subject.rawValue, $0.name) < ($1.subject.rawValue, $1.name) }
    }

    private func removeNow(_ key: ProfileKey) throws(FileProfileStoreError) {
        let path = path(for: key)
        do {
            if try StoreFileSystem.removeFile(path) {
                try StoreFileSystem.syncDirectory(subjectDirectory(key.subject))
            }
        } catch {
            throw FileProfileStoreError(
                code: .cannotWrite, path: path, call: error.call, errorNumber: error.errorNumber,
                message: "files store: cannot remove profile \(key) (\(path)): \(error.summary); "
                    + "check that the agent may write \(directory)")
        }
    }

    // MARK: Helpers

    /// Runs `body` on the store's queue and waits for it without blocking a cooperative thread.
    private func onQueue<Result: Sendable>(
        _ body: @escaping @Sendable () throws(FileProfileStoreError) -> Result
    ) async throws(FileProfileStoreError) -> Result {
        let result: Swift.Result<Result, FileProfileStoreError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Swift.Result { () throws(FileProfileStoreError) in try body() })
            }
        }
        return try result.get()
    }

    private func subjectDirectory(_ subject: ProfileSubject) -> String {
        directory + "/" + subject.rawValue
    }

    /// A fresh temporary file name in `directory`: the pid and 64 random bits keep writers apart.
    private func temporaryPath(in directory: String) -> String {
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        return directory + "/" + ProfileFileName.temporaryPrefix + "\(getpid())-" + random
    }

    private func decode(
        _ bytes: [UInt8], at path: String, in subject: ProfileSubject
    ) throws(FileProfileStoreError) -> StoredProfile {
        let profile: StoredProfile
        do {
            profile = try ProfileEnvelope.decode(bytes)
        } catch {
            throw .corrupt(path, reason: bytes.isEmpty ? "the file is empty" : error.message, directory: directory)
        }
        if profile.key.subject != subject {
            throw .corrupt(path, reason: "it holds a \(profile.key.subject.rawValue) profile", directory: directory)
        }
        let expected = ProfileFileName.fileName(for: profile.key.name)
        if !path.hasSuffix("/" + expected) {
            throw .corrupt(
                path, reason: "it holds profile \(profile.key), whose file is \(expected)", directory: directory)
        }
        return profile
    }

    private func list(_ path: String) throws(FileProfileStoreError) -> [String] {
        do {
            return try StoreFileSystem.list(path) ?? []
        } catch {
            throw FileProfileStoreError(reading: path, error)
        }
    }

    private func makeDirectory(_ path: String) throws(FileProfileStoreError) {
        do {
            try StoreFileSystem.makeDirectories(path, mode: Self.directoryMode)
        } catch {
            throw FileProfileStoreError(
                code: .cannotCreateDirectory, path: error.path, call: error.call, errorNumber: error.errorNumber,
                message: "files store: cannot create directory \(error.path): \(error.summary); "
                    + "create it, or choose a directory the agent can write (--store files:DIR)")
        }
    }

    /// Removes temporary files, ignoring failures: they are garbage either way, and never read as profiles.
    private func discard(_ paths: [String]) {
        for path in paths { _ = try? StoreFileSystem.removeFile(path) }
    }

    private func removeStaleTemporaryFiles() {
        let cutoff = StoreFileSystem.now() - Self.temporaryFileGracePeriod
        for subject in ProfileSubject.allCases {
            let subjectPath = subjectDirectory(subject)
            guard let names = try? StoreFileSystem.list(subjectPath) else { continue }
            for name in names where name.hasPrefix(ProfileFileName.temporaryPrefix) {
                let path = subjectPath + "/" + name
                if let modified = StoreFileSystem.modificationTime(path), modified < cutoff {
                    discard([path])
                }
            }
        }
    }
}

/// A failure of a ``FileProfileStore``; the message names the file and says what to do.
public struct FileProfileStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; a struct so that codes can be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A file is not a valid profile: not JSON, not a profile document, or not where its name belongs.
        public static let corrupt = Code("corrupt")
        /// A file or directory in the store's directory that the store did not make.
        public static let foreign = Code("foreign")
        /// The store's directory or one of its subdirectories could not be created.
        public static let cannotCreateDirectory = Code("cannot create directory")
        /// A file or directory could not be read.
        public static let cannotRead = Code("cannot read")
        /// A profile could not be written or removed.
        public static let cannotWrite = Code("cannot write")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The file or directory concerned.
    public var path: String
    /// The system call that failed, if one did ("open", "fsync", "rename", "mkdir").
    public var call: String?
    /// The errno that call set, if one failed.
    public var errorNumber: Int32?
    /// What happened and what to do, naming the file.
    public var message: String

    /// Creates an error.
    public init(code: Code, path: String, call: String? = nil, errorNumber: Int32? = nil, message: String) {
        self.code = code
        self.path = path
        self.call = call
        self.errorNumber = errorNumber
        self.message = message
    }

    public var description: String { message }

    init(reading path: String, _ failure: SystemCallFailure) {
        self.init(
            code: .cannotRead, path: path, call: failure.call, errorNumber: failure.errorNumber,
            message: "files store: cannot read \(failure.path): \(failure.summary); "
                + "check that the agent may read the store's directory")
    }

    init(writing path: String, _ failure: SystemCallFailure, consequence: String) {
        self.init(
            code: .cannotWrite, path: path, call: failure.call, errorNumber: failure.errorNumber,
            message: "files store: cannot write \(path): \(failure.summary) on \(failure.path); \(consequence); "
                + "check free space and that the agent may write the store's directory, then save again")
    }

    static func corrupt(_ path: String, reason: String, directory: String) -> Self {
        Self(
            code: .corrupt, path: path,
            message: "files store: \(path) is not a valid profile file: \(reason); move it out of \(directory) "
                + "or delete it (saving the profile again replaces it)")
    }

    static func foreign(_ path: String, directory: String) -> Self {
        Self(
            code: .foreign, path: path,
            message: "files store: \(path) is not part of the store (profiles are "
                + "\(directory)/<workload|principal>/<name>.json); move it elsewhere")
    }
}
