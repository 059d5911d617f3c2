import VigilCore

/// One CloudTrail record with the fields that matter for security, as plain values.
///
/// The fixed-size ``Event`` keeps only what every layer needs; this record keeps the rest (session name,
/// error message, created names, policy documents, sharing attributes) for rules and correlation that want it.
public struct CloudTrailRecord: Sendable, Equatable {
    /// `eventID`, unique per record.
    public var eventID: String
    /// `eventVersion` (`1.08`), or empty when the record has none.
    public var eventVersion: String
    /// `eventTime` in nanoseconds since the Unix epoch.
    public var time: Int64
    /// `eventName` as written (`UpdateFunctionCode20150331v2`).
    public var eventName: String
    /// The API name with any version suffix removed (`UpdateFunctionCode`).
    public var action: String
    /// `eventSource` as written (`iam.amazonaws.com`).
    public var eventSource: String
    /// The service: `eventSource` without `.amazonaws.com` (`iam`).
    public var service: String
    /// `userIdentity.type` (`IAMUser`, `AssumedRole`, `Root`, `AWSService`, ...).
    public var identityType: String
    /// `userIdentity.arn` as written, session name included.
    public var identityARN: String
    /// The normalised principal the event carries
    /// (see ``CloudTrailParser/principal(arn:type:accountID:principalID:invokedBy:)``).
    public var principal: String
    /// `userIdentity.accountId`: the caller's account.
    public var identityAccountID: String
    /// The account the event is about: `recipientAccountId`, else the caller's account.
    public var account: String
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role (with its path) behind an assumed-role session.
    public var sessionIssuerARN: String
    /// `userIdentity.accessKeyId`.
    public var accessKeyID: String
    /// The session name of an assumed-role ARN (`arn:aws:sts::1:assumed-role/Role/<session>`), or empty.
    public var sessionName: String
    /// `userIdentity.invokedBy`: the service that called on the principal's behalf.
    public var invokedBy: String
    /// Whether the caller authenticated with MFA.
    public var mfaAuthenticated: Bool
    /// `awsRegion`, never validated.
    public var region: String
    /// `sourceIPAddress` as written (an address, or a service name such as `iam.amazonaws.com`).
    public var sourceIPAddress: String
    /// `userAgent`.
    public var userAgent: String
    /// `errorCode`, or empty when the call succeeded.
    public var errorCode: String
    /// `errorMessage`, or empty.
    public var errorMessage: String
    /// `readOnly`.
    public var readOnly: Bool
    /// The main resource acted on (see ``CloudTrailParser/resource(requestParameters:resources:)``), or empty.
    public var resource: String
    /// Request and response facts that matter for security, by name: `userName`, `roleName`, `policyArn`,
    /// `assumeRolePolicyDocument`, `policyDocument`, `accessKeyId` (created), `groupId`, `ipPermissions`
    /// (`tcp 22-22 0.0.0.0/0; ...`), `createVolumePermission.add` / `launchPermission.add` (`all` or account
    /// ids), `attributeType` and `valuesToAdd` (RDS snapshot sharing), `trailName`, `eventSelectors`,
    /// `advancedEventSelectors`, `loginProfile.userName`, `passwordResetRequired`, `functionName`, `layers`,
    /// `instanceType`, `secretId`, `snapshotId`, `imageId`, `bucketName`. Only members present in the record.
    public var securityDetails: [String: String]
}

/// Maps AWS CloudTrail records (as delivered to S3, exported by CloudWatch or wrapped by EventBridge) to
/// `cloud.api_call` ``Event``s or to ``CloudTrailRecord``s.
///
/// The event's principal drops the session name of assumed-role sessions: every session of a role is the
/// same identity for profiles and rules, and a fixed-size event has no room for it. ``CloudTrailRecord``
/// keeps it.
public struct CloudTrailParser: Sendable {
    /// The table strings are interned into.
    public let symbols: SymbolTable

    /// Creates a parser interning into `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    /// Maps one record (or an EventBridge envelope around one) to an event.
    public func event(from object: JSONObject) throws(CloudRecordError) -> Event {
        let fields = try Self.unwrap(object)
        let core = try Self.core(fields)
        let identity = try fields.object("userIdentity")
        let ip = try fields.string("sourceIPAddress")
        var flags: CloudFields.Flags = []
        if Self.isTrue(fields["readOnly"]) { flags.insert(.readOnly) }
        if try Self.mfa(fields, identity: identity, eventName: core.eventName) { flags.insert(.mfaAuthenticated) }
        let requestParameters = try? fields.object("requestParameters")
        let recipient = try fields.string("recipientAccountId")
        let identityAccount = try identity?.string("accountId")
        var cloud = CloudFields(
            provider: .aws,
            service: symbols.intern(core.service),
            action: symbols.intern(core.action),
            region: symbols.intern(try fields.string("awsRegion") ?? ""),
            account: symbols.intern(recipient ?? identityAccount ?? ""),
            accessKey: symbols.intern(try identity?.string("accessKeyId") ?? ""),
            sourceAddress: ip.flatMap { IPAddress($0) } ?? .none,
            userAgent: symbols.intern(try fields.string("userAgent") ?? ""),
            errorCode: symbols.intern(try fields.string("errorCode") ?? ""),
            resource: symbols.intern(
                Self.resource(requestParameters: requestParameters, resources: fields["resources"])),
            flags: flags
        )
        let principal = symbols.intern(try Self.principal(identity))
        cloud.details = symbols.intern(EventDetailsFormat.cloudTrail.text { fields[$0] })
        return Event(time: core.time, kind: .cloudAPICall, principal: principal, fields: .cloud(cloud))
    }

    /// Parses one record (or an EventBridge envelope around one) into a ``CloudTrailRecord``.
    public static func record(from object: JSONObject) throws(CloudRecordError) -> CloudTrailRecord {
        let fields = try unwrap(object)
        let core = try core(fields)
        let identity = try fields.object("userIdentity")
        let sessionContext = try identity?.object("sessionContext")
        let arn = try identity?.string("arn") ?? ""
        let identityAccount = try identity?.string("accountId") ?? ""
        let requestParameters = try? fields.object("requestParameters")
        return CloudTrailRecord(
            eventID: try fields.string("eventID") ?? "",
            eventVersion: try fields.string("eventVersion") ?? "",
            time: core.time,
            eventName: core.eventName,
            action: core.action,
            eventSource: core.eventSource,
            service: core.service,
            identityType: try identity?.string("type") ?? "",
            identityARN: arn,
            principal: try principal(identity),
            identityAccountID: identityAccount,
            account: try fields.string("recipientAccountId") ?? identityAccount,
            sessionIssuerARN: try sessionContext?.object("sessionIssuer")?.string("arn") ?? "",
            accessKeyID: try identity?.string("accessKeyId") ?? "",
            sessionName: sessionName(arn: arn),
            invokedBy: try identity?.string("invokedBy") ?? "",
            mfaAuthenticated: try mfa(fields, identity: identity, eventName: core.eventName),
            region: try fields.string("awsRegion") ?? "",
            sourceIPAddress: try fields.string("sourceIPAddress") ?? "",
            userAgent: try fields.string("userAgent") ?? "",
            errorCode: try fields.string("errorCode") ?? "",
            errorMessage: try fields.string("errorMessage") ?? "",
            readOnly: isTrue(fields["readOnly"]),
            resource: resource(requestParameters: requestParameters, resources: fields["resources"]),
            securityDetails: securityDetails(fields)
        )
    }

    /// Whether `object` looks like a CloudTrail record or an EventBridge envelope around one.
    public static func isRecord(_ object: JSONObject) -> Bool {
        if let detail = object["detail"]?.object, object["detail-type"] != nil {
            return detail["eventName"] != nil
        }
        return object["eventName"] != nil && (object["eventSource"] != nil || object["eventVersion"] != nil)
    }

    // MARK: - Normalisation

    /// The API name without a version suffix (``VigilCore/CloudFields/actionWithoutVersion(_:)``):
    /// `UpdateFunctionCode20150331v2` → `UpdateFunctionCode`.
    public static func normalizedAction(_ eventName: String) -> String {
        CloudFields.actionWithoutVersion(eventName)
    }

    /// The principal an event carries.
    ///
    /// - An assumed-role session `arn:aws:sts::123:assumed-role/Role/session` becomes the role
    ///   `arn:aws:iam::123:role/Role` (the session name is dropped; a role path is not in the session ARN,
    ///   so it is not in the principal either, which keeps every record of the role on one principal).
    /// - Any other ARN is kept as is.
    /// - Without an ARN: `Root` → `arn:aws:iam::<account>:root`; `AWSService` → `invokedBy`; otherwise
    ///   `<type>:<principalId>` (or `<type>:<accountId>`).
    public static func principal(
        arn: String, type: String, accountID: String, principalID: String, invokedBy: String
    ) -> String {
        if !arn.isEmpty { return AWSARN.roleARN(fromSession: arn) ?? arn }
        switch type {
        case "Root" where !accountID.isEmpty: return "arn:aws:iam::\(accountID):root"
        case "AWSService" where !invokedBy.isEmpty: return invokedBy
        default: break
        }
        if !principalID.isEmpty { return type.isEmpty ? principalID : "\(type):\(principalID)" }
        if !accountID.isEmpty { return type.isEmpty ? accountID : "\(type):\(accountID)" }
        return invokedBy.isEmpty ? type : invokedBy
    }

    /// The session name of an assumed-role session ARN, or empty.
    static func sessionName(arn: String) -> String {
        guard AWSARN.roleARN(fromSession: arn) != nil, let slash = arn.lastIndex(of: "/") else { return "" }
        return String(arn[arn.index(after: slash)...])
    }

    /// The keys of `requestParameters` that name the main resource, in order of preference.
    public static let resourceKeys = [
        "userName", "roleName", "bucketName", "functionName", "name", "secretId", "snapshotId", "imageId",
        "groupId", "instanceId",
    ]

    /// The main resource acted on: the first of ``resourceKeys`` present in `requestParameters` as a
    /// string, else `resources[0].ARN`, else empty.
    static func resource(requestParameters: JSONFields?, resources: JSONValue?) -> String {
        if let parameters = requestParameters {
            for key in resourceKeys {
                if case .string(let value)? = parameters[key], !value.isEmpty { return value }
            }
        }
        if case .array(let list)? = resources, let first = list.first?.object {
            if case .string(let arn)? = first["ARN"] ?? first["arn"] { return arn }
        }
        return ""
    }

    // MARK: - Record parts

    struct Core {
        var time: Int64
        var eventName: String
        var action: String
        var eventSource: String
        var service: String
    }

    /// The record inside an EventBridge envelope, or the object itself.
    static func unwrap(_ object: JSONObject) throws(CloudRecordError) -> JSONFields {
        guard object["detail-type"] != nil, let detail = object["detail"] else { return JSONFields(object) }
        guard case .object(let record) = detail else {
            throw CloudRecordError(code: .invalidField, field: "detail", message: "an EventBridge detail is an object")
        }
        return JSONFields(record)
    }

    static func core(_ fields: JSONFields) throws(CloudRecordError) -> Core {
        if let version = try fields.string("eventVersion"), !version.hasPrefix("1.") {
            throw CloudRecordError(
                code: .unsupportedVersion, field: "eventVersion",
                message: "CloudTrail event version '\(version.prefix(16))' is not 1.x; update Vigil to read it")
        }
        let time = try parseTime(try fields.requiredString("eventTime"), field: "eventTime")
        let eventName = try fields.requiredString("eventName")
        let eventSource = try fields.requiredString("eventSource")
        let suffix = ".amazonaws.com"
        let service = eventSource.hasSuffix(suffix) ? String(eventSource.dropLast(suffix.count)) : eventSource
        return Core(
            time: time, eventName: eventName, action: normalizedAction(eventName), eventSource: eventSource,
            service: service)
    }

    static func principal(_ identity: JSONFields?) throws(CloudRecordError) -> String {
        guard let identity else { return "" }
        return principal(
            arn: try identity.string("arn") ?? "",
            type: try identity.string("type") ?? "",
            accountID: try identity.string("accountId") ?? "",
            principalID: try identity.string("principalId") ?? "",
            invokedBy: try identity.string("invokedBy") ?? "")
    }

    static func mfa(_ fields: JSONFields, identity: JSONFields?, eventName: String) throws(CloudRecordError) -> Bool {
        let attributes = try identity?.object("sessionContext")?.object("attributes")
        if isTrue(attributes?["mfaAuthenticated"]) { return true }
        if eventName == "ConsoleLogin", let extra = try fields.object("additionalEventData"),
            case .string(let used)? = extra["MFAUsed"]
        {
            return used == "Yes"
        }
        return false
    }

    static func isTrue(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(true)?: return true
        case .string(let text)?: return text == "true"
        default: return false
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: - Security details

    /// `requestParameters` members copied as they are (compact JSON for structured ones).
    static let detailKeys = [
        "userName", "roleName", "groupName", "policyArn", "policyName", "policyDocument",
        "assumeRolePolicyDocument", "groupId", "attributeType", "valuesToAdd", "attribute",
        "trailName", "eventSelectors", "advancedEventSelectors", "functionName", "layers", "instanceType",
        "secretId", "snapshotId", "imageId", "bucketName", "passwordResetRequired", "dBSnapshotIdentifier",
        "principalArn", "roleArn", "roleSessionName", "sourceArn", "action",
    ]

    static func securityDetails(_ fields: JSONFields) -> [String: String] {
        var details: [String: String] = [:]
        let request = fields["requestParameters"]?.object
        if let request {
            for key in detailKeys {
                if let value = request[key], !value.isNull { details[key] = compactJSON(value) }
            }
            // CloudTrail's trail APIs name the trail `name`; keep that under an unambiguous key.
            if case .string(let name)? = request["name"], fields["eventSource"]?.string == "cloudtrail.amazonaws.com" {
                details["trailName"] = name
            }
            var rules = request["ipPermissions"].map(ipPermissions) ?? ""
            // The older form of AuthorizeSecurityGroupIngress gives one rule at the top level.
            if case .string(let cidr)? = request["cidrIp"] {
                let proto = request["ipProtocol"].map(compactJSON) ?? "?"
                let from = request["fromPort"].map(compactJSON) ?? "all"
                let to = request["toPort"].map(compactJSON) ?? "all"
                rules += (rules.isEmpty ? "" : "; ") + "\(proto) \(from)-\(to) \(cidr)"
            }
            if !rules.isEmpty { details["ipPermissions"] = rules }
            for attribute in ["createVolumePermission", "launchPermission"] {
                if let add = request[attribute]?["add"] { details[attribute + ".add"] = sharedWith(add) }
                if let remove = request[attribute]?["remove"] { details[attribute + ".remove"] = sharedWith(remove) }
            }
        }
        if let response = fields["responseElements"]?.object {
            if case .string(let key)? = response["accessKey"]?["accessKeyId"] { details["accessKeyId"] = key }
            if case .string(let user)? = response["loginProfile"]?["userName"] {
                details["loginProfile.userName"] = user
            }
            if case .string(let arn)? = response["user"]?["arn"] { details["userArn"] = arn }
            if case .string(let arn)? = response["role"]?["arn"] { details["roleArn"] = arn }
        }
        return details
    }

    /// `tcp 22-22 0.0.0.0/0; -1 all ::/0`: protocol, port range and every CIDR of each rule.
    static func ipPermissions(_ value: JSONValue) -> String {
        // Requests write `{"items": [...]}`; hand-written records sometimes give the array itself.
        let rules = value["items"]?.array ?? value.array ?? []
        var parts: [String] = []
        for rule in rules {
            let proto = rule["ipProtocol"].map(compactJSON) ?? "?"
            let from = rule["fromPort"].map(compactJSON) ?? "all"
            let to = rule["toPort"].map(compactJSON) ?? "all"
            var ranges: [String] = []
            for (list, key) in [("ipRanges", "cidrIp"), ("ipv6Ranges", "cidrIpv6"), ("groups", "groupId")] {
                for item in rule[list]?["items"]?.array ?? [] {
                    if case .string(let text)? = item[key] { ranges.append(text) }
                }
            }
            parts.append("\(proto) \(from)-\(to) \(ranges.joined(separator: ","))")
        }
        return parts.joined(separator: "; ")
    }

    /// `all` for a public share, else the account ids, comma-separated.
    static func sharedWith(_ value: JSONValue) -> String {
        var targets: [String] = []
        for item in value["items"]?.array ?? value.array ?? [] {
            if case .string(let group)? = item["group"] { targets.append(group) }
            if case .string(let user)? = item["userId"] { targets.append(user) }
        }
        return targets.joined(separator: ",")
    }
}
