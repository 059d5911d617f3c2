// StoreCrashWriter: saves profiles in a loop until it is killed, for the store crash tests.
//
//     StoreCrashWriter sqlite:PATH|files:DIR COUNT
//
// Each round increments a generation and saves COUNT profiles in one `save` call; each body is a JSON object
// holding the generation, the profile's name and about 8 KiB of padding, so that a save takes long enough for
// a SIGKILL to land in the middle of one. After each save it prints `saved <generation>` and flushes, so the
// test knows which generation was last saved in full.

import VigilCore
import VigilProfiles
import VigilSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Prints `message` on standard error and exits with `code` (64: usage, 70: a store failed).
func fail(_ message: String, code: Int32) -> Never {
    // write(2) rather than fputs(stderr): the C stream globals are not concurrency-safe in Swift 6.
    let bytes = Array("StoreCrashWriter: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(code)
}

let usage = "usage: StoreCrashWriter sqlite:PATH|files:DIR COUNT"
let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail(usage, code: 64) }
guard let count = Int(arguments[2]), count > 0 else { fail("COUNT must be a positive integer\n\(usage)", code: 64) }

let store: any ProfileStore
let location = arguments[1]
do {
    if location.hasPrefix("sqlite:") {
        store = try SQLiteProfileStore(path: String(location.dropFirst("sqlite:".count)))
    } else if location.hasPrefix("files:") {
        store = try FileProfileStore(directory: String(location.dropFirst("files:".count)))
    } else {
        fail("unknown store '\(location)'\n\(usage)", code: 64)
    }
} catch {
    fail("\(error)", code: 70)
}

/// About 8 KiB of text, so that each profile takes a while to write.
let padding = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 182)

var generation: Int64 = 0
while true {
    generation += 1
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    let now = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    var profiles: [StoredProfile] = []
    profiles.reserveCapacity(count)
    for index in 0..<count {
        let name = "crash/profile-\(index)"
        var writer = JSONWriter(capacity: padding.utf8.count + 128)
        writer.beginObject()
        writer.field("generation", generation)
        writer.field("name", name)
        writer.field("padding", padding)
        writer.endObject()
        profiles.append(
            StoredProfile(
                key: ProfileKey(subject: .workload, name: name), state: .learning, updatedAt: now, body: writer.bytes))
    }
    do {
        try await store.save(profiles)
    } catch {
        fail("saving generation \(generation) failed: \(error)", code: 70)
    }
    print("saved \(generation)")
    // Standard output is a file, so fully buffered: flush now, so the test sees each save as it ends.
    // (fflush(nil) flushes every stream; naming `stdout` is not concurrency-safe in Swift 6.)
    fflush(nil)
}
