/// Names and numbers of Linux audit record types (from `linux/audit.h` and `libaudit.h`).
///
/// auditd writes the name (`type=SYSCALL`) when it knows it and `type=UNKNOWN[1234]` when it does not, so
/// both spellings map to the number that ``AuditFields/recordType`` carries.
public enum AuditRecordType {
    /// `SYSCALL`: the syscall record that anchors a multi-record kernel event.
    public static let syscall: UInt16 = 1300
    /// `PATH`: one path the syscall touched.
    public static let path: UInt16 = 1302
    /// `SOCKADDR`: the socket address of connect, bind, sendto…
    public static let sockaddr: UInt16 = 1306
    /// `CWD`: the working directory of the syscall.
    public static let cwd: UInt16 = 1307
    /// `EXECVE`: the arguments of an execve.
    public static let execve: UInt16 = 1309
    /// `EOE`: the end of a multi-record event.
    public static let endOfEvent: UInt16 = 1320
    /// `PROCTITLE`: the command line of the process, NUL-separated and hex-encoded.
    public static let proctitle: UInt16 = 1327
    /// `USER_AUTH`.
    public static let userAuth: UInt16 = 1100
    /// `USER_ACCT`.
    public static let userAccount: UInt16 = 1101
    /// `USER_START`.
    public static let userStart: UInt16 = 1105
    /// `USER_LOGIN`.
    public static let userLogin: UInt16 = 1112

    /// The number of a record type name (`SYSCALL`, `UNKNOWN[1329]`), or nil when the name is not known.
    public static func number(named name: some StringProtocol) -> UInt16? {
        if name.hasPrefix("UNKNOWN["), name.hasSuffix("]") {
            return UInt16(name.dropFirst(8).dropLast())
        }
        return numbersByName[String(name)]
    }

    /// The name of a record type number, or `UNKNOWN[n]`.
    public static func name(of number: UInt16) -> String {
        namesByNumber[number] ?? "UNKNOWN[\(number)]"
    }

    /// Whether records of this type stand alone: user-space messages (1100–1299, 2100–2999) are written
    /// in one record and never followed by an EOE, so waiting for more would only delay them.
    static func isStandalone(_ number: UInt16) -> Bool {
        (1100...1299).contains(number) || (2100...2999).contains(number)
    }

    private static let numbersByName: [String: UInt16] = {
        var table: [String: UInt16] = [:]
        for (number, name) in known { table[name] = number }
        return table
    }()

    private static let namesByNumber: [UInt16: String] = {
        var table: [UInt16: String] = [:]
        for (number, name) in known { table[number] = name }
        return table
    }()

    private static let known: [(UInt16, String)] = [
        (1006, "LOGIN"),
        (1100, "USER_AUTH"), (1101, "USER_ACCT"), (1102, "USER_MGMT"), (1103, "CRED_ACQ"), (1104, "CRED_DISP"),
        (1105, "USER_START"), (1106, "USER_END"), (1107, "USER_AVC"), (1108, "USER_CHAUTHTOK"),
        (1109, "USER_ERR"), (1110, "CRED_REFR"), (1111, "USYS_CONFIG"), (1112, "USER_LOGIN"),
        (1113, "USER_LOGOUT"), (1114, "ADD_USER"), (1115, "DEL_USER"), (1116, "ADD_GROUP"), (1117, "DEL_GROUP"),
        (1118, "DAC_CHECK"), (1119, "CHGRP_ID"), (1120, "TEST"), (1121, "TRUSTED_APP"),
        (1122, "USER_SELINUX_ERR"), (1123, "USER_CMD"), (1124, "USER_TTY"), (1125, "CHUSER_ID"),
        (1126, "GRP_AUTH"), (1127, "SYSTEM_BOOT"), (1128, "SYSTEM_SHUTDOWN"), (1129, "SYSTEM_RUNLEVEL"),
        (1130, "SERVICE_START"), (1131, "SERVICE_STOP"), (1132, "GRP_MGMT"), (1133, "GRP_CHAUTHTOK"),
        (1134, "MAC_CHECK"), (1135, "ACCT_LOCK"), (1136, "ACCT_UNLOCK"), (1137, "USER_DEVICE"),
        (1138, "SOFTWARE_UPDATE"),
        (1200, "DAEMON_START"), (1201, "DAEMON_END"), (1202, "DAEMON_ABORT"), (1203, "DAEMON_CONFIG"),
        (1204, "DAEMON_RECONFIG"), (1205, "DAEMON_ROTATE"), (1206, "DAEMON_RESUME"), (1207, "DAEMON_ACCEPT"),
        (1208, "DAEMON_CLOSE"), (1209, "DAEMON_ERR"),
        (1300, "SYSCALL"), (1302, "PATH"), (1303, "IPC"), (1304, "SOCKETCALL"), (1305, "CONFIG_CHANGE"),
        (1306, "SOCKADDR"), (1307, "CWD"), (1309, "EXECVE"), (1311, "IPC_SET_PERM"), (1312, "MQ_OPEN"),
        (1313, "MQ_SENDRECV"), (1314, "MQ_NOTIFY"), (1315, "MQ_GETSETATTR"), (1316, "KERNEL_OTHER"),
        (1317, "FD_PAIR"), (1318, "OBJ_PID"), (1319, "TTY"), (1320, "EOE"), (1321, "BPRM_FCAPS"),
        (1322, "CAPSET"), (1323, "MMAP"), (1324, "NETFILTER_PKT"), (1325, "NETFILTER_CFG"), (1326, "SECCOMP"),
        (1327, "PROCTITLE"), (1328, "FEATURE_CHANGE"), (1329, "REPLACE"), (1330, "KERN_MODULE"),
        (1331, "FANOTIFY"), (1332, "TIME_INJOFFSET"), (1333, "TIME_ADJNTPVAL"), (1334, "BPF"),
        (1335, "EVENT_LISTENER"), (1336, "URINGOP"), (1337, "OPENAT2"), (1338, "DM_CTRL"), (1339, "DM_EVENT"),
        (1400, "AVC"), (1401, "SELINUX_ERR"), (1402, "AVC_PATH"), (1403, "MAC_POLICY_LOAD"),
        (1404, "MAC_STATUS"), (1405, "MAC_CONFIG_CHANGE"), (1406, "MAC_UNLBL_ALLOW"),
        (1407, "MAC_CIPSOV4_ADD"), (1408, "MAC_CIPSOV4_DEL"), (1409, "MAC_MAP_ADD"), (1410, "MAC_MAP_DEL"),
        (1411, "MAC_IPSEC_ADDSA"), (1412, "MAC_IPSEC_DELSA"), (1413, "MAC_IPSEC_ADDSPD"),
        (1414, "MAC_IPSEC_DELSPD"), (1415, "MAC_IPSEC_EVENT"), (1416, "MAC_UNLBL_STCADD"),
        (1417, "MAC_UNLBL_STCDEL"), (1418, "MAC_CALIPSO_ADD"), (1419, "MAC_CALIPSO_DEL"),
        (1420, "MAC_TASK_CONTEXTS"), (1421, "MAC_OBJ_CONTEXTS"),
        (1700, "ANOM_PROMISCUOUS"), (1701, "ANOM_ABEND"), (1702, "ANOM_LINK"), (1703, "ANOM_CREAT"),
        (1800, "INTEGRITY_DATA"), (1801, "INTEGRITY_METADATA"), (1802, "INTEGRITY_STATUS"),
        (1803, "INTEGRITY_HASH"), (1804, "INTEGRITY_PCR"), (1805, "INTEGRITY_RULE"),
        (1806, "INTEGRITY_EVM_XATTR"), (1807, "INTEGRITY_POLICY_RULE"),
        (2100, "ANOM_LOGIN_FAILURES"), (2101, "ANOM_LOGIN_TIME"), (2102, "ANOM_LOGIN_SESSIONS"),
        (2103, "ANOM_LOGIN_ACCT"), (2104, "ANOM_LOGIN_LOCATION"), (2105, "ANOM_MAX_DAC"),
        (2106, "ANOM_MAX_MAC"), (2107, "ANOM_AMTU_FAIL"), (2108, "ANOM_RBAC_FAIL"),
        (2109, "ANOM_RBAC_INTEGRITY_FAIL"), (2110, "ANOM_CRYPTO_FAIL"), (2111, "ANOM_ACCESS_FS"),
        (2112, "ANOM_EXEC"), (2113, "ANOM_MK_EXEC"), (2114, "ANOM_ADD_ACCT"), (2115, "ANOM_DEL_ACCT"),
        (2116, "ANOM_MOD_ACCT"), (2117, "ANOM_ROOT_TRANS"), (2118, "ANOM_LOGIN_SERVICE"),
        (2119, "ANOM_LOGIN_ROOT"), (2120, "ANOM_ORIGIN_FAILURES"), (2121, "ANOM_SESSION"),
        (2300, "USER_ROLE_CHANGE"), (2301, "ROLE_ASSIGN"), (2302, "ROLE_REMOVE"), (2303, "LABEL_OVERRIDE"),
        (2304, "LABEL_LEVEL_CHANGE"), (2305, "USER_LABELED_EXPORT"), (2306, "USER_UNLABELED_EXPORT"),
        (2307, "DEV_ALLOC"), (2308, "DEV_DEALLOC"), (2309, "FS_RELABEL"), (2310, "USER_MAC_POLICY_LOAD"),
        (2311, "ROLE_MODIFY"), (2312, "USER_MAC_CONFIG_CHANGE"), (2313, "USER_MAC_STATUS"),
        (2400, "CRYPTO_TEST_USER"), (2401, "CRYPTO_PARAM_CHANGE_USER"), (2402, "CRYPTO_LOGIN"),
        (2403, "CRYPTO_LOGOUT"), (2404, "CRYPTO_KEY_USER"), (2405, "CRYPTO_FAILURE_USER"),
        (2406, "CRYPTO_REPLAY_USER"), (2407, "CRYPTO_SESSION"), (2408, "CRYPTO_IKE_SA"),
        (2409, "CRYPTO_IPSEC_SA"),
        (2500, "VIRT_CONTROL"), (2501, "VIRT_RESOURCE"), (2502, "VIRT_MACHINE_ID"),
        (2503, "VIRT_INTEGRITY_CHECK"), (2504, "VIRT_CREATE"), (2505, "VIRT_DESTROY"),
        (2506, "VIRT_MIGRATE_IN"), (2507, "VIRT_MIGRATE_OUT"),
    ]
}
