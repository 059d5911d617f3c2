import Testing
import VigilCloudEvents
import VigilCore
import VigilRules
import VigilTestKit

private let attacker = "arn:aws:iam::111122223333:user/stolen"
private let minute: Int64 = 60 * 1_000_000_000

private func run(_ detector: inout SecretReadBurstDetector, _ events: [Event]) -> [Finding] {
    var findings: [Finding] = []
    detector.inspect(EventBatch(events), into: &findings)
    return findings
}

/// A `GetSecretValue` of `secret` by `principal`.
private func read(_ b: inout EventBuilder, _ secret: String, by principal: String = attacker) -> Event {
    b.cloudCall(principal: principal, service: "secretsmanager", action: "GetSecretValue", resource: secret)
}

/// A `BatchGetSecretValue` whose details carry `requestParameters`.
private func batch(_ b: inout EventBuilder, requestParameters: String, by principal: String = attacker) -> Event {
    var event = b.cloudCall(principal: principal, service: "secretsmanager", action: "BatchGetSecretValue")
    if case .cloud(var cloud) = event.fields {
        cloud.details = b.symbols.intern(#"{"requestParameters":\#(requestParameters),"eventType":"AwsApiCall"}"#)
        event.fields = .cloud(cloud)
    }
    return event
}

/// Reads a Stratus Red Team detonation log with the CloudTrail sensor's file reader.
private func stratus(_ name: String) throws -> (events: [Event], symbols: SymbolTable) {
    let symbols = SymbolTable()
    let path = PackData.path("cloudtrail/stratus-red-team/detonation-logs/\(name).json")
    let (events, skipped) = try CloudEventFile.read(path: path, symbols: symbols)
    #expect(skipped.total == 0)
    return (events, symbols)
}

@Suite("Secret read burst detector")
struct SecretReadBurstDetectorTests {
    /// Stratus Red Team (DataDog/stratus-red-team, Apache-2.0): one user reads 20 secrets one by one.
    @Test("the Stratus GetSecretValue detonation raises one burst finding")
    func stratusRetrieve() throws {
        let (events, symbols) = try stratus("aws.credential-access.secretsmanager-retrieve-secrets")
        var detector = SecretReadBurstDetector(symbols: symbols)
        let findings = run(&detector, events)
        try #require(findings.count == 1, "\(findings.map(\.explanation))")
        let finding = findings[0]
        #expect(finding.rule.id == "vigil.cloud.secret-read-burst")
        #expect(finding.severity == .high)
        #expect(finding.mitre == MITREMapping(tactic: .credentialAccess, technique: "T1555.006"))
        #expect(symbols.string(finding.event.principal) == "arn:aws:iam::903144391865:user/christophe")
        #expect(finding.evidence.count == 4)
        #expect(
            finding.explanation.hasPrefix(
                "arn:aws:iam::903144391865:user/christophe read the values of 5 distinct Secrets Manager secrets within"
            ), "\(finding.explanation)")
        #expect(finding.explanation.contains("stratus-red-team-retrieve-secret-18"), "\(finding.explanation)")
        #expect(!finding.explanation.contains("-4Rzn83"), "the ARN's random suffix is left out")
        #expect(detector.statistics.reads == 20)
    }

    /// Stratus Red Team: the same user dumps the secrets with BatchGetSecretValue by tag filter, five pages.
    @Test("the Stratus BatchGetSecretValue detonation (pages of a filtered batch) raises one burst finding")
    func stratusBatch() throws {
        let (events, symbols) = try stratus("aws.credential-access.secretsmanager-batch-retrieve-secrets")
        #expect(events.count == 5)
        var detector = SecretReadBurstDetector(symbols: symbols)
        let findings = run(&detector, events)
        try #require(findings.count == 1, "\(findings.map(\.explanation))")
        #expect(findings[0].rule.id == "vigil.cloud.secret-read-burst")
        #expect(
            findings[0].explanation.contains("5 pages of BatchGetSecretValue by filter"), "\(findings[0].explanation)")
    }

    @Test("a filtered batch re-read now and then (not paginated) counts as one page")
    func filteredBatchReread() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols, step: minute)
        var detector = SecretReadBurstDetector(symbols: symbols)
        let filter = #"{"filters":[{"key":"tag-key","values":["app"]}]}"#
        #expect(run(&detector, (0..<10).map { _ in batch(&b, requestParameters: filter) }).isEmpty)
        // Pages a second apart are one paginated read.
        var quick = EventBuilder(symbols: symbols, start: b.time, step: 1_000_000_000)
        let pages = (0..<5).map { _ in batch(&quick, requestParameters: filter) }
        #expect(run(&detector, pages).count == 1)
    }

    @Test("reading the same secret many times raises nothing")
    func sameSecret() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var detector = SecretReadBurstDetector(symbols: symbols)
        let events = (0..<50).map { _ in read(&b, "prod/db-password") }
        // By name and by ARN, it is one secret.
        let arn = read(&b, "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-password-AbC123")
        #expect(run(&detector, events + [arn]).isEmpty)
        #expect(detector.statistics.reads == 51)
    }

    @Test("a few distinct secrets, or many spread beyond the window, raise nothing")
    func fewSecrets() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols, step: 4 * minute)
        var detector = SecretReadBurstDetector(symbols: symbols)
        #expect(run(&detector, (0..<4).map { read(&b, "app/secret-\($0)") }).isEmpty)
        // Four minutes apart: never five within ten minutes.
        #expect(run(&detector, (4..<20).map { read(&b, "app/secret-\($0)") }).isEmpty)
        // Failed reads (access denied) read no value.
        var quick = EventBuilder(symbols: symbols)
        let denied = (0..<10).map { index in
            var event = read(&quick, "other/secret-\(index)")
            if case .cloud(var cloud) = event.fields {
                cloud.errorCode = symbols.intern("AccessDeniedException")
                event.fields = .cloud(cloud)
            }
            return event
        }
        #expect(run(&detector, denied).isEmpty)
    }

    @Test("five distinct secrets within the window raise once per principal per window, each principal alone")
    func oncePerWindow() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols, step: 1_000_000_000)
        var detector = SecretReadBurstDetector(symbols: symbols)
        var events = (0..<4).map { read(&b, "s\($0)") }
        // Another principal's reads do not add up with the attacker's.
        events += (10..<14).map { read(&b, "s\($0)", by: "arn:aws:iam::111122223333:role/app") }
        #expect(run(&detector, events).isEmpty)
        #expect(run(&detector, [read(&b, "s4")]).count == 1)
        // More reads in the same window: quiet.
        #expect(run(&detector, (5..<30).map { read(&b, "s\($0)") }).isEmpty)
        // A window later, a new burst is reported again.
        b.time += 11 * minute
        #expect(run(&detector, (30..<35).map { read(&b, "s\($0)") }).count == 1)
        #expect(detector.statistics.findings == 2)
    }

    @Test("a batch counts each secret it names, and the threshold and window are configurable")
    func namedBatch() throws {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var detector = SecretReadBurstDetector(symbols: symbols)
        let three = batch(&b, requestParameters: #"{"secretIdList":["alpha","bravo","charlie"]}"#)
        #expect(run(&detector, [three, three]).isEmpty)
        // Two more secrets, one of them by ARN of a secret already read: four distinct, then five.
        let more = batch(
            &b,
            requestParameters: #"{"secretIdList":["arn:aws:secretsmanager:us-east-1:1:secret:alpha-Xy12Zq","delta"]}"#)
        #expect(run(&detector, [more]).isEmpty)
        let findings = run(&detector, [read(&b, "echo")])
        try #require(findings.count == 1)
        let explanation = findings[0].explanation
        #expect(explanation.contains("read the values of 5 distinct"), "\(explanation)")
        for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
            #expect(explanation.contains(name), "\(explanation)")
        }
        #expect(!explanation.contains("Xy12Zq"), "\(explanation)")
        #expect(findings[0].evidence.count == 2, "the two batches; the trigger is the event")

        var strict = SecretReadBurstDetector(
            symbols: symbols, configuration: .init(threshold: 3, window: minute))
        #expect(run(&strict, [three]).count == 1)
    }

    @Test("principals stay within their bound; idle ones age out, the least recent is evicted, both counted")
    func boundedPrincipals() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols, step: 1_000_000_000)
        var detector = SecretReadBurstDetector(
            symbols: symbols, configuration: .init(threshold: 5, window: minute, maximumPrincipals: 3))
        for index in 0..<6 { _ = run(&detector, [read(&b, "s", by: "user-\(index)")]) }
        #expect(detector.followedPrincipals == 3)
        #expect(detector.statistics.principalsEvicted == 3)
        b.time += 2 * minute
        _ = run(&detector, [read(&b, "s", by: "user-new")])
        #expect(detector.followedPrincipals == 1)
        #expect(detector.statistics.principalsAgedOut == 3)
    }
}
