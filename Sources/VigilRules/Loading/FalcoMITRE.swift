import VigilCore

/// ATT&CK mappings for the rules of Falco's plugin rule files that carry no MITRE tags:
/// `k8s_audit_rules.yaml` (Kubernetes audit) and `aws_cloudtrail_rules.yaml` (CloudTrail).
///
/// The loader uses an entry only for a rule of that name that has neither a `mitre:` key nor `mitre_<tactic>`
/// and `T<id>` tags; a rule's own mapping always wins. Each technique is an ATT&CK Enterprise (v18) technique
/// whose tactics include the one given. Rules that only record activity (`K8s Deployment Created`) get the
/// technique that activity serves in an attack.
public enum FalcoMITRE {
    /// The mapping for the Falco rule named `rule`, or nil when the table has none.
    public static func mapping(forRule rule: String) -> MITREMapping? {
        table[rule]
    }

    /// Every mapped rule name, sorted.
    public static var ruleNames: [String] { table.keys.sorted() }

    private static let table: [String: MITREMapping] = {
        var table: [String: MITREMapping] = [:]
        func map(_ tactic: MITRETactic, _ technique: String, _ rules: [String]) {
            for rule in rules { table[rule] = MITREMapping(tactic: tactic, technique: technique) }
        }
        // Kubernetes audit (k8s_audit_rules.yaml).
        // Valid Accounts: requests by users outside the allowed set, or by admin users.
        map(
            .initialAccess, "T1078", ["Disallowed K8s User", "Untrusted Node Unsuccessfully Tried to Join the Cluster"])
        map(.privilegeEscalation, "T1078", ["Full K8s Administrative Access"])
        map(.persistence, "T1078", ["Untrusted Node Successfully Joined the Cluster"])
        // Default Accounts: the anonymous user.
        map(.initialAccess, "T1078.001", ["Anonymous Request Allowed"])
        // Deploy Container.
        map(
            .execution, "T1610",
            [
                "Create Disallowed Pod", "EphemeralContainers Created", "K8s Deployment Created",
                "K8s ConfigMap Created",
            ])
        map(
            .defenseEvasion, "T1610",
            ["Create Disallowed Namespace", "Pod Created in Kube Namespace", "K8s Namespace Created"])
        // Escape to Host: privileged containers, host namespaces, sensitive host paths.
        map(
            .privilegeEscalation, "T1611",
            [
                "Create Privileged Pod", "Create Sensitive Mount Pod", "Create HostNetwork Pod", "Create HostPid Pod",
                "Create HostIPC Pod",
            ])
        // External Remote Services: services and ingresses that expose workloads.
        map(.persistence, "T1133", ["Create NodePort Service", "K8s Service Created"])
        map(.initialAccess, "T1133", ["Ingress Object without TLS Certificate Created"])
        // Unsecured Credentials and Container API.
        map(.credentialAccess, "T1552", ["Create/Modify Configmap With Private Credentials"])
        map(
            .credentialAccess, "T1552.007",
            ["K8s Secret Get Successfully", "K8s Secret Get Unsuccessfully Tried"])
        // Container Administration Command.
        map(.execution, "T1609", ["Attach/Exec Pod"])
        // Protocol Tunneling: port forwarding through the API server.
        map(.commandAndControl, "T1572", ["port-forward"])
        // Create Account and Account Manipulation.
        map(.persistence, "T1136", ["Service Account Created in Kube Namespace", "K8s Serviceaccount Created"])
        map(.persistence, "T1098", ["K8s Secret Created"])
        // Additional Container Cluster Roles.
        map(
            .privilegeEscalation, "T1098.006",
            ["Attach to cluster-admin Role", "ClusterRole With Wildcard Created", "ClusterRole With Pod Exec Created"])
        map(
            .persistence, "T1098.006",
            [
                "System ClusterRole Modified/Deleted", "ClusterRole With Write Privileges Created", "K8s Role Created",
                "K8s ClusterRole Created", "K8s RoleBinding Created", "K8s ClusterRoleBinding Created",
            ])
        // Service Stop, Data Destruction and Account Access Removal.
        map(.impact, "T1489", ["K8s Deployment Deleted", "K8s Service Deleted"])
        map(.impact, "T1485", ["K8s ConfigMap Deleted", "K8s Namespace Deleted", "K8s Secret Deleted"])
        map(
            .impact, "T1531",
            [
                "K8s Serviceaccount Deleted", "K8s Role Deleted", "K8s ClusterRole Deleted", "K8s RoleBinding Deleted",
                "K8s ClusterRoleBinding Deleted",
            ])
        // Container and Resource Discovery: the catch-all debugging rule.
        map(.discovery, "T1613", ["All K8s Audit Events"])

        // CloudTrail (aws_cloudtrail_rules.yaml).
        map(.discovery, "T1580", ["All Cloudtrail Events"])
        map(
            .initialAccess, "T1078.004",
            ["Console Login Through Assume Role", "Console Login Without MFA", "Console Root Login Without MFA"])
        map(.defenseEvasion, "T1556.006", ["Deactivate MFA for Root User"])
        map(.persistence, "T1136.003", ["Create AWS user"])
        map(.persistence, "T1098", ["Create Group"])
        map(.impact, "T1531", ["Delete Group"])
        map(.execution, "T1610", ["ECS Service Created", "ECS Task Run or Started"])
        map(
            .execution, "T1648",
            ["Create Lambda Function", "Update Lambda Function Code", "Update Lambda Function Configuration"])
        map(.defenseEvasion, "T1578.002", ["Run Instances"])
        map(.defenseEvasion, "T1535", ["Run Instances in Non-approved Region"])
        map(.defenseEvasion, "T1562", ["Delete Bucket Encryption"])
        map(.exfiltration, "T1537", ["Delete Bucket Public Access Block", "Put Bucket ACL", "Put Bucket Policy"])
        map(.discovery, "T1619", ["List Buckets"])
        map(.defenseEvasion, "T1562.008", ["CloudTrail Trail Created", "CloudTrail Logging Disabled"])
        return table
    }()
}
