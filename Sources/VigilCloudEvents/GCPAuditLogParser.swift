import VigilCore

/// Maps GCP Cloud Audit Log entries (`LogEntry` with an `AuditLog` payload) to `cloud.api_call` events.
///
/// Accepts the payload as `protoPayload` (Cloud Logging), `protopayload_auditlog` (BigQuery log sinks) and
/// `protopayload` (exports that lowercase keys). A payload whose `@type` is something other than `AuditLog` is
/// not an audit record; a payload without `@type` is read when it has a `methodName`, because exports often
/// drop the type.
public struct GCPAuditLogParser: Sendable {
    /// The `@type` of audit payloads.
    public static let auditLogType = "type.googleapis.com/google.cloud.audit.AuditLog"

    /// The table strings are interned into.
    public let symbols: SymbolTable

    /// Creates a parser interning into `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    /// The audit payload of `entry`, or nil when the entry carries none.
    static func payload(_ entry: JSONObject) -> JSONObject? {
        guard let payload = (entry["protoPayload"] ?? entry["protopayload_auditlog"] ?? entry["protopayload"])?.object
        else { return nil }
        // Panther renames `@type` to `at_sign_type`.
        if case .string(let type)? = payload["@type"] ?? payload["at_sign_type"] {
            return type == auditLogType ? payload : nil
        }
        return payload["methodName"] != nil ? payload : nil
    }

    /// Whether `object` looks like a Cloud Audit Log entry.
    public static func isRecord(_ object: JSONObject) -> Bool { payload(object) != nil }

    /// Maps one log entry to an event.
    public func event(from entry: JSONObject) throws(CloudRecordError) -> Event {
        guard let payloadObject = Self.payload(entry) else {
            throw CloudRecordError(
                code: .notACloudRecord, field: "protoPayload", message: "the log entry has no AuditLog payload")
        }
        let top = JSONFields(entry)
        let payload = JSONFields(payloadObject, path: "protoPayload.")
        let method = try payload.requiredString("methodName")
        let metadata = try payload.object("requestMetadata")
        var timeText = try top.firstString("timestamp", "receiveTimestamp")
        if timeText == nil { timeText = try metadata?.object("requestAttributes")?.string("time") }
        guard let timeText else {
            throw CloudRecordError(code: .missingField, field: "timestamp", message: "the log entry has no timestamp")
        }
        let time = try parseTime(timeText, field: "timestamp")
        let serviceName = try payload.string("serviceName") ?? ""
        let suffix = ".googleapis.com"
        let service = serviceName.hasSuffix(suffix) ? String(serviceName.dropLast(suffix.count)) : serviceName
        let authentication = try payload.object("authenticationInfo")
        let labels = try top.object("resource")?.object("labels")
        let region =
            try labels?.firstString("location", "zone", "region") ?? ""
        var errorCode = ""
        if let status = try payload.object("status"), let code = status["code"]?.int64, code != 0 {
            errorCode = String(code)
        }
        let callerIP = try metadata?.string("callerIp")
        let cloud = CloudFields(
            provider: .gcp,
            service: symbols.intern(service),
            action: symbols.intern(method),
            region: symbols.intern(region),
            account: symbols.intern(try labels?.string("project_id") ?? ""),
            accessKey: symbols.intern(try authentication?.string("serviceAccountKeyName") ?? ""),
            sourceAddress: callerIP.flatMap { IPAddress($0) } ?? .none,
            userAgent: symbols.intern(try metadata?.string("callerSuppliedUserAgent") ?? ""),
            errorCode: symbols.intern(errorCode),
            resource: symbols.intern(try payload.string("resourceName") ?? ""))
        return Event(
            time: time, kind: .cloudAPICall,
            principal: symbols.intern(try authentication?.string("principalEmail") ?? ""), fields: .cloud(cloud))
    }
}

/// Maps Azure Activity Log records to `cloud.api_call` events.
///
/// `operationName` (`Microsoft.Compute/virtualMachines/write`, or an object whose `value` holds it) splits into
/// the service (the resource provider, `Microsoft.Compute`) and the action (`virtualMachines/write`).
public struct AzureActivityLogParser: Sendable {
    /// The table strings are interned into.
    public let symbols: SymbolTable

    /// Creates a parser interning into `symbols`.
    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    /// Whether `object` looks like an Activity Log record.
    public static func isRecord(_ object: JSONObject) -> Bool {
        object["operationName"] != nil
            && (object["resourceId"] != nil || object["callerIpAddress"] != nil || object["category"] != nil
                || object["caller"] != nil)
    }

    /// The service and action of an operation name.
    public static func split(operationName: String) -> (service: String, action: String) {
        guard let slash = operationName.firstIndex(of: "/") else { return ("", operationName) }
        return (String(operationName[..<slash]), String(operationName[operationName.index(after: slash)...]))
    }

    /// The subscription id in a resource id (`/subscriptions/<id>/...`), or empty.
    public static func subscription(resourceID: String) -> String {
        let parts = resourceID.split(separator: "/")
        guard parts.count >= 2, parts[0].lowercased() == "subscriptions" else { return "" }
        return String(parts[1])
    }

    /// Maps one record to an event.
    public func event(from record: JSONObject) throws(CloudRecordError) -> Event {
        let fields = JSONFields(record)
        let operation: String
        switch record["operationName"] {
        case .string(let name)?: operation = name
        case .object(let object)?: operation = try JSONFields(object, path: "operationName.").requiredString("value")
        case nil, .null?:
            throw CloudRecordError(
                code: .missingField, field: "operationName", message: "the record has no operationName")
        default:
            throw CloudRecordError(
                code: .invalidField, field: "operationName", message: "expected a string or an object with a value")
        }
        guard !operation.isEmpty else {
            throw CloudRecordError(code: .missingField, field: "operationName", message: "the operationName is empty")
        }
        guard let timeText = try fields.firstString("time", "eventTimestamp") else {
            throw CloudRecordError(
                code: .missingField, field: "time", message: "the record has neither time nor eventTimestamp")
        }
        let time = try parseTime(timeText, field: "time")
        let (service, action) = Self.split(operationName: operation)
        let resourceID = try fields.string("resourceId") ?? ""
        let account = try fields.string("subscriptionId") ?? Self.subscription(resourceID: resourceID)
        var errorCode = ""
        let result = try fields.text("resultType") ?? ""
        if result == "Failure" || result == "Failed" {
            let signature = try fields.text("resultSignature") ?? ""
            errorCode = signature.isEmpty ? result : signature
        }
        let callerIP = try fields.string("callerIpAddress")
        let cloud = CloudFields(
            provider: .azure,
            service: symbols.intern(service),
            action: symbols.intern(action),
            region: symbols.intern(try fields.string("location") ?? ""),
            account: symbols.intern(account),
            sourceAddress: callerIP.flatMap { IPAddress($0) } ?? .none,
            errorCode: symbols.intern(errorCode),
            resource: symbols.intern(resourceID))
        return Event(
            time: time, kind: .cloudAPICall, principal: symbols.intern(try caller(fields)), fields: .cloud(cloud))
    }

    /// `caller`, else the identity claims' UPN, name or application id.
    private func caller(_ fields: JSONFields) throws(CloudRecordError) -> String {
        if let caller = try fields.string("caller"), !caller.isEmpty { return caller }
        let claims = try fields.object("identity")?.object("claims")
        for key in [
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "upn", "name", "appid",
        ] {
            if case .string(let value)? = claims?[key], !value.isEmpty { return value }
        }
        return ""
    }
}
