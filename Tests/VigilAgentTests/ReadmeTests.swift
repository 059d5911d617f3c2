import Foundation
import Testing
import VigilCore

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("README")
struct ReadmeTests {
    @Test("the embedding sample in the README is the compiled example, and it runs")
    func embeddingSample() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- embed-vigil:start -->\n```swift\n"))
        let end = try #require(readme.range(of: "```\n<!-- embed-vigil:end -->"))
        let quoted = String(readme[start.upperBound..<end.lowerBound])
        let source = try String(
            contentsOf: packageRoot.appendingPathComponent("Examples/embed-vigil/EmbedVigil.swift"), encoding: .utf8)
        #expect(quoted == source, "README.md and Examples/embed-vigil/EmbedVigil.swift differ")

        let result = try runBinary("embed-vigil", [])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let finding = try #require(try JSONParser.parse(String(lines.first ?? "")).object)
        #expect(finding["rule"]?["id"]?.string == "profile.unexpected-process")
        #expect(finding["process"]?["pid"]?.int64 == 12)
    }

    @Test(
        "the README's replay demo gives the eight findings it shows (four from profile, four from rules), one incident")
    func replayDemo() throws {
        let demo = packageRoot.appendingPathComponent("Examples/replay-demo")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runAgent([
            "replay", "--learn", demo.appendingPathComponent("normal.jsonl").path,
            "--detect", demo.appendingPathComponent("suspect.jsonl").path, "--format", "text",
            "--store", "sqlite:" + directory.appendingPathComponent("demo.sqlite").path,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        // Incident ids are new on every run: they are compared as `i-` and any 16 hex digits.
        let id = try Regex("i-[0-9a-f]{16}")
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
            .replacing(id, with: "i-ID")
        let lines = result.stdout.split(separator: "\n").map { String($0).replacing(id, with: "i-ID") }
        // Eight finding lines, then the incident: its title, narrative and eight steps.
        #expect(lines.count == 18)
        #expect(lines.filter { $0.hasPrefix("INCIDENT i-ID ") }.count == 1)
        for line in lines { #expect(readme.contains(line), "the README does not show: \(line)") }
        #expect(readme.contains(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
