import Foundation
import Testing
import VigilCloudEvents
import VigilCore
import VigilCorrelation
import VigilRules

// Stratus Red Team detonation logs (cloudtrail/stratus-red-team, DataDog/stratus-red-team @7c9a7a5a,
// Apache-2.0): 35 files of real CloudTrail records, one per AWS attack technique. Each must raise a finding of
// a built-in rule mapped to one of the technique's tactics (technique_list.tsv, index.yaml's
// mitreAttackTactics) or to one of the ATT&CK techniques index.yaml maps it to.

/// What Stratus says about one technique.
struct StratusTechnique: Sendable, CustomTestStringConvertible {
    /// `aws.persistence.iam-create-admin-user`.
    let id: String
    /// ATT&CK tactic short names (`persistence`, `privilege-escalation`).
    var tactics: Set<String>
    /// ATT&CK technique ids from index.yaml's framework mappings (`T1136.003`).
    var techniques: Set<String>

    var testDescription: String { id }
    var path: String { StratusData.detonationLogs + "/" + id + ".json" }
}

enum StratusData {
    static let folder = PackData.path("cloudtrail/stratus-red-team")
    static let detonationLogs = folder + "/detonation-logs"

    /// Techniques whose detonation a stateless rule on Vigil's current cloud events cannot tell from normal
    /// use, and why. The test expects them to fail; it fails if one starts passing, so that this list stays
    /// true.
    static let knownGaps: [String: String] = [:]

    /// Detonations whose signal needs the identity of the node the agent runs on, given as an operator gives it
    /// (`--node-role`, `--node-address`): the instance role's credentials used from outside the instance are
    /// flagged by the ``NodeCredentialDetector`` beside the pack.
    static let nodes: [String: NodeIdentity] = [
        "aws.credential-access.ec2-steal-instance-credentials": NodeIdentity(
            instanceID: "i-786a3A8B5C0d92eF4",
            roleARN: "arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role",
            addresses: [IPAddress("10.0.1.23")!])
    ]

    /// The techniques with a detonation log, with their tactics and techniques.
    static let techniques: [StratusTechnique] = {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: detonationLogs) else { return [] }
        var table: [String: StratusTechnique] = [:]
        for file in files where file.hasSuffix(".json") {
            let id = String(file.dropLast(5))
            // The file name's second part is the tactic Stratus files it under.
            let tactic = id.split(separator: ".").dropFirst().first.map(String.init) ?? ""
            table[id] = StratusTechnique(id: id, tactics: [tactic], techniques: [])
        }
        // technique_list.tsv: platform, id, name, tactics ("Execution,Privilege Escalation").
        if let text = try? String(contentsOfFile: folder + "/technique_list.tsv", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard columns.count >= 4, table[columns[1]] != nil else { continue }
                for name in columns[3].split(separator: ",") { table[columns[1]]?.tactics.insert(shortName(name)) }
            }
        }
        // index.yaml: entries `- id: aws.…`, then `mitreAttackTactics:` items and framework mappings `id: T…`.
        if let text = try? String(contentsOfFile: folder + "/index.yaml", encoding: .utf8) {
            var current: String?
            var inTactics = false
            for raw in text.split(separator: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("- id: "), !line.hasPrefix("- id: T") {
                    current = String(line.dropFirst(6))
                    inTactics = false
                } else if line.hasPrefix("id: T") || line.hasPrefix("- id: T") {
                    let technique = line.split(separator: " ").last.map(String.init) ?? ""
                    if let current, MITREMapping.isTechniqueID(technique) {
                        table[current]?.techniques.insert(technique)
                    }
                } else if line == "mitreAttackTactics:" {
                    inTactics = true
                } else if inTactics, line.hasPrefix("- ") {
                    if let current { table[current]?.tactics.insert(shortName(line.dropFirst(2))) }
                } else if line.hasSuffix(":") || !line.hasPrefix("- ") {
                    inTactics = false
                }
            }
        }
        return table.values.sorted { $0.id < $1.id }
    }()

    /// "Privilege Escalation" → "privilege-escalation".
    static func shortName(_ name: some StringProtocol) -> String {
        name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "-")
    }

    /// The findings the built-in pack raises on a detonation log.
    static func findings(_ technique: StratusTechnique) throws -> [Finding] {
        let symbols = SymbolTable()
        let (events, skipped) = try CloudEventFile.read(path: technique.path, symbols: symbols)
        #expect(skipped.total == 0, "\(technique.id): \(skipped.messages)")
        #expect(!events.isEmpty, "\(technique.id) has no record")
        var runner = PackRunner(symbols: symbols)
        var findings = runner.findings(events).flatMap { $0 }
        if let node = nodes[technique.id] {
            var detector = NodeCredentialDetector(node: node, symbols: symbols)
            detector.inspect(EventBatch(events), into: &findings)
        }
        return findings
    }

    static func detected(_ technique: StratusTechnique, by findings: [Finding]) -> Bool {
        findings.contains {
            technique.tactics.contains($0.mitre.tactic.name) || technique.techniques.contains($0.mitre.technique)
        }
    }
}

@Suite("Stratus Red Team detonations")
struct StratusTests {
    @Test("the 35 detonation logs and their ATT&CK labels are read")
    func techniquesAreRead() {
        let techniques = StratusData.techniques
        #expect(techniques.count == 35)
        for technique in techniques {
            #expect(!technique.tactics.isEmpty, "\(technique.id)")
            #expect(technique.tactics.allSatisfy { MITRETactic($0) != nil }, "\(technique.id): \(technique.tactics)")
        }
        let adminUser = techniques.first { $0.id == "aws.persistence.iam-create-admin-user" }
        #expect(adminUser?.tactics == ["persistence", "privilege-escalation"])
        #expect(adminUser?.techniques == ["T1136.003"])
        for id in StratusData.knownGaps.keys { #expect(techniques.contains { $0.id == id }, "\(id)") }
    }

    @Test(
        "each detonation raises a finding of a rule mapped to its tactic or technique",
        arguments: StratusData.techniques)
    func detonation(_ technique: StratusTechnique) throws {
        let findings = try StratusData.findings(technique)
        let raised = Set(findings.map { "\($0.rule.id) (\($0.mitre.tactic.name), \($0.mitre.technique))" }).sorted()
        if let reason = StratusData.knownGaps[technique.id] {
            withKnownIssue("not detectable yet: \(reason)") {
                #expect(
                    StratusData.detected(technique, by: findings),
                    "expected \(technique.tactics.sorted()) or \(technique.techniques.sorted()); raised \(raised)")
            }
        } else {
            #expect(
                StratusData.detected(technique, by: findings),
                "expected \(technique.tactics.sorted()) or \(technique.techniques.sorted()); raised \(raised)")
        }
    }

    @Test("the detonations that record one API call raise the rule written for it")
    func specificRules() throws {
        let expected: [String: String] = [
            "aws.defense-evasion.cloudtrail-stop": "vigil.cloud.cloudtrail-stopped",
            "aws.defense-evasion.cloudtrail-delete": "vigil.cloud.cloudtrail-deleted",
            "aws.defense-evasion.cloudtrail-event-selectors": "vigil.cloud.cloudtrail-modified",
            "aws.defense-evasion.vpc-remove-flow-logs": "vigil.cloud.flow-logs-deleted",
            "aws.defense-evasion.dns-delete-logs": "vigil.cloud.dns-query-logs-deleted",
            "aws.defense-evasion.organizations-leave": "vigil.cloud.organization-left",
            "aws.initial-access.console-login-without-mfa": "vigil.cloud.console-login-without-mfa",
            "aws.persistence.iam-backdoor-role": "vigil.cloud.iam-role-trust-changed",
            "aws.persistence.iam-backdoor-user": "vigil.cloud.iam-access-key-created",
            "aws.persistence.iam-create-admin-user": "vigil.cloud.iam-user-created",
            "aws.persistence.iam-create-backdoor-role": "vigil.cloud.iam-policy-attached",
            "aws.persistence.iam-create-user-login-profile": "vigil.cloud.iam-login-profile-created",
            "aws.privilege-escalation.iam-update-user-login-profile": "vigil.cloud.iam-login-profile-updated",
            "aws.exfiltration.ec2-share-ebs-snapshot": "vigil.cloud.snapshot-shared",
            "aws.exfiltration.rds-share-snapshot": "vigil.cloud.snapshot-shared",
            "aws.credential-access.secretsmanager-retrieve-secrets": "vigil.cloud.secret-value-read",
            "aws.impact.bedrock-invoke-model": "vigil.cloud.bedrock-model-access",
        ]
        for (id, rule) in expected {
            let technique = try #require(StratusData.techniques.first { $0.id == id })
            let findings = try StratusData.findings(technique)
            #expect(findings.contains { $0.rule.id == rule }, "\(id): \(Set(findings.map(\.rule.id)).sorted())")
        }
        // The console login's finding names the user and where the login came from.
        let login = try #require(
            StratusData.techniques.first { $0.id == "aws.initial-access.console-login-without-mfa" })
        let finding = try #require(try StratusData.findings(login).first)
        #expect(
            finding.explanation.contains("principal=arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl"))
    }
}
