import VigilAuditLog
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// Paths of the shared third-party test data (`../shared/data/` from the project root).
enum TestData {
    static let root: String = {
        // VIGIL_TEST_DATA overrides, for builds whose sources are reached through a symlink.
        if let override = getenv("VIGIL_TEST_DATA") { return String(cString: override) }
        // #filePath is …/main/Tests/VigilAuditLogTests/TestData.swift; the data is …/shared/data.
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/") + "/shared/data"
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// Every regular file under `relative`, sorted.
    static func files(under relative: String) -> [String] {
        var result: [String] = []
        func walk(_ directory: String) {
            guard let handle = opendir(directory) else { return }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let full = directory + "/" + name
                var info = stat()
                guard stat(full, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR { walk(full) } else { result.append(full) }
            }
        }
        walk(path(relative))
        return result.sorted()
    }

    static func read(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    static func write(_ path: String, _ text: String, append: Bool = false) {
        guard let file = fopen(path, append ? "ab" : "wb") else { fatalError("cannot write \(path)") }
        _ = text.utf8.withContiguousStorageIfAvailable { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/vigil-audit-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        return String(cString: made)
    }
}

/// Replays an auditd file through ``LinuxAuditFileSensor`` and collects its events.
func replayLinuxAudit(
    _ path: String, symbols: SymbolTable, configuration: LinuxAuditParser.Configuration = .init()
) async throws -> (events: [Event], statistics: LinuxAuditParser.Statistics) {
    let sensor = LinuxAuditFileSensor(path: path, mode: .replay, configuration: configuration)
    var events: [Event] = []
    try await sensor.run(symbols: symbols) { batch in
        events += batch.events
        batch.removeAll()
    }
    return (events, sensor.statistics)
}

/// Parses text through a ``LinuxAuditParser`` line by line.
func parseLinuxAudit(
    _ text: String, symbols: SymbolTable, configuration: LinuxAuditParser.Configuration = .init()
) -> (events: [Event], statistics: LinuxAuditParser.Statistics) {
    var parser = LinuxAuditParser(symbols: symbols, configuration: configuration)
    var batch = EventBatch()
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        parser.parse(line: line, into: &batch)
    }
    parser.finish(into: &batch)
    return (Array(batch.events), parser.statistics)
}
