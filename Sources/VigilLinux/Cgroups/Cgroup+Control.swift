import Glibc

extension Cgroup {
    /// Freezes every process in the cgroup and its descendants (writes "1" to `cgroup.freeze`) and waits until
    /// `cgroup.events` says `frozen 1`. Frozen processes cannot run, be scheduled or handle signals, except
    /// SIGKILL, until ``thaw(timeout:)``.
    ///
    /// - Throws: ``LinuxError`` `.unsupported` for the root cgroup or a kernel older than 5.2, `.timedOut`
    ///   when the kernel has not frozen every process within `timeout`, `.notFound` when the cgroup is gone.
    public func freeze(timeout: Duration = .seconds(5)) throws {
        try writeControl("cgroup.freeze", "1", purpose: "freeze", minimumKernel: "5.2")
        try waitForFrozen(true, timeout: timeout)
    }

    /// Lets the processes of a frozen cgroup run again (writes "0" to `cgroup.freeze`) and waits until
    /// `cgroup.events` says `frozen 0`. A cgroup stays frozen while an ancestor is frozen.
    ///
    /// - Throws: ``LinuxError`` `.unsupported` for the root cgroup or a kernel older than 5.2, `.timedOut`
    ///   when the cgroup has not thawed within `timeout`, `.notFound` when the cgroup is gone.
    public func thaw(timeout: Duration = .seconds(5)) throws {
        try writeControl("cgroup.freeze", "0", purpose: "thaw", minimumKernel: "5.2")
        try waitForFrozen(false, timeout: timeout)
    }

    /// Whether the cgroup is frozen now (`frozen 1` in `cgroup.events`): every process in it is stopped.
    ///
    /// The root cgroup, which cannot be frozen, is never frozen.
    public var isFrozen: Bool {
        get throws {
            let events = absolutePath + "/cgroup.events"
            guard SystemFiles.exists(events) else { return false }
            return try SystemFiles.readText(events).split(separator: "\n").contains("frozen 1")
        }
    }

    /// Kills every process in the cgroup and its descendants with SIGKILL at once (writes "1" to
    /// `cgroup.kill`), so none can fork away while they are killed one by one. Does not wait for them to die.
    ///
    /// - Throws: ``LinuxError`` `.unsupported` for the root cgroup or a kernel older than 5.14, `.notFound`
    ///   when the cgroup is gone.
    public func killAll() throws {
        try writeControl("cgroup.kill", "1", purpose: "kill the processes of", minimumKernel: "5.14")
    }

    /// The cgroup v2 a process belongs to, from its /proc/PID/cgroup line `0::/path`.
    ///
    /// - Throws: ``LinuxError`` `.notFound` when there is no such process or it has no cgroup v2 entry.
    public static func of(pid: Int32, in filesystem: CgroupFilesystem) throws -> Cgroup {
        let text = try SystemFiles.readText("/proc/\(pid)/cgroup")
        let path = ProcFiles.parseCgroupV2(text)
        guard path.hasPrefix("/") else {
            throw LinuxError(code: .notFound, message: "process \(pid) has no cgroup v2 entry in /proc/\(pid)/cgroup")
        }
        return try Cgroup(existing: path, in: filesystem)
    }

    /// Writes one value to a control file that only non-root cgroups of recent kernels have.
    private func writeControl(_ file: String, _ value: String, purpose: String, minimumKernel: String) throws {
        let control = absolutePath + "/" + file
        guard SystemFiles.exists(control) else {
            guard SystemFiles.exists(absolutePath) else {
                throw LinuxError(code: .notFound, message: "cgroup \(path) does not exist")
            }
            throw LinuxError(
                code: .unsupported,
                message: "cannot \(purpose) cgroup \(path): it has no \(file) (the root cgroup has none; other "
                    + "cgroups need Linux \(minimumKernel) or later)")
        }
        let failed = try SystemFiles.write(value, to: control)
        guard failed != 0 else { return }
        if failed == EACCES || failed == EPERM {
            throw LinuxError(
                code: .permissionDenied, message: "not permitted to \(purpose) cgroup \(path) (run as root)",
                errno: failed, call: "write")
        }
        throw LinuxError.systemCall("write", errno: failed, message: "cannot \(purpose) cgroup \(path)")
    }

    /// Polls `cgroup.events` until its `frozen` line says `frozen`; freezing takes as long as the slowest
    /// process needs to reach a point where it can stop.
    private func waitForFrozen(_ frozen: Bool, timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while try isFrozen != frozen {
            guard ContinuousClock.now < deadline else {
                throw LinuxError(
                    code: .timedOut,
                    message: "cgroup \(path) was not \(frozen ? "frozen" : "thawed") within \(timeout)")
            }
            usleep(2_000)
        }
    }
}
