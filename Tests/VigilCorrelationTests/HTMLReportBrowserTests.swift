import Foundation
import Testing
import VigilCore
import VigilCorrelation

#if canImport(Glibc)
    import Glibc
#endif

/// The report rendered by a real browser: Debian's `chromium`, headless. Without it the tests are skipped,
/// except under CI (`CI=true`), where they fail: CI must install it (`apt-get install chromium`).
@Suite("HTML incident report in headless Chromium", .serialized)
struct HTMLReportBrowserTests {
    @Test("Chromium's DOM has both incidents, their steps, the root causes and one graph node per entity")
    func dom() throws {
        guard let chromium = try Chromium.required() else { return }
        let fixture = RenderingFixture()
        let report = try ReportFile(fixture.incidents)
        defer { report.remove() }
        let run = try chromium.run(["--dump-dom", report.url.absoluteString], in: report.directory)
        try #require(run.status == 0, "chromium failed (\(run.status)): \(run.stderr)")
        let dom = run.stdout
        let sections = dom.sections(between: "<section class=\"incident", and: "</section>")
        try #require(sections.count == 2, "expected 2 incidents in the DOM, got \(sections.count)")
        for (section, incident) in zip(sections, fixture.incidents) {
            #expect(section.contains("data-incident-id=\"\(incident.id)\""))
            #expect(section.occurrences(of: "<li class=\"step") == incident.steps.count)
            #expect(section.occurrences(of: "<li class=\"step root-cause\"") == 1)
            let root = section.sections(between: "<li class=\"step root-cause\"", and: "</li>").first ?? ""
            #expect(root.contains("data-finding-ids=\"\(incident.rootCause)"))
            #expect(section.occurrences(of: "<svg class=\"entity-graph\"") == 1)
            #expect(section.occurrences(of: "<g class=\"entity") == incident.entities.count)
            for entity in incident.entities {
                #expect(section.contains("data-kind=\"\(entity.kind)\" data-id=\"\(entity.id)\""))
            }
            #expect(section.occurrences(of: "<tr class=\"finding") == incident.findingIDs.count)
        }
        #expect(dom.contains("data-count=\"incidents\">2<"))
    }

    @Test("Chromium takes a screenshot of the report")
    func screenshot() throws {
        guard let chromium = try Chromium.required() else { return }
        let report = try ReportFile(RenderingFixture().incidents)
        defer { report.remove() }
        let png = report.directory.appendingPathComponent("report.png")
        let run = try chromium.run(
            ["--screenshot=\(png.path)", "--window-size=1280,2000", report.url.absoluteString], in: report.directory)
        try #require(run.status == 0, "chromium failed (\(run.status)): \(run.stderr)")
        let data = try Data(contentsOf: png)
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // A blank 1280×2000 page compresses to a few kilobytes; the report's text and graphs make far more.
        #expect(data.count > 50_000, "the screenshot is only \(data.count) bytes")
        if let keep = ProcessInfo.processInfo.environment["VIGIL_REPORT_KEEP"] {
            try? FileManager.default.removeItem(atPath: keep + "/report.png")
            try? FileManager.default.removeItem(atPath: keep + "/report.html")
            try FileManager.default.copyItem(atPath: png.path, toPath: keep + "/report.png")
            try FileManager.default.copyItem(atPath: report.url.path, toPath: keep + "/report.html")
        }
    }
}

/// The report written to a fresh temporary directory.
struct ReportFile {
    let directory: URL
    let url: URL

    init(_ incidents: [IncidentRecord]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appendingPathComponent("report.html")
        let page = HTMLIncidentReport(generatedAt: 1_795_910_400_000_000_000).render(incidents)
        try page.write(to: url, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Debian's Chromium, run headless with a deadline.
struct Chromium {
    static let path = "/usr/bin/chromium"
    /// Chromium is killed after this long, so a test can never hang.
    static let deadline: Duration = .seconds(60)

    /// The browser when installed; otherwise nil (the test skips), or under CI a recorded failure.
    static func required() throws -> Chromium? {
        if FileManager.default.isExecutableFile(atPath: path) { return Chromium() }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("chromium not installed: apt-get install chromium")
            return nil
        }
        try Test.cancel("chromium not installed (apt-get install chromium); skipped outside CI")
    }

    /// Runs Chromium headless with `arguments` and a profile in `directory`; its output goes through files,
    /// not pipes (Foundation's pipe reads trap when a signal interrupts them).
    func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            ] + arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let start = ContinuousClock.now
        while process.isRunning {
            if ContinuousClock.now - start > Self.deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("chromium did not finish within \(Self.deadline); killed")
                break
            }
            usleep(50_000)
        }
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOf: out, encoding: .utf8),
            try String(contentsOf: err, encoding: .utf8)
        )
    }
}
