import VigilCore

extension Entity {
    /// A process, identified as `pid@start` so that a reused pid is a different entity.
    public static func process(_ key: ProcessKey) -> Entity { Entity(kind: "process", id: processID(key)) }

    /// A container instance.
    public static func container(_ id: String) -> Entity { Entity(kind: "container", id: id) }

    /// A workload (all replicas of one container of one owner), by its ``Workload/name``.
    public static func workload(_ name: String) -> Entity { Entity(kind: "workload", id: name) }

    /// A Kubernetes pod, as `namespace/name`.
    public static func pod(namespace: String, name: String) -> Entity {
        Entity(kind: "pod", id: "\(namespace)/\(name)")
    }

    /// A node (a cloud instance), by its instance id.
    public static func node(_ instanceID: String) -> Entity { Entity(kind: "node", id: instanceID) }

    /// A network address.
    public static func address(_ address: IPAddress) -> Entity { Entity(kind: "address", id: address.description) }

    /// A cloud principal (an ARN or provider identity).
    public static func principal(_ id: String) -> Entity { Entity(kind: "principal", id: id) }

    /// A cloud access key or credential id.
    public static func accessKey(_ id: String) -> Entity { Entity(kind: "access_key", id: id) }

    /// A cloud session (an assumed-role session ARN).
    public static func session(_ id: String) -> Entity { Entity(kind: "session", id: id) }

    /// A Kubernetes user or service account.
    public static func kubernetesUser(_ name: String) -> Entity { Entity(kind: "k8s_user", id: name) }

    /// A cloud resource created during a story (a bucket, a function, an instance).
    public static func resource(_ id: String) -> Entity { Entity(kind: "resource", id: id) }

    /// `pid@start`, as ``ProcessKey/description`` writes it, without string interpolation: the correlator
    /// names a process or two on every finding.
    static func processID(_ key: ProcessKey) -> String {
        // At most 11 characters for the pid, 1 for `@`, 20 for the start time; up to 15 stay inline.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var end = 0
            func write(_ value: UInt64) {
                var digits = 1
                var rest = value / 10
                while rest > 0 {
                    digits += 1
                    rest /= 10
                }
                var value = value
                for index in stride(from: end + digits - 1, through: end, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                end += digits
            }
            if key.pid < 0 {
                buffer[end] = UInt8(ascii: "-")
                end += 1
            }
            write(UInt64(key.pid.magnitude))
            buffer[end] = UInt8(ascii: "@")
            end += 1
            write(key.startTime)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<end]), as: UTF8.self)
        }
    }
}
