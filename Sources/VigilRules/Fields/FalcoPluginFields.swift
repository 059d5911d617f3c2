import VigilCore

/// The fields of Falco's Kubernetes audit (`ka.*`), CloudTrail (`ct.*`, `s3.*`, `ecr.*`, `iam.*`) and JSON
/// (`jevt.*`, `json.*`) plugins that Vigil reads from an event's details (``KubernetesFields/details``,
/// ``CloudFields/details``), with the plugins' meaning: text values, lists for their list fields.
///
/// Vigil differs from the plugins in three small ways: an image's repository keeps a registry port
/// (`registry:5000/app`), `ka.req.pod.containers.add_capabilities` lists capabilities (the plugin gives each
/// container's list as JSON), and `ka.req.service.ports` lists ports (the plugin gives the whole array).
/// Parts of the original record that details do not keep (the response object, time stamps, ids) are
/// reported as ``RuleError/Code/unsupportedField``.
enum FalcoPluginFields {
    /// The definition of `reference` when it names a plugin field read from details; nil for any other name.
    static func resolve(_ reference: FieldReference) -> Result<FieldDefinition, RuleError>? {
        let name = reference.name
        func failure(_ code: RuleError.Code, _ message: String) -> Result<FieldDefinition, RuleError> {
            .failure(RuleError(code: code, location: reference.location, token: reference.spelled, message: message))
        }
        func definition(_ field: DetailField) -> Result<FieldDefinition, RuleError> {
            .success(FieldDefinition(id: .detail(field), type: .string, kinds: field.kinds))
        }
        if name == "jevt.value" || name == "json.value" {
            guard let pointer = reference.argument else {
                return failure(.invalidValue, "\(name) takes a JSON pointer: \(name)[/objectRef/resource]")
            }
            return jsonPointer(pointer, reference)
        }
        if let make = keyed[name] {
            guard let argument = reference.argument, !argument.isEmpty else {
                return failure(.invalidValue, "\(name) takes a key: \(name)[name]")
            }
            return definition(make(argument))
        }
        if let make = indexed[name] {
            var index: Int?
            if let argument = reference.argument {
                guard let value = Int(argument), value >= 0 else {
                    return failure(.invalidValue, "\(name) takes an index from 0: \(name)[0]")
                }
                index = value
            }
            return definition(make(index))
        }
        if let field = plain[name] {
            if reference.argument != nil { return failure(.invalidValue, "\(name) takes no argument") }
            return definition(field)
        }
        return nil
    }

    // MARK: JSON pointers

    /// Members of an audit event that details do not keep.
    static let kubernetesMembersNotKept: Set<String> = [
        "kind", "apiVersion", "level", "auditID", "verb", "sourceIPs", "userAgent", "responseObject",
        "requestReceivedTimestamp", "stageTimestamp", "timestamp", "metadata",
    ]

    /// Members of a CloudTrail record that details do not keep.
    static let cloudTrailMembersNotKept: Set<String> = [
        "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
        "errorCode", "requestID", "eventID", "readOnly", "resources", "recipientAccountId", "managementEvent",
        "eventCategory", "sharedEventID", "vpcEndpointId", "tlsDetails", "serviceEventDetails", "apiVersion",
        "sessionCredentialFromConsole", "addendum", "edgeDeviceDetails",
    ]

    /// `jevt.value[/requestObject/spec]`: an RFC 6901 pointer (`~1` is `/`, `~0` is `~`) into the details of the
    /// events that keep its first member. A member neither format knows is absent from every event (as in
    /// Falco, where such a pointer finds nothing); one the formats leave out is unsupported.
    private static func jsonPointer(
        _ pointer: String, _ reference: FieldReference
    ) -> Result<FieldDefinition, RuleError> {
        guard pointer.isEmpty || pointer.hasPrefix("/") else {
            return .failure(
                RuleError(
                    code: .invalidValue, location: reference.location, token: reference.spelled,
                    message: "a JSON pointer starts with '/'"))
        }
        let tokens = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0.replacing("~1", with: "/").replacing("~0", with: "~"))
        }
        guard let first = tokens.first else {
            let field = DetailField(source: .any, extraction: .whole, isList: false)
            return .success(FieldDefinition(id: .detail(field), type: .string, kinds: field.kinds))
        }
        if kubernetesMembersNotKept.contains(first) || cloudTrailMembersNotKept.contains(first) {
            let kept =
                EventDetailsFormat.kubernetesAudit.keys.joined(separator: ", ") + "; "
                + EventDetailsFormat.cloudTrail.keys.joined(separator: ", ")
            return .failure(
                RuleError(
                    code: .unsupportedField, location: reference.location, token: reference.spelled,
                    message: "Vigil keeps only these parts of audit events and CloudTrail records: \(kept)"))
        }
        let source: DetailField.Source
        if EventDetailsFormat.kubernetesAudit.keys.contains(first) {
            source = .kubernetes
        } else if EventDetailsFormat.cloudTrail.keys.contains(first) {
            source = .cloud
        } else {
            source = .any
        }
        let field = DetailField(source: source, extraction: .value(tokens), isList: false)
        return .success(FieldDefinition(id: .detail(field), type: .string, kinds: field.kinds))
    }

    // MARK: Tables

    private static func kubernetes(_ path: [String]) -> DetailField {
        DetailField(source: .kubernetes, extraction: .value(path), isList: false)
    }

    private static func kubernetesList(_ extraction: DetailField.Extraction) -> DetailField {
        DetailField(source: .kubernetes, extraction: extraction, isList: true)
    }

    private static func cloud(_ path: [String]) -> DetailField {
        DetailField(source: .cloud, extraction: .value(path), isList: false)
    }

    /// Fields that take a key in brackets.
    static let keyed: [String: @Sendable (String) -> DetailField] = [
        "ka.uri.param": { DetailField(source: .kubernetes, extraction: .uriParameter($0), isList: false) },
        "ka.req.volume.hostpath": {
            DetailField(
                source: .kubernetes,
                extraction: .pathMatch(
                    list: ["requestObject", "spec", "volumes"], inner: ["hostPath", "path"], pattern: $0),
                isList: false)
        },
    ]

    /// List fields that take an optional index in brackets (`ka.req.pod.containers.image[0]`).
    static let indexed: [String: @Sendable (Int?) -> DetailField] = {
        var fields: [String: @Sendable (Int?) -> DetailField] = [:]
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let prefix = "ka.req.pod.\(list)."
            let containers = ["requestObject", "spec", list]
            let context = containers + ["securityContext"]
            let collected: [(String, [String])] = [
                ("args", containers + ["args"]), ("command", containers + ["command"]), ("name", containers + ["name"]),
                ("image", containers + ["image"]), ("privileged", context + ["privileged"]),
                ("allow_privilege_escalation", context + ["allowPrivilegeEscalation"]),
                ("read_only_fs", context + ["readOnlyRootFilesystem"]), ("run_as_user", context + ["runAsUser"]),
                ("run_as_group", context + ["runAsGroup"]), ("proc_mount", context + ["procMount"]),
            ]
            for (suffix, path) in collected {
                fields[prefix + suffix] = { kubernetesList(.collect(path, index: $0)) }
            }
            fields[prefix + "image.repository"] = { kubernetesList(.repositories(containers + ["image"], index: $0)) }
            fields[prefix + "add_capabilities"] = {
                kubernetesList(.collectFlattened(context + ["capabilities", "add"], index: $0))
            }
            fields[prefix + "host_port"] = { kubernetesList(.hostPorts(containerList: list, index: $0)) }
            fields[prefix + "eff_run_as_user"] = {
                kubernetesList(.effective(containerList: list, key: "runAsUser", index: $0))
            }
            fields[prefix + "eff_run_as_group"] = {
                kubernetesList(.effective(containerList: list, key: "runAsGroup", index: $0))
            }
        }
        for part in ["apiGroups", "nonResourceURLs", "verbs", "resources"] {
            fields["ka.req.role.rules.\(part)"] = {
                kubernetesList(.collectFlattened(["requestObject", "rules", part], index: $0))
            }
        }
        let volumes = ["requestObject", "spec", "volumes"]
        fields["ka.req.pod.volumes.hostpath"] = { kubernetesList(.collect(volumes + ["hostPath", "path"], index: $0)) }
        fields["ka.req.pod.volumes.flexvolume_driver"] = {
            kubernetesList(.collect(volumes + ["flexVolume", "driver"], index: $0))
        }
        fields["ka.req.pod.volumes.volume_type"] = { kubernetesList(.volumeTypes(index: $0)) }
        return fields
    }()

    /// Fields that take no argument.
    static let plain: [String: DetailField] = {
        var fields: [String: DetailField] = [:]
        let spec = ["requestObject", "spec"]
        for (name, path) in [
            ("ka.stage", ["stage"]),
            ("ka.auth.decision", ["annotations", "authorization.k8s.io/decision"]),
            ("ka.auth.reason", ["annotations", "authorization.k8s.io/reason"]),
            (
                "ka.validations.admission.policy.failure",
                ["annotations", "validation.policy.admission.k8s.io/validation_failure"]
            ),
            ("ka.security.pod.violations", ["annotations", "pod-security.kubernetes.io/audit-violations"]),
            ("ka.impuser.name", ["impersonatedUser", "username"]), ("ka.uri", ["requestURI"]),
            ("ka.req.binding.role", ["requestObject", "roleRef", "name"]),
            ("ka.req.configmap.name", ["objectRef", "name"]), ("ka.req.configmap.obj", ["requestObject", "data"]),
            ("ka.req.pod.host_network", spec + ["hostNetwork"]),
            ("ka.req.container.host_network", spec + ["hostNetwork"]),
            ("ka.req.pod.host_pid", spec + ["hostPID"]), ("ka.req.pod.host_ipc", spec + ["hostIPC"]),
            ("ka.req.pod.run_as_user", spec + ["securityContext", "runAsUser"]),
            ("ka.req.pod.run_as_group", spec + ["securityContext", "runAsGroup"]),
            ("ka.req.pod.fs_group", spec + ["securityContext", "fsGroup"]), ("ka.req.service.type", spec + ["type"]),
            ("ka.response.reason", ["responseStatus", "reason"]),
        ] {
            fields[name] = kubernetes(path)
        }
        for (name, path) in [
            ("ka.user.groups", ["user", "groups"]), ("ka.req.binding.subjects", ["requestObject", "subjects"]),
            ("ka.req.pod.supplemental_groups", spec + ["securityContext", "supplementalGroups"]),
            ("ka.req.role.rules", ["requestObject", "rules"]), ("ka.req.service.ports", spec + ["ports"]),
        ] {
            fields[name] = kubernetesList(.elements(path))
        }
        for (name, kind, namespaced) in [
            ("user_names", "User", false), ("group_names", "Group", false),
            ("serviceaccount_names", "ServiceAccount", false), ("serviceaccount_ns_names", "ServiceAccount", true),
        ] {
            fields["ka.req.binding.subjects.\(name)"] = kubernetesList(
                .subjectNames(kind: kind, namespaced: namespaced))
        }
        let image = spec + ["containers", "image"]
        fields["ka.req.container.image"] = DetailField(
            source: .kubernetes, extraction: .collect(image, index: 0), isList: false)
        fields["ka.req.container.image.repository"] = DetailField(
            source: .kubernetes, extraction: .repositories(image, index: 0), isList: false)
        fields["ka.req.container.privileged"] = DetailField(
            source: .kubernetes,
            extraction: .anyTrue(list: spec + ["containers"], inner: ["securityContext", "privileged"]), isList: false)

        let request = ["requestParameters"]
        for (name, path) in [
            ("ct.errormessage", ["errorMessage"]), ("ct.eventtype", ["eventType"]),
            ("ct.user.identitytype", ["userIdentity", "type"]),
            ("ct.user.principalid", ["userIdentity", "principalId"]),
            ("ct.user.arn", ["userIdentity", "arn"]), ("ct.response", ["responseElements"]),
            ("ct.response.subnetid", ["responseElements", "subnetId"]),
            ("ct.response.reservationid", ["responseElements", "reservationId"]), ("ct.request", request),
            ("ct.request.availabilityzone", request + ["availabilityZone"]),
            ("ct.request.cluster", request + ["cluster"]),
            ("ct.request.functionname", request + ["functionName"]), ("ct.request.groupname", request + ["groupName"]),
            ("ct.request.host", request + ["Host"]), ("ct.request.name", request + ["name"]),
            ("ct.request.policy", request + ["policy"]), ("ct.request.serialnumber", request + ["serialNumber"]),
            ("ct.request.servicename", request + ["serviceName"]), ("ct.request.subnetid", request + ["subnetId"]),
            ("ct.request.taskdefinition", request + ["taskDefinition"]),
            ("ct.request.username", request + ["userName"]),
            ("ct.additionaleventdata", ["additionalEventData"]), ("s3.bucket", request + ["bucketName"]),
            ("s3.key", request + ["key"]), ("ecr.repository", request + ["repositoryName"]),
            ("ecr.imagetag", request + ["imageTag"]), ("iam.role", request + ["roleName"]),
            ("iam.policy", request + ["policyName"]),
        ] {
            fields[name] = cloud(path)
        }
        fields["ct.user"] = DetailField(source: .cloud, extraction: .cloudUser, isList: false)
        fields["s3.uri"] = DetailField(source: .cloud, extraction: .s3URI, isList: false)
        for name in ["jevt.obj", "json.obj"] {
            fields[name] = DetailField(source: .any, extraction: .whole, isList: false)
        }
        return fields
    }()
}
