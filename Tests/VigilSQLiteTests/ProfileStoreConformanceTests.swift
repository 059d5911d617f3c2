import Foundation
import Testing
import VigilCore
import VigilProfiles
import VigilSQLite

/// What every `ProfileStore` promises, checked against the memory, files and SQLite stores.
@Suite("ProfileStore conformance")
struct ProfileStoreConformanceTests {
    /// Names that are hard to keep in a file name or a query.
    static let awkwardNames = [
        "shop/Deployment/web/web",
        "100% sure / not 50%",
        "with spaces and ünïcødé 日本語 😀",
        ".hidden",
        "..",
        "~tilde~",
        "line\nbreak\ttab\u{7}bell",
        "nul\u{0}one",
        "nul\u{0}two",
        "",
        String(repeating: "long/name-é-", count: 40),
    ]

    @Test(arguments: StoreKind.allCases)
    func savedProfilesLoadBackUnchanged(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            var profiles = Self.awkwardNames.enumerated().map { index, name in
                workload(
                    name, state: ProfileState.allCases[index % 3], updatedAt: 1_700_000_000_000_000_000 + Int64(index),
                    body: jsonBody([("name", .string(name)), ("index", .integer(Int64(index)))]))
            }
            // A body that is not JSON (nor UTF-8), an empty one, times at both ends of Int64, and a principal.
            profiles.append(
                StoredProfile(
                    key: ProfileKey(subject: .principal, name: "arn:aws:iam::123456789012:role/Admin"),
                    state: .completed, updatedAt: Int64.min, body: [0x00, 0xFF, 0xFE, 0x7B, 0x22, 0x80, 0x0A]))
            profiles.append(workload("empty body", updatedAt: Int64.max, body: []))
            profiles.append(workload("before 1970", updatedAt: -1_234_567_890_123_456_789, body: Array("[1,2]".utf8)))
            try await store.save(profiles)

            for profile in profiles {
                #expect(try await store.load(profile.key) == profile, "\(profile.key)")
            }
            #expect(try await store.keys() == sortedKeys(profiles.map(\.key)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func saveReplacesAProfile(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let first = workload("web", state: .learning, updatedAt: 1, body: jsonBody([("v", .integer(1))]))
            let second = workload("web", state: .completed, updatedAt: 2, body: jsonBody([("v", .integer(2))]))
            try await store.save([first])
            try await store.save([second])
            #expect(try await store.load(first.key) == second)
            #expect(try await store.keys() == [second.key])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func keysAreSortedBySubjectThenName(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let names = ["b", "a/b", "B", "ä", "a", "z z", "10", "9"]
            var profiles = names.map { workload($0) }
            profiles += names.reversed().map {
                StoredProfile(key: ProfileKey(subject: .principal, name: $0), state: .ready, updatedAt: 5, body: [])
            }
            try await store.save(profiles.shuffled())
            let keys = try await store.keys()
            #expect(keys.count == names.count * 2)
            #expect(keys == sortedKeys(profiles.map(\.key)))
            // Every principal before every workload, since "principal" < "workload".
            #expect(keys.prefix(names.count).allSatisfy { $0.subject == .principal })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func removeDeletesOneProfileAndIsIdempotent(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let kept = workload("kept")
            let removed = workload("removed/one")
            try await store.save([kept, removed])
            try await store.remove(removed.key)
            #expect(try await store.load(removed.key) == nil)
            #expect(try await store.keys() == [kept.key])
            try await store.remove(removed.key)
            try await store.remove(ProfileKey(subject: .principal, name: "never saved"))
            #expect(try await store.load(kept.key) == kept)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anEmptyStoreHasNothing(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            #expect(try await store.keys().isEmpty)
            #expect(try await store.load(ProfileKey(subject: .workload, name: "web")) == nil)
            try await store.save([])
            #expect(try await store.keys().isEmpty)
        }
    }

    @Test(arguments: [StoreKind.files, .sqlite])
    func profilesPersistAcrossReopening(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let profiles = Self.awkwardNames.map { workload($0, state: .completed) }
            do {
                let store = try kind.open(in: directory)
                try await store.save(profiles)
                try await store.remove(profiles[0].key)
            }
            let reopened = try kind.open(in: directory)
            #expect(try await reopened.keys() == sortedKeys(profiles.dropFirst().map(\.key)))
            for profile in profiles.dropFirst() {
                #expect(try await reopened.load(profile.key) == profile)
            }
            #expect(try await reopened.load(profiles[0].key) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentSavesLoseNothing(kind: StoreKind) async throws {
        try await withTemporaryDirectory { directory in
            let store = try kind.open(in: directory)
            let tasks = 8
            let rounds = 10
            let own = 4
            func body(task: Int, round: Int, name: String) -> [UInt8] {
                jsonBody([
                    ("task", .integer(Int64(task))), ("round", .integer(Int64(round))), ("name", .string(name)),
                    ("padding", .string(String(repeating: "x", count: 2000))),
                ])
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        for round in 0..<rounds {
                            // Each task's own profiles, plus one that every task writes.
                            var profiles = (0..<own).map { index in
                                let name = "task-\(task)/profile-\(index)"
                                return workload(name, body: body(task: task, round: round, name: name))
                            }
                            profiles.append(
                                workload("contended", body: body(task: task, round: round, name: "contended")))
                            try await store.save(profiles)
                        }
                    }
                }
                try await group.waitForAll()
            }

            let keys = try await store.keys()
            #expect(keys.count == tasks * own + 1)
            for task in 0..<tasks {
                for index in 0..<own {
                    let name = "task-\(task)/profile-\(index)"
                    let loaded = try #require(try await store.load(ProfileKey(subject: .workload, name: name)))
                    #expect(loaded.body == body(task: task, round: rounds - 1, name: name))
                }
            }
            // The contended profile is the whole last round of one of the tasks.
            let contended = try #require(try await store.load(ProfileKey(subject: .workload, name: "contended")))
            let task = try #require(try JSONParser.parse(contended.body)["task"]?.int64)
            #expect(contended.body == body(task: Int(task), round: rounds - 1, name: "contended"))
        }
    }
}
