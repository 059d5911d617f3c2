import Foundation
import Testing
import VigilCore
import VigilProfiles

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files store's own promises: its layout, its documents, and what it does with files it did not write.
@Suite("FileProfileStore")
struct FileProfileStoreTests {
    @Test func filesAreNamedAfterTheProfileAndSafe() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let expected: [(String, String)] = [
                ("shop/Deployment/web/web", "shop%2FDeployment%2Fweb%2Fweb.json"),
                ("100% sure", "100%25 sure.json"),
                (".hidden", "%2Ehidden.json"),
                ("..", "%2E..json"),
                ("a.b", "a.b.json"),
                ("~home", "%7Ehome.json"),
                ("tab\there\u{7F}", "tab%09here%7F.json"),
                ("ünïcødé 日本 😀", "ünïcødé 日本 😀.json"),
                ("", "%.json"),
            ]
            for (name, file) in expected {
                #expect(store.path(for: ProfileKey(subject: .workload, name: name)) == directory + "/workload/" + file)
            }
            #expect(
                store.path(for: ProfileKey(subject: .principal, name: "a/b")) == directory + "/principal/a%2Fb.json")
        }
    }

    @Test func aLongNameEndsWithItsSHA256() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let name = String(repeating: "namespace/Deployment/owner-ü/", count: 12)
            let key = ProfileKey(subject: .workload, name: name)
            let profile = workload(name)
            try await store.save([profile])
            #expect(try await store.load(key) == profile)

            let fileName = URL(fileURLWithPath: store.path(for: key)).lastPathComponent
            #expect(fileName.utf8.count <= 255)
            #expect(fileName.hasPrefix("namespace%2FDeployment%2Fowner-ü%2F"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/workload") == [fileName])
            // The hash is standard SHA-256 of the name's UTF-8, as sha256sum prints it.
            let nameFile = directory + "/name.txt"
            try Data(name.utf8).write(to: URL(fileURLWithPath: nameFile))
            let digest = try runProgram("/usr/bin/sha256sum", [nameFile]).split(separator: " ")[0]
            #expect(fileName.hasSuffix("~\(digest).json"))
        }
    }

    @Test func aProfileFileIsReadableJSON() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let body = jsonBody([("executables", .array([.string("/usr/bin/python3")])), ("count", .integer(3))])
            let profile = workload("shop/web", state: .completed, updatedAt: 1_795_910_400_123_456_789, body: body)
            try await store.save([profile])

            let path = store.path(for: profile.key)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("\n  \"name\": \"shop/web\",\n"))
            let document = try #require(try JSONParser.parse(text).object)
            #expect(document.keys == ["subject", "name", "state", "updated_at", "profile"])
            #expect(document["subject"] == .string("workload"))
            #expect(document["state"] == .string("completed"))
            #expect(document["updated_at"] == .string("2026-11-29T00:00:00.123456789Z"))
            #expect(document["profile"] == (try JSONParser.parse(body)))

            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func aBodyThatIsNotCompactJSONIsKeptAsBase64() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let bodies: [[UInt8]] = [
                [0x00, 0x01, 0xFF, 0xFE, 0x80],
                Array("{\"a\":1E2}".utf8),  // JSON, but it would come back as 100.0
                Array("\"caf\\u00e9\"".utf8),  // JSON, but it would come back with a raw é
                Array("{\"a\":1,}".utf8),  // not JSON
                Array("x".utf8),
            ]
            for (index, body) in bodies.enumerated() {
                let profile = workload("body-\(index)", body: body)
                try await store.save([profile])
                #expect(try await store.load(profile.key) == profile)
                let document = try JSONParser.parse(
                    String(contentsOfFile: store.path(for: profile.key), encoding: .utf8))
                #expect(document["profile"] == nil)
                #expect(document["body_base64"] == .string(Data(body).base64EncodedString()))
            }
        }
    }

    @Test func whitespaceInAJSONBodyIsNotKept() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let profile = workload("spaced", body: Array("{ \"a\" : [1, 2],\n  \"b c\": \"d e\" }\n".utf8))
            try await store.save([profile])
            let loaded = try #require(try await store.load(profile.key))
            #expect(loaded.body == Array("{\"a\":[1,2],\"b c\":\"d e\"}".utf8))
        }
    }

    @Test func filesThatAreNotProfilesAreSkippedAndReported() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let good = workload("good")
            let original = workload("original")
            try await store.save([good, original])
            let workloads = directory + "/workload"
            func write(_ path: String, _ text: String) throws {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            }
            // Corrupt files named like profiles, as a crash of a careless writer or a full disk would leave.
            let truncated = store.path(for: ProfileKey(subject: .workload, name: "truncated"))
            try write(truncated, "{\"subject\": \"workload\", \"name\": \"trun")
            let empty = store.path(for: ProfileKey(subject: .workload, name: "empty"))
            try write(empty, "")
            let badState = store.path(for: ProfileKey(subject: .workload, name: "bad-state"))
            try write(
                badState,
                #"{"subject":"workload","name":"bad-state","state":"asleep","#
                    + #""updated_at":"2026-11-29T00:00:00Z","profile":{}}"#)
            // A valid profile copied under another profile's name.
            let copied = store.path(for: ProfileKey(subject: .workload, name: "copy"))
            try FileManager.default.copyItem(atPath: store.path(for: original.key), toPath: copied)
            // Foreign files and directories.
            let notes = workloads + "/notes.txt"
            try write(notes, "not a profile")
            let garbage = workloads + "/garbage.json"
            try write(garbage, "\u{1}\u{2}garbage")
            let directoryFile = workloads + "/dir.json"
            try FileManager.default.createDirectory(atPath: directoryFile, withIntermediateDirectories: false)
            let readme = directory + "/README"
            try write(readme, "profiles live here")
            try write(workloads + "/.editor-swap", "hidden files are nobody's business")

            #expect(try await store.keys() == [good.key, original.key])
            let skipped = Set([truncated, empty, badState, copied, notes, garbage, directoryFile, readme])
            #expect(Set(store.skippedFiles) == skipped)
            #expect(store.skipReasons.map(\.path) == store.skippedFiles)
            let codes = Dictionary(uniqueKeysWithValues: store.skipReasons.map { ($0.path, $0.code) })
            #expect(codes[truncated] == .corrupt)
            #expect(codes[copied] == .corrupt)
            #expect(codes[notes] == .foreign)
            #expect(codes[readme] == .foreign)
            #expect(codes[directoryFile] == .cannotRead)
            #expect(store.skipReasons.first { $0.path == directoryFile }?.errorNumber == EISDIR)

            // Loading any of them is a clear error naming the file, never a crash or a wrong profile.
            for (name, path, detail) in [
                ("truncated", truncated, "not JSON"), ("empty", empty, "empty"), ("bad-state", badState, "asleep"),
                ("copy", copied, "workload:original"),
            ] {
                let error = await #expect(throws: FileProfileStoreError.self) {
                    try await store.load(ProfileKey(subject: .workload, name: name))
                }
                #expect(error?.code == .corrupt)
                #expect(error?.path == path)
                #expect(error?.description.contains(path) == true)
                #expect(error?.description.contains(detail) == true, "\(error?.description ?? "")")
            }
            #expect(try await store.load(good.key) == good)

            // Saving over a corrupt file repairs it, and the next listing no longer reports it.
            let repaired = workload("truncated")
            try await store.save([repaired])
            #expect(try await store.load(repaired.key) == repaired)
            #expect(try await store.keys().contains(repaired.key))
            #expect(!store.skippedFiles.contains(truncated))
        }
    }

    @Test func temporaryFilesAreIgnoredAndStaleOnesRemoved() async throws {
        try await withTemporaryDirectory { directory in
            let first = try FileProfileStore(directory: directory)
            let profile = workload("web")
            try await first.save([profile])
            let stale = directory + "/workload/.tmp-1-dead"
            let fresh = directory + "/workload/.tmp-2-busy"
            try Data("{\"subject\": \"work".utf8).write(to: URL(fileURLWithPath: stale))
            try Data("{\"subject\": \"work".utf8).write(to: URL(fileURLWithPath: fresh))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: stale)

            let reopened = try FileProfileStore(directory: directory)
            #expect(!FileManager.default.fileExists(atPath: stale))
            // A young one may be another process's write in flight: left alone, and never read as a profile.
            #expect(FileManager.default.fileExists(atPath: fresh))
            #expect(try await reopened.keys() == [profile.key])
            #expect(reopened.skippedFiles.isEmpty)
        }
    }

    @Test func aFailedSaveLeavesNoTemporaryFiles() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let old = workload("a", body: jsonBody([("v", .integer(1))]))
            try await store.save([old])
            // A directory where profile "b" belongs makes its rename fail after "a" was renamed.
            let blocked = store.path(for: ProfileKey(subject: .workload, name: "b"))
            try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: false)
            _ = FileManager.default.createFile(atPath: blocked + "/keep", contents: Data())
            let new = workload("a", body: jsonBody([("v", .integer(2))]))
            let error = await #expect(throws: FileProfileStoreError.self) {
                try await store.save([new, workload("b"), workload("c")])
            }
            #expect(error?.code == .cannotWrite)
            #expect(error?.call == "rename")
            #expect(error?.path == blocked)
            #expect(error?.description.contains("1 of the 3 profiles being saved were saved") == true)
            #expect(try await store.load(new.key) == new)
            #expect(try await store.load(ProfileKey(subject: .workload, name: "c")) == nil)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/workload")
                .filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test func aMissingSubjectDirectoryThatCannotBeMadeFailsTheWholeGroup() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory)
            let old = workload("a", body: jsonBody([("v", .integer(1))]))
            try await store.save([old])
            // The principal directory is now a file, so the group cannot be written: nothing of it may change.
            try FileManager.default.removeItem(atPath: directory + "/principal")
            try Data().write(to: URL(fileURLWithPath: directory + "/principal"))
            let principal = StoredProfile(
                key: ProfileKey(subject: .principal, name: "admin"), state: .ready, updatedAt: 1, body: [])
            let error = await #expect(throws: FileProfileStoreError.self) {
                try await store.save([workload("a", body: jsonBody([("v", .integer(2))])), principal])
            }
            #expect(error?.code == .cannotCreateDirectory)
            #expect(error?.errorNumber == ENOTDIR)
            #expect(try await store.load(old.key) == old)
        }
    }

    @Test func anUncreatableDirectoryIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            try Data("a file".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
            let error = #expect(throws: FileProfileStoreError.self) {
                try FileProfileStore(directory: directory + "/file/profiles")
            }
            #expect(error?.code == .cannotCreateDirectory)
            #expect(error?.call == "mkdir")
            #expect(error?.errorNumber == ENOTDIR)
            #expect(error?.path == directory + "/file")
            #expect(error?.description.contains("errno \(ENOTDIR)") == true)
        }
    }

    @Test func nestedDirectoriesAreCreated() async throws {
        try await withTemporaryDirectory { directory in
            let store = try FileProfileStore(directory: directory + "/a/b/c/")
            #expect(store.directory == directory + "/a/b/c")
            try await store.save([workload("web")])
            #expect(FileManager.default.fileExists(atPath: directory + "/a/b/c/workload/web.json"))
            #expect(FileManager.default.fileExists(atPath: directory + "/a/b/c/principal"))
        }
    }
}

/// Runs `executable` with `arguments` and returns its standard output (read from a file: Foundation's pipe
/// reads can trap on EINTR).
func runProgram(_ executable: String, _ arguments: [String]) throws -> String {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: output)
    try process.run()
    process.waitUntilExit()
    return try String(contentsOf: output, encoding: .utf8)
}
