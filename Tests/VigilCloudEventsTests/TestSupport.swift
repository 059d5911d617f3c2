import Foundation
import VigilCloudEvents
import VigilCore

/// Paths into the shared third-party data (see ../shared/data/README.md for sources and licenses).
enum DataPaths {
    static let root: String = {
        // Tests/VigilCloudEventsTests/TestSupport.swift → the project root → ../shared/data
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static let stratus = path("cloudtrail/stratus-red-team/detonation-logs")

    static func stratusFile(_ technique: String) -> String { stratus + "/" + technique + ".json" }
}

/// The result of reading one file, with helpers to resolve symbols.
struct ReadResult {
    let events: [Event]
    let skipped: CloudSkipCounts
    let symbols: SymbolTable

    init(path: String) throws {
        let symbols = SymbolTable()
        let result = try CloudEventFile.read(path: path, symbols: symbols)
        self.events = result.events
        self.skipped = result.skipped
        self.symbols = symbols
    }

    init(bytes: [UInt8]) throws {
        let symbols = SymbolTable()
        var decoder = try CloudEventDecoder(bytes: bytes, symbols: symbols)
        var batch = EventBatch()
        while decoder.fill(&batch, upTo: 100) {}
        self.events = Array(batch.events)
        self.skipped = decoder.skipped
        self.symbols = symbols
    }

    func cloud(_ index: Int) -> CloudFields? {
        if case .cloud(let fields) = events[index].fields { return fields }
        return nil
    }

    func text(_ symbol: Symbol) -> String { symbols.string(symbol) }

    /// `service:action` of every event.
    var calls: Set<String> {
        Set(events.indices.compactMap { index in cloud(index).map { "\(text($0.service)):\(text($0.action))" } })
    }
}

/// Creates a fresh temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "vigil-cloud-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Compresses a file with /bin/gzip into `destination`.
func gzip(_ source: String, to destination: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c", source]
    _ = FileManager.default.createFile(atPath: destination, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: destination))
    process.standardOutput = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
}
