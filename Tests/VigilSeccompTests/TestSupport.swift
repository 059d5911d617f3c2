import Foundation
import Testing

/// A fresh directory for one test's files; the caller removes it.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-seccomp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// What a run of `vigil-exec` gave.
struct ExecResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the real `vigil-exec` built next to this test bundle.
func runVigilExec(_ arguments: [String]) throws -> ExecResult {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("vigil-exec")
    try #require(
        FileManager.default.isExecutableFile(atPath: executable.path),
        "vigil-exec is not built next to the test bundle at \(executable.path)")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // Files, not pipes: Foundation's pipe reads trap when a signal interrupts them.
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    defer {
        try? out.close()
        try? err.close()
    }
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    return ExecResult(
        status: process.terminationStatus,
        stdout: try String(contentsOf: outURL, encoding: .utf8),
        stderr: try String(contentsOf: errURL, encoding: .utf8))
}
