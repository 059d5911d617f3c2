import Foundation
import GRDB
import Testing
import VigilCore
import VigilProfiles
import VigilSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Kills a process with SIGKILL while it saves profiles, then checks what a restart finds.
///
/// `StoreCrashWriter` saves COUNT profiles per `save`, each about 8 KiB, in a loop, and prints
/// `saved <generation>` after each. The kill lands after a random part of a save interval, so usually in the
/// middle of a save. Each store is killed several times at the same path, so later runs start from a store
/// that earlier kills left behind.
@Suite("Store crash", .serialized)
struct StoreCrashTests {
    static let kills = 5
    static let generationsBeforeKill = 3

    @Test func aKilledSQLiteWriterLeavesWholeGroups() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/vigil.sqlite"
            let count = 40
            for run in 1...Self.kills {
                let kill = try await killWriter(store: "sqlite:" + path, count: count, directory: directory, run: run)
                guard let kill else { return }
                let lastSaved = kill.lastSaved

                let integrity = try await DatabaseQueue(path: path).read { db in
                    try String.fetchAll(db, sql: "PRAGMA integrity_check")
                }
                #expect(integrity == ["ok"])
                let store = try SQLiteProfileStore(path: path)
                let generations = try await checkedGenerations(in: store, count: count)
                // One transaction per group: every profile is of the same generation, the last one printed or
                // the one whose commit the kill cut off before it could be printed.
                #expect(Set(generations).count == 1, "generations \(Set(generations).sorted())")
                let generation = try #require(generations.first)
                #expect(generation == lastSaved || generation == lastSaved + 1)
                print("sqlite kill \(run): \(kill), store at generation \(generation), integrity ok")
            }
        }
    }

    @Test func aKilledFilesWriterLeavesWholeFiles() async throws {
        try await withTemporaryDirectory { directory in
            let profiles = directory + "/profiles"
            let count = 20
            for run in 1...Self.kills {
                let kill = try await killWriter(
                    store: "files:" + profiles, count: count, directory: directory, run: run)
                guard let kill else { return }
                let lastSaved = kill.lastSaved

                let store = try FileProfileStore(directory: profiles)
                let generations = try await checkedGenerations(in: store, count: count)
                // No half-written file: every file is a valid profile...
                #expect(store.skippedFiles.isEmpty, "\(store.skipReasons)")
                // ...of the last generation printed, or of the one being saved when the kill landed.
                for generation in generations {
                    #expect(generation == lastSaved || generation == lastSaved + 1, "last printed \(lastSaved)")
                }
                let newer = generations.filter { $0 == lastSaved + 1 }.count
                let temporary = try FileManager.default.contentsOfDirectory(atPath: profiles + "/workload")
                    .filter { $0.hasPrefix(".tmp-") }.count
                print(
                    "files kill \(run): \(kill), \(count - newer) profiles at generation \(lastSaved) and \(newer) at "
                        + "\(lastSaved + 1), \(temporary) temporary files in the directory")
            }
        }
    }

    /// What one kill found.
    struct Kill: CustomStringConvertible {
        /// The last generation the writer printed before it died.
        var lastSaved: Int
        /// The measured time of one save, in milliseconds.
        var saveMilliseconds: Double
        /// How long after a save ended the kill was sent, in milliseconds.
        var delayMilliseconds: Double

        var description: String {
            let save = (saveMilliseconds * 10).rounded() / 10
            let delay = (delayMilliseconds * 10).rounded() / 10
            return "last printed \(lastSaved) (a save takes ~\(save) ms, killed \(delay) ms after one was seen)"
        }
    }

    /// Starts the writer, waits until it has saved a few generations, kills it with SIGKILL a random part of a
    /// save interval later, and returns what it printed (nil after recording an issue).
    private func killWriter(store: String, count: Int, directory: String, run: Int) async throws -> Kill? {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("StoreCrashWriter")
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "build StoreCrashWriter first (swift build --build-tests)")
        let output = directory + "/writer-\(run).out"
        let errors = directory + "/writer-\(run).err"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        _ = FileManager.default.createFile(atPath: errors, contents: nil)

        let process = Process()
        process.executableURL = binary
        process.arguments = [store, String(count)]
        // Files, not pipes: Foundation's pipe reads can trap on EINTR.
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()

        let deadline = Date(timeIntervalSinceNow: 120)
        var firstSeen: Date?
        var saved = 0
        while saved < Self.generationsBeforeKill {
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                Issue.record("the writer stopped or stalled after \(saved) saves: \(stderr)")
                return nil
            }
            try await Task.sleep(for: .milliseconds(1))
            saved = try lastSavedGeneration(in: output)
            if saved >= 1 && firstSeen == nil { firstSeen = Date() }
        }
        // Kill after a random part of one save's duration, so that the kill falls anywhere in a save.
        let interval = Date().timeIntervalSince(firstSeen ?? Date()) / Double(max(1, saved - 1))
        let delay = Double.random(in: 0...max(interval, 0.001))
        try await Task.sleep(for: .microseconds(Int(delay * 1_000_000)))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)
        return Kill(
            lastSaved: try lastSavedGeneration(in: output), saveMilliseconds: interval * 1000,
            delayMilliseconds: delay * 1000)
    }

    /// The generation in the last complete `saved <generation>` line of `path`.
    private func lastSavedGeneration(in path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Only whole lines: the last one may still be being written.
        let complete = text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
        return complete.split(separator: "\n").last.flatMap(generation(of:)) ?? 0
    }

    private func generation(of line: Substring) -> Int? {
        line.hasPrefix("saved ") ? Int(line.dropFirst("saved ".count)) : nil
    }

    /// Loads every profile of the writer's, checks that it is whole, and returns the generations they hold.
    private func checkedGenerations(in store: any ProfileStore, count: Int) async throws -> [Int] {
        let keys = try await store.keys()
        #expect(keys.count == count)
        #expect(Set(keys) == Set((0..<count).map { ProfileKey(subject: .workload, name: "crash/profile-\($0)") }))
        var generations: [Int] = []
        for key in keys {
            let profile = try #require(try await store.load(key))
            let body = try JSONParser.parse(profile.body)
            #expect(body["name"] == .string(key.name))
            #expect(body["padding"]?.string?.utf8.count == 182 * 45)
            generations.append(Int(try #require(body["generation"]?.int64)))
        }
        return generations
    }
}
