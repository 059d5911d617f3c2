import Testing
import VigilCore
import VigilSeccomp

private let x86: UInt32 = 0xc000_003e
private let arm: UInt32 = 0xc000_00b7
private let i386: UInt32 = 0x4000_0003

@Suite("Seccomp profiles")
struct SeccompProfileTests {
    @Test("learned pairs are named per architecture, merged, and unresolvable ones returned")
    func learnedPairs() {
        let pairs: [(number: Int32, architecture: UInt32)] = [
            (0, x86), (59, x86), (0, x86), (1, x86),  // read, execve, read again, write
            (221, arm), (63, arm), (221, arm),  // execve, read, execve again
            (9999, x86), (1, i386), (9999, x86), (-10166, arm),
        ]
        let (profile, unresolved) = SeccompProfile.learned(pairs)
        #expect(profile.allowedSyscalls == ["execve", "read", "write"])
        #expect(profile.architectures == [.x86_64, .aarch64])
        #expect(unresolved.map(\.number) == [9999, 1, -10166])
        #expect(unresolved.map(\.architecture) == [x86, i386, arm])
        #expect(!profile.allowedSyscalls.contains("unknown"))
    }

    @Test("learned syscall event fields give the same profile as pairs")
    func learnedFields() {
        let fields = [
            SyscallFields(number: 257, architecture: x86, count: 4),  // openat
            SyscallFields(number: 56, architecture: arm, count: 1),  // openat
            SyscallFields(number: 3, architecture: x86, count: 9),  // close
            SyscallFields(number: 12345, architecture: arm, count: 1),
        ]
        let (profile, unresolved) = SeccompProfile.learned(fields)
        #expect(profile.allowedSyscalls == ["close", "openat"])
        #expect(profile.architectures == [.x86_64, .aarch64])
        #expect(unresolved.count == 1)
        #expect(unresolved.first?.number == 12345 && unresolved.first?.architecture == arm)
    }

    @Test("nothing learned gives an empty profile, on an unsupported architecture too")
    func learnedNothing() {
        let (empty, none) = SeccompProfile.learned([(number: Int32, architecture: UInt32)]())
        #expect(empty.allowedSyscalls.isEmpty && empty.architectures.isEmpty && none.isEmpty)
        let foreignPairs: [(number: Int32, architecture: UInt32)] = [(11, i386)]
        let (foreign, unresolved) = SeccompProfile.learned(foreignPairs)
        #expect(foreign.allowedSyscalls.isEmpty && foreign.architectures.isEmpty)
        #expect(unresolved.count == 1)
    }

    @Test("names stay sorted and unique, architectures unique and in a fixed order, through every change")
    func normalization() {
        var profile = SeccompProfile(allowedSyscalls: ["write", "read", "write"], architectures: [.aarch64, .x86_64])
        #expect(profile.allowedSyscalls == ["read", "write"])
        #expect(profile.architectures == [.x86_64, .aarch64])
        profile.allowedSyscalls.append("close")
        profile.allowedSyscalls.append("read")
        #expect(profile.allowedSyscalls == ["close", "read", "write"])
        profile.architectures = [.aarch64, .aarch64]
        #expect(profile.architectures == [.aarch64])
        #expect(profile.allows("close") && profile.allows("write") && !profile.allows("open") && !profile.allows(""))
        #expect(SeccompProfile(allowedSyscalls: ["b", "a"]) == SeccompProfile(allowedSyscalls: ["a", "b", "a"]))
    }
}

@Suite("OCI seccomp JSON")
struct OCIJSONTests {
    let profile = SeccompProfile(
        allowedSyscalls: ["write", "read", "exit_group", "execve"], architectures: [.x86_64, .aarch64])

    @Test("enforce mode: SCMP_ACT_ERRNO with errno 1, the architectures, one allow entry with the sorted names")
    func enforceShape() throws {
        let object = try #require(try JSONParser.parse(profile.ociJSON(mode: .enforce)).object)
        #expect(object.keys == ["defaultAction", "defaultErrnoRet", "architectures", "syscalls"])
        #expect(object["defaultAction"] == .string("SCMP_ACT_ERRNO"))
        #expect(object["defaultErrnoRet"] == .integer(1))
        #expect(object["architectures"] == .array([.string("SCMP_ARCH_X86_64"), .string("SCMP_ARCH_AARCH64")]))
        let entries = try #require(object["syscalls"]?.array)
        #expect(entries.count == 1)
        let entry = try #require(entries.first?.object)
        #expect(entry.keys == ["names", "action"])
        #expect(entry["names"] == .array(["execve", "exit_group", "read", "write"].map { .string($0) }))
        #expect(entry["action"] == .string("SCMP_ACT_ALLOW"))
    }

    @Test("log mode: SCMP_ACT_LOG and no defaultErrnoRet")
    func logShape() throws {
        let object = try #require(try JSONParser.parse(profile.ociJSON(mode: .log)).object)
        #expect(object.keys == ["defaultAction", "architectures", "syscalls"])
        #expect(object["defaultAction"] == .string("SCMP_ACT_LOG"))
        #expect(object["syscalls"]?.array?.first?["names"]?.array?.count == 4)
    }

    @Test("a profile reads back equal from either mode", arguments: SeccompMode.allCases)
    func roundTrip(mode: SeccompMode) throws {
        #expect(try SeccompProfile(ociJSON: profile.ociJSON(mode: mode)) == profile)
        let empty = SeccompProfile(allowedSyscalls: [], architectures: [])
        #expect(try JSONParser.parse(empty.ociJSON(mode: mode))["syscalls"] == .array([]))
        #expect(try SeccompProfile(ociJSON: empty.ociJSON(mode: mode)) == empty)
    }

    @Test(
        "profiles written by other tools: allow entries are merged, deny entries and extras that do not widen skipped")
    func foreignProfile() throws {
        let text = """
            {
              "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "flags": ["SECCOMP_FILTER_FLAG_LOG"],
              "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "io"},
                {"name": "close", "action": "SCMP_ACT_ALLOW", "includes": {}, "excludes": {"caps": []}},
                {"names": ["write", "futex"], "action": "SCMP_ACT_ALLOW", "args": null},
                {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"}
              ]
            }
            """
        let parsed = try SeccompProfile(ociJSON: text)
        #expect(parsed.allowedSyscalls == ["close", "futex", "read", "write"])
        // No architectures means the native one, as in the OCI runtime spec.
        #expect(parsed.architectures.isEmpty)
        let killByDefault = try SeccompProfile(
            ociJSON: #"{"defaultAction":"SCMP_ACT_KILL","architectures":["SCMP_ARCH_AARCH64"]}"#)
        #expect(killByDefault == SeccompProfile(allowedSyscalls: [], architectures: [.aarch64]))
    }

    /// A hostile or mistaken input, the error code it must give and the field the error must name.
    struct Hostile: CustomTestStringConvertible, Sendable {
        let text: String
        let code: SeccompError.Code
        let field: String
        var testDescription: String { "\(code) '\(field)': \(text.prefix(60))" }
    }

    static let hostile: [Hostile] = [
        Hostile(text: "", code: .invalidJSON, field: ""),
        Hostile(text: "not json", code: .invalidJSON, field: ""),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_ERRNO""#, code: .invalidJSON, field: ""),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_ERRNO"} x"#, code: .invalidJSON, field: ""),
        Hostile(text: String(repeating: "[", count: 100_000), code: .invalidJSON, field: ""),
        Hostile(text: "[]", code: .invalidProfile, field: ""),
        Hostile(text: "null", code: .invalidProfile, field: ""),
        Hostile(text: "{}", code: .invalidProfile, field: "defaultAction"),
        Hostile(text: #"{"defaultAction": 1}"#, code: .invalidProfile, field: "defaultAction"),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_MAYBE"}"#, code: .invalidProfile, field: "defaultAction"),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_ALLOW"}"#, code: .unsupportedProfile, field: "defaultAction"),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, code: .unsupportedProfile, field: "defaultAction"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"}"#, code: .invalidProfile,
            field: "defaultAction"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "EPERM"}"#, code: .invalidProfile,
            field: "defaultErrnoRet"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "architectures": "SCMP_ARCH_X86_64"}"#, code: .invalidProfile,
            field: "architectures"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "architectures": [64]}"#, code: .invalidProfile,
            field: "architectures[0]"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]}"#,
            code: .unsupportedProfile, field: "architectures[1]"),
        Hostile(text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": {}}"#, code: .invalidProfile, field: "syscalls"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": ["read"]}"#, code: .invalidProfile,
            field: "syscalls[0]"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}"#,
            code: .invalidProfile, field: "syscalls[0].names"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": [0], "action": "SCMP_ACT_ALLOW"}]}"#,
            code: .invalidProfile, field: "syscalls[0].names[0]"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": [""], "action": "SCMP_ACT_ALLOW"}]}"#,
            code: .invalidProfile, field: "syscalls[0].names[0]"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}"#,
            code: .invalidProfile, field: "syscalls[0].names"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"]}]}"#, code: .invalidProfile,
            field: "syscalls[0].action"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "ALLOW"}]}"#,
            code: .invalidProfile, field: "syscalls[0].action"),
        Hostile(
            text: #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG"}]}"#,
            code: .unsupportedProfile, field: "syscalls[0].action"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
                """,
            code: .unsupportedProfile, field: "syscalls[1].args"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]}
                """,
            code: .unsupportedProfile, field: "syscalls[0].args"),
        Hostile(
            text:
                #"{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "#
                + #""args": 1}]}"#,
            code: .invalidProfile, field: "syscalls[0].args"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
                """,
            code: .unsupportedProfile, field: "syscalls[0].includes"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "when": "always"}]}
                """,
            code: .unsupportedProfile, field: "syscalls[0].when"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "action": "SCMP_ACT_ERRNO"}]}
                """,
            code: .invalidProfile, field: "syscalls[0].action"),
        Hostile(
            text: """
                {"defaultAction": "SCMP_ACT_ERRNO",
                 "syscalls": [{"names": ["ptrace", "read"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}
                """,
            code: .unsupportedProfile, field: "syscalls"),
    ]

    @Test("hostile and mistaken inputs give an error naming the field, never a crash", arguments: hostile)
    func rejects(input: Hostile) {
        let error = #expect(throws: SeccompError.self) { try SeccompProfile(ociJSON: input.text) }
        #expect(error?.code == input.code)
        #expect(error?.field == input.field)
        #expect(error?.message.isEmpty == false)
        if !input.field.isEmpty { #expect(error?.description.contains("'\(input.field)'") == true) }
    }

    @Test("an argument condition is refused with a message that says what to do")
    func argumentsMessage() throws {
        let text = """
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
            """
        let error = try #require(throws: SeccompError.self) { try SeccompProfile(ociJSON: text) }
        #expect(error.message.contains("personality"))
        #expect(error.message.contains("widen"))
        #expect(error.message.contains("remove 'args'"))
    }
}
