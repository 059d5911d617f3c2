import Foundation
import Testing
import VigilCloudEvents
import VigilCore

/// Parsing and mapping against the real records in ../shared/data (sources in ../shared/data/README.md).
@Suite struct RealDataTests {
    /// Stratus Red Team detonation logs (DataDog/stratus-red-team @7c9a7a5a, Apache-2.0): all 35 files, 310
    /// records, parse with no skip, and each yields exactly the API calls that aws_technique_eventnames.tsv
    /// lists for it (its second column, `service:EventName`).
    @Test func stratusFilesYieldTheirListedAPICalls() throws {
        let tsv = try String(
            contentsOfFile: DataPaths.path("cloudtrail/stratus-red-team/aws_technique_eventnames.tsv"),
            encoding: .utf8)
        var files = 0
        var records = 0
        for line in tsv.split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            let path = DataPaths.stratusFile(String(columns[0]))
            guard FileManager.default.fileExists(atPath: path) else { continue }
            files += 1
            let result = try ReadResult(path: path)
            #expect(result.skipped.total == 0, "\(columns[0]): \(result.skipped.messages)")
            records += result.events.count
            // The TSV keeps Lambda's versioned names (`lambda:UpdateFunctionCode20150331v2`).
            let expected = Set(
                columns[1].split(separator: ",").map { call -> String in
                    let parts = call.split(separator: ":")
                    return "\(parts[0]):\(CloudTrailParser.normalizedAction(String(parts[1])))"
                })
            #expect(result.calls == expected, "\(columns[0])")
        }
        #expect(files == 35)
        #expect(records == 310)
    }

    /// Stratus lambda-overwrite-code: the `UpdateFunctionCode20150331v2` name loses its version, the fake
    /// region is kept as is, the source address is parsed, an IAM user ARN is the principal.
    @Test func stratusLambdaRecordFields() throws {
        let result = try ReadResult(path: DataPaths.stratusFile("aws.persistence.lambda-overwrite-code"))
        let cloud = try #require(result.cloud(0))
        #expect(cloud.provider == .aws)
        #expect(result.text(cloud.service) == "lambda")
        #expect(result.text(cloud.action) == "UpdateFunctionCode")
        #expect(result.text(cloud.region) == "ap-westeast-2r")
        #expect(cloud.sourceAddress == IPAddress("253.8.50.132"))
        #expect(result.text(result.events[0].principal) == "arn:aws:iam::266106314375:user/christophe")
        #expect(result.events[0].kind == .cloudAPICall)
        #expect(result.events[0].time == RFC3339.parse("2024-08-01T13:52:02Z"))
    }

    /// Stratus ec2-get-password-data: an assumed-role session maps to the role without its session name, and
    /// the error code is kept.
    @Test func stratusAssumedRoleAndError() throws {
        let path = DataPaths.stratusFile("aws.credential-access.ec2-get-password-data")
        let result = try ReadResult(path: path)
        let cloud = try #require(result.cloud(0))
        #expect(result.text(cloud.errorCode) == "Client.UnauthorizedOperation")
        #expect(
            result.text(result.events[0].principal)
                == "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role")
        let records = try CloudEventFile.cloudTrailRecords(path: path).records
        #expect(records[0].sessionName == "aws-go-sdk-1722375070115152000")
        #expect(records[0].identityARN.hasSuffix("/aws-go-sdk-1722375070115152000"))
        #expect(records[0].errorMessage.hasPrefix("You are not authorized"))
    }

    /// Stratus console-login-without-mfa: `MFAUsed: No` leaves the MFA flag unset; Panther test records
    /// (panther-labs/panther-analysis @daa10c88) set it: line 2 through the session attributes, line 54
    /// ("Successful Login w/ MFA") through `additionalEventData.MFAUsed`.
    @Test func mfaFlag() throws {
        let login = try ReadResult(path: DataPaths.stratusFile("aws.initial-access.console-login-without-mfa"))
        let cloud = try #require(login.cloud(0))
        #expect(login.text(cloud.action) == "ConsoleLogin")
        #expect(login.text(cloud.service) == "signin")
        #expect(!cloud.flags.contains(.mfaAuthenticated))

        let lines = try String(
            contentsOfFile: DataPaths.path("cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl"),
            encoding: .utf8
        ).split(separator: "\n")
        for number in [2, 54] {
            let result = try ReadResult(bytes: Array(lines[number - 1].utf8))
            let fields = try #require(result.cloud(0))
            #expect(fields.flags.contains(.mfaAuthenticated), "line \(number)")
        }
    }

    /// Panther CloudTrail test records: 461 lines. Skipped, and why: 15 hand-written fragments have no
    /// eventTime, 2 have a placeholder time ('redacted', '...'), and 8 were lowercased by Panther (`eventname`,
    /// `awsregion`) so they are not CloudTrail records as AWS writes them. Every other record maps.
    @Test func pantherCloudTrailRecords() throws {
        let result = try ReadResult(path: DataPaths.path("cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl"))
        #expect(result.events.count == 436)
        #expect(result.skipped[.missingField] == 15)
        #expect(result.skipped[.invalidField] == 2)
        #expect(result.skipped[.notACloudRecord] == 8)
        #expect(result.skipped.total == 25)
        #expect(result.events.allSatisfy { $0.kind == .cloudAPICall && $0.time != 0 })
    }

    /// Panther's EKS file holds Kubernetes audit events and its S3 file S3 server access logs: none is a
    /// CloudTrail record, and each is counted as such rather than mis-mapped.
    @Test func pantherNonCloudTrailFilesAreCountedNotMapped() throws {
        let eks = try ReadResult(path: DataPaths.path("cloudtrail/panther/aws_eks_rules.tests.jsonl"))
        #expect(eks.events.isEmpty)
        #expect(eks.skipped[.notACloudRecord] == 20 && eks.skipped.total == 20)
        let s3 = try ReadResult(path: DataPaths.path("cloudtrail/panther/aws_s3_rules.tests.jsonl"))
        #expect(s3.events.isEmpty)
        #expect(s3.skipped[.notACloudRecord] == 16 && s3.skipped.total == 16)
    }

    /// GoogleCloudPlatform/security-analytics @2dd85655 fixtures: the 15 audit-log entries map (one a BigQuery
    /// export with `protopayload_auditlog`); the 2 load-balancer request logs and the VPC flow log are not
    /// audit logs and are counted as such.
    @Test func gcpSecurityAnalyticsFixtures() throws {
        let directory = DataPaths.path("gcp/security-analytics")
        var events = 0
        var notRecords: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".json") {
            let result = try ReadResult(path: directory + "/" + name)
            events += result.events.count
            if result.skipped[.notACloudRecord] == 1 { notRecords.append(name) }
            #expect(result.skipped.total == result.skipped[.notACloudRecord], "\(name)")
        }
        #expect(events == 15)
        #expect(
            notRecords.sorted() == [
                "google.cloud.loadbalancing.type.LoadBalancerLogEntry-Spring4Shell.json",
                "google.cloud.loadbalancing.type.LoadBalancerLogEntry-handledbyIAP.json",
                "google.compute.googleapis.com.vpc_flows.json",
            ])

        let create = try ReadResult(path: directory + "/google.iam.admin.v1.CreateServiceAccountRequest.json")
        let cloud = try #require(create.cloud(0))
        #expect(cloud.provider == .gcp)
        #expect(create.text(cloud.service) == "iam")
        #expect(create.text(cloud.action) == "google.iam.admin.v1.CreateServiceAccount")
        #expect(create.text(create.events[0].principal) == "test@example.com")
        #expect(cloud.sourceAddress == IPAddress("203.0.113.255"))
        #expect(create.text(cloud.resource) == "projects/1234")
        #expect(cloud.errorCode.isNone)

        let bigQuery = try ReadResult(path: directory + "/google.cloud.bigquery.v2.JobService.InsertJob-dataRead.json")
        let job = try #require(bigQuery.cloud(0))
        #expect(bigQuery.text(job.action) == "google.cloud.bigquery.v2.JobService.InsertJob")
        #expect(bigQuery.text(job.account) == "1234")
        #expect(bigQuery.text(bigQuery.events[0].principal) == "test-user@example.com")
    }

    /// Panther GCP test records: every line that is a Cloud Audit Log entry maps. Skipped: fragments holding only
    /// a `methodName` or a payload without one, Panther-lowercased entries (`protopayload`, `operation` only),
    /// 4 whose `requestMetadata` was hand-written as a string (wrong type), 6 missing a required field (4 AuditLog
    /// payloads without a `methodName`, such as the cases "GCP No methodName found" and "No method provided", and
    /// entries without any timestamp), and in the GKE file 6 entries with no timestamp at all.
    @Test func pantherGCPRecords() throws {
        let audit = try ReadResult(path: DataPaths.path("gcp/gcp_audit_rules.tests.jsonl"))
        #expect(audit.events.count + audit.skipped.total == 143)
        #expect(audit.skipped[.invalidField] == 4)
        #expect(audit.skipped[.missingField] == 6)
        #expect(audit.skipped[.notACloudRecord] == 8)
        #expect(audit.skipped.total == 18)
        #expect(audit.events.count == 125)
        let failed = audit.events.indices.filter { !(audit.cloud($0)?.errorCode.isNone ?? true) }
        #expect(!failed.isEmpty, "some Panther GCP records carry a non-zero status.code")

        let gke = try ReadResult(path: DataPaths.path("gcp/gcp_k8s_rules.tests.jsonl"))
        #expect(gke.events.count == 17)
        #expect(gke.skipped[.missingField] == 6)
        #expect(gke.skipped[.notACloudRecord] == 2)
    }

    /// Panther Azure Activity Log test records: all 214 map; the first (an action group deleted) checked field
    /// by field.
    @Test func azureActivityRecords() throws {
        let result = try ReadResult(path: DataPaths.path("azure/azure_activity_rules.tests.jsonl"))
        #expect(result.events.count == 214)
        #expect(result.skipped.total == 0)
        let cloud = try #require(result.cloud(0))
        #expect(cloud.provider == .azure)
        #expect(result.text(cloud.service) == "Microsoft.Insights")
        #expect(result.text(cloud.action) == "actionGroups/delete")
        #expect(result.text(cloud.account) == "12345678-1234-1234-1234-123456789abc")
        #expect(cloud.sourceAddress == IPAddress("1.1.1.1"))
        #expect(result.text(cloud.region) == "eastus")
        #expect(result.text(cloud.resource).hasSuffix("/actionGroups/securityteam"))
        #expect(cloud.errorCode.isNone)
        let failures = result.events.indices.filter { !(result.cloud($0)?.errorCode.isNone ?? true) }
        #expect(!failures.isEmpty, "Failure results carry an error code")
    }

    /// Security details of Stratus records: created user and attached policy, EBS snapshot shared with another
    /// account, SSH opened to the world, trail event selectors changed.
    @Test func securityDetails() throws {
        let admin = try CloudEventFile.cloudTrailRecords(
            path: DataPaths.stratusFile("aws.persistence.iam-create-admin-user")
        ).records
        let attach = try #require(admin.first { $0.action == "AttachUserPolicy" })
        #expect(attach.securityDetails["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess")
        #expect(attach.securityDetails["userName"] == "malicious-iam-user")
        #expect(attach.resource == "malicious-iam-user")

        let share = try CloudEventFile.cloudTrailRecords(
            path: DataPaths.stratusFile("aws.exfiltration.ec2-share-ebs-snapshot")
        ).records
        #expect(share[0].securityDetails["createVolumePermission.add"] == "098797384747")
        #expect(share[0].resource == "snap-041993b54a9b3af6f")

        let ssh = try CloudEventFile.cloudTrailRecords(
            path: DataPaths.stratusFile("aws.exfiltration.ec2-security-group-open-port-22-ingress")
        ).records
        #expect(ssh[0].securityDetails["ipPermissions"] == "tcp 22-22 208.236.235.254/0")

        let selectors = try CloudEventFile.cloudTrailRecords(
            path: DataPaths.stratusFile("aws.defense-evasion.cloudtrail-event-selectors")
        ).records
        #expect(selectors[0].securityDetails["eventSelectors"]?.contains("AWS::S3::Object") == true)
        #expect(selectors[0].securityDetails["trailName"] != nil)
    }

    /// Format detection on each kind of shared file.
    @Test func formatDetection() throws {
        let stratus = try CloudEventFile.detectFormat(
            path: DataPaths.stratusFile("aws.persistence.iam-create-admin-user"))
        #expect(stratus == CloudEventFormat(container: .array, provider: .aws))
        let panther = try CloudEventFile.detectFormat(
            path: DataPaths.path("cloudtrail/panther/aws_cloudtrail_rules.tests.jsonl"))
        #expect(panther == CloudEventFormat(container: .lines, provider: .aws))
        let gcp = try CloudEventFile.detectFormat(
            path: DataPaths.path("gcp/security-analytics/google.iam.admin.v1.CreateServiceAccountRequest.json"))
        #expect(gcp == CloudEventFormat(container: .object, provider: .gcp))
        let azure = try CloudEventFile.detectFormat(path: DataPaths.path("azure/azure_activity_rules.tests.jsonl"))
        #expect(azure == CloudEventFormat(container: .lines, provider: .azure))
        let eks = try CloudEventFile.detectFormat(path: DataPaths.path("cloudtrail/panther/aws_eks_rules.tests.jsonl"))
        #expect(eks == nil)
    }
}
