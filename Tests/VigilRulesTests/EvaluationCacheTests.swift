import Testing
import VigilCore
import VigilRules
import VigilTestKit

/// Runs one rule file's rules over `events` in a single batch (so that every per-event cache of the detector is
/// crossed from one event to the next) and returns the ids of the rules that matched, per event.
private func matchesInOneBatch(_ yaml: String, _ events: [Event], symbols: SymbolTable) throws -> [[String]] {
    var loader = RuleLoader()
    try loader.addFile(text: yaml, name: "test.yaml")
    let compiled = loader.compile()
    #expect(compiled.failures.isEmpty, "failures: \(compiled.failures)")
    var detector = RuleDetector(rules: compiled.rules, symbols: symbols)
    var findings: [Finding] = []
    detector.inspect(EventBatch(events), into: &findings)
    var byTime: [Int64: [String]] = [:]
    for finding in findings { byTime[finding.event.time, default: []].append(finding.rule.id) }
    return events.map { byTime[$0.time] ?? [] }
}

/// The evaluation caches of a detector (field values read once per event, terms that rules share decided once
/// per event, string tests remembered per symbol, constants as bitmaps, `evt.type` decided per kind) give the
/// answers a plain evaluation gives.
@Suite("Evaluation caches")
struct EvaluationCacheTests {
    /// Events one nanosecond apart, so that findings map back to them.
    private static func timed(_ events: [Event]) -> [Event] {
        events.enumerated().map { index, event in
            var event = event
            event.time = Int64(index + 1)
            return event
        }
    }

    @Test("a term several rules share, and each field value, are decided per event, not carried to the next")
    func sharedTermsPerEvent() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let yaml = """
            - macro: sensitive
              condition: (fd.name startswith /etc/sh or fd.name in (/root/.ssh/id_rsa, /etc/sudoers))
            - macro: writing
              condition: (evt.is_open_write = true)
            - macro: open_sensitive_read
              condition: sensitive and not writing
            \(ruleEntry("Read", "open_sensitive_read", extra: "  id: t.read"))
            \(ruleEntry("Write", "sensitive and writing", extra: "  id: t.write"))
            \(ruleEntry("Either", "sensitive and (writing or proc.name = cat)", extra: "  id: t.either"))
            """
        let events = Self.timed([
            b.exec(pid: 20, executable: "/usr/bin/cat", arguments: ["cat", "/etc/shadow"]),
            b.open(pid: 20, path: "/etc/shadow"),
            b.open(pid: 20, path: "/etc/hosts"),
            b.open(pid: 21, path: "/etc/sudoers", flags: 0x241),
            b.open(pid: 21, path: "/etc/passwd", flags: 0x241),
            b.open(pid: 20, path: "/root/.ssh/id_rsa"),
            b.open(pid: 21, path: "/root/.ssh/id_rsa"),
        ])
        let found = try matchesInOneBatch(yaml, events, symbols: symbols)
        #expect(
            found == [
                [], ["t.read", "t.either"], [], ["t.write", "t.either"], [], ["t.read", "t.either"], ["t.read"],
            ])
    }

    @Test("rules skipped by a field test they require still match where it passes, in rule order")
    func guardedRules() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let yaml = [
            ruleEntry("One", "proc.name = cat and fd.name startswith /etc/", extra: "  id: t.one"),
            ruleEntry("Two", "fd.name startswith /etc/ and not proc.name = cat", extra: "  id: t.two"),
            ruleEntry("Three", "fd.name = /etc/hosts or proc.name = cat", extra: "  id: t.three"),
            ruleEntry("Four", "proc.name in (cat, ls) and evt.is_open_write = true", extra: "  id: t.four"),
            ruleEntry("Five", "fd.name pmatch (/tmp) and proc.name = ls", extra: "  id: t.five"),
            ruleEntry("Six", "not fd.name startswith /etc/ and proc.name exists", extra: "  id: t.six"),
        ].joined(separator: "\n")
        let events = Self.timed([
            b.exec(pid: 60, executable: "/usr/bin/cat", arguments: ["cat"]),
            b.exec(pid: 61, executable: "/usr/bin/ls", arguments: ["ls"]),
            b.open(pid: 60, path: "/etc/hosts"),
            b.open(pid: 61, path: "/etc/hosts"),
            b.open(pid: 61, path: "/tmp/x", flags: 0x241),
            b.open(pid: 60, path: "/tmp/x"),
            b.open(pid: 62, path: "/etc/hosts"),
            b.open(pid: 62, path: "/tmp/x"),
        ])
        let found = try matchesInOneBatch(yaml, events, symbols: symbols)
        #expect(
            found == [
                ["t.three", "t.six"], ["t.six"],
                ["t.one", "t.three"],
                ["t.two", "t.three"],
                ["t.four", "t.five", "t.six"],
                ["t.three", "t.six"],
                ["t.two", "t.three"],
                [],
            ])
    }

    @Test("process fields of later batches see the process view as it changed: exec, then exit")
    func processViewAcrossBatches() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var loader = RuleLoader()
        try loader.addFile(
            text: ruleEntry("Cat", "proc.name = cat and fd.name = /etc/hosts", extra: "  id: t.cat"), name: "t.yaml")
        var detector = RuleDetector(rules: loader.compile().rules, symbols: symbols)
        // One batch each: an open before the process is known, its exec, an open, its exit, an open again.
        let batches = [
            [b.open(pid: 80, path: "/etc/hosts")],
            [b.exec(pid: 80, executable: "/usr/bin/cat", arguments: ["cat"])],
            [b.open(pid: 80, path: "/etc/hosts")],
            [b.exit(pid: 80)],
            [b.open(pid: 80, path: "/etc/hosts")],
        ]
        let found = batches.map { events in
            var findings: [Finding] = []
            detector.inspect(EventBatch(events), into: &findings)
            return findings.count
        }
        #expect(found == [0, 0, 1, 0, 0])
    }

    @Test("a kind with more rules than a guard mask holds checks every one of them")
    func manyRulesOfOneKind() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        // 70 rules on file opens, each requiring its own path (and so all in one guard group if guarded).
        let yaml = (0..<70).map { ruleEntry("Rule \($0)", "fd.name = /f/\($0)", extra: "  id: t.\($0)") }
            .joined(separator: "\n")
        let events = Self.timed([
            b.open(pid: 70, path: "/f/3"), b.open(pid: 70, path: "/f/64"), b.open(pid: 70, path: "/f/69"),
            b.open(pid: 70, path: "/f/70"),
        ])
        let found = try matchesInOneBatch(yaml, events, symbols: symbols)
        #expect(found == [["t.3"], ["t.64"], ["t.69"], []])
    }

    @Test(
        "evt.type, evt.dir, event.kind and event.layer are decided by the event's kind",
        arguments: [
            ("evt.type in (open, openat) and fd.name = /etc/hosts", [false, true, false]),
            ("evt.type != execve and proc.name = ls", [false, true, true]),
            ("not evt.type = execve and proc.name = ls", [false, true, true]),
            ("evt.type startswith open or evt.type = connect", [false, true, true]),
            ("(evt.type = execve and evt.dir = <) or fd.rport = 443", [true, false, true]),
            ("event.kind = file.open or (event.layer = workload and evt.type = connect)", [false, true, true]),
            ("evt.type = execve and evt.dir = >", [false, false, false]),
            ("not (evt.type in (execve, connect))", [false, true, false]),
        ])
    func kindDecidedTerms(condition: String, expected: [Bool]) throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let events = Self.timed([
            b.exec(pid: 30, executable: "/usr/bin/ls", arguments: ["ls"]),
            b.open(pid: 30, path: "/etc/hosts"),
            b.connect(pid: 30, to: "10.0.0.1", port: 443),
        ])
        let found = try matchesInOneBatch(ruleEntry("Kind", condition, extra: "  id: t.kind"), events, symbols: symbols)
        #expect(found.map { !$0.isEmpty } == expected)
    }

    @Test("string tests stay right when more distinct values pass than their memo holds")
    func manyDistinctValues() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let yaml = ruleEntry(
            "Prefix", "fd.name startswith /data/hot/ or fd.name in (/cold/7, /cold/30001)", extra: "  id: t.prefix")
        var events: [Event] = []
        var expected: [Bool] = []
        // Twice over 40,000 paths: the memo is full and evicting when the second pass reads them again.
        for _ in 0..<2 {
            for index in 0..<40_000 {
                let hot = index % 3 == 0
                events.append(b.open(pid: 40, path: (hot ? "/data/hot/" : "/cold/") + String(index)))
                expected.append(hot || index == 7 || index == 30_001)
            }
        }
        let found = try matchesInOneBatch(yaml, Self.timed(events), symbols: symbols)
        // The events answered wrongly, by index (the lists are too long to print whole).
        let wrong = found.indices.filter { !found[$0].isEmpty != expected[$0] }
        #expect(wrong.isEmpty, "first wrong: \(wrong.prefix(5)) of \(wrong.count)")
    }

    @Test("a list whose constants were interned far apart still matches each of them, and nothing between")
    func sparseConstants() throws {
        let symbols = SymbolTable()
        // One constant interned early, then many other strings, so the list's symbols lie far apart.
        _ = symbols.intern("/early/secret")
        for index in 0..<20_000 { _ = symbols.intern("/filler/\(index)") }
        var b = EventBuilder(symbols: symbols)
        let yaml = ruleEntry("List", "fd.name in (/early/secret, /late/secret)", extra: "  id: t.list")
        let events = Self.timed([
            b.open(pid: 50, path: "/early/secret"), b.open(pid: 50, path: "/filler/9000"),
            b.open(pid: 50, path: "/late/secret"), b.open(pid: 50, path: "/late/other"),
        ])
        let found = try matchesInOneBatch(yaml, events, symbols: symbols)
        #expect(found.map { !$0.isEmpty } == [true, false, true, false])
    }
}
