// swift-tools-version: 6.1
import PackageDescription

/// Every target is built in Swift 6 mode with the same upcoming features, as swift-log does.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VigilCore", targets: ["VigilCore"]),
        .library(name: "VigilProfiles", targets: ["VigilProfiles"]),
        .library(name: "VigilSQLite", targets: ["VigilSQLite"]),
        .library(name: "VigilSeccomp", targets: ["VigilSeccomp"]),
        .library(name: "VigilCloudEvents", targets: ["VigilCloudEvents"]),
        .library(name: "VigilCloudEventsPush", targets: ["VigilCloudEventsPush"]),
        .library(name: "VigilAuditLog", targets: ["VigilAuditLog"]),
        .library(name: "VigilK8sAuditWebhook", targets: ["VigilK8sAuditWebhook"]),
        .library(name: "VigilLinux", targets: ["VigilLinux"]),
        .library(name: "VigilEBPF", targets: ["VigilEBPF"]),
        .library(name: "VigilRules", targets: ["VigilRules"]),
        .library(name: "VigilResponse", targets: ["VigilResponse"]),
        .library(name: "VigilWebhook", targets: ["VigilWebhook"]),
        .library(name: "VigilCorrelation", targets: ["VigilCorrelation"]),
        .library(name: "VigilHummingbird", targets: ["VigilHummingbird"]),
        .library(name: "VigilTestKit", targets: ["VigilTestKit"]),
        .library(name: "VigilAgent", targets: ["VigilAgent"]),
        .executable(name: "vigil-agent", targets: ["vigil-agent"]),
        .executable(name: "vigil-exec", targets: ["vigil-exec"]),
        .executable(name: "ssrf-story", targets: ["ssrf-story"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // The event core: event model, symbols, batches, protocols, engine. No syscalls, no I/O.
        .target(
            name: "VigilCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Behavioral baselines learned per workload and per principal, and the deviation detector.
        .target(
            name: "VigilProfiles",
            dependencies: ["VigilCore"],
            swiftSettings: strictSettings
        ),
        // libseccomp, from Debian's libseccomp-dev.
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        // Syscall names and numbers, seccomp profiles from learned syscalls, log and enforce modes.
        .target(
            name: "VigilSeccomp",
            dependencies: ["VigilCore", "CSeccomp"],
            swiftSettings: strictSettings
        ),
        // The embedded default store (profiles, incidents, response audit trail) on SQLite through GRDB.
        .target(
            name: "VigilSQLite",
            dependencies: [
                "VigilCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // zlib, from Debian's zlib1g-dev: CloudTrail delivers gzip files.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Cloud control-plane sensors: AWS CloudTrail, GCP Cloud Audit Logs, Azure Activity Log.
        .target(
            name: "VigilCloudEvents",
            dependencies: ["VigilCore", "CZlib", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // What the HTTP ingest sensors share: credentials, limits, counters, JSON answers, serving until cancelled.
        .target(
            name: "VigilHTTPIngest",
            dependencies: [
                "VigilCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // An HTTP endpoint that receives pushed cloud records (an EventBridge API destination), in its own
        // target so hosts that only read files do not pull in an HTTP server.
        .target(
            name: "VigilCloudEventsPush",
            dependencies: [
                "VigilCore", "VigilCloudEvents", "VigilHTTPIngest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Linux audit (auditd log files, netlink) and Kubernetes API audit (log files) sensors.
        .target(
            name: "VigilAuditLog",
            dependencies: ["VigilCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // The Kubernetes API server's audit webhook backend (EventList JSON over HTTPS), in its own target so
        // hosts that only read audit files do not pull in an HTTP server or TLS.
        .target(
            name: "VigilK8sAuditWebhook",
            dependencies: [
                "VigilCore", "VigilAuditLog", "VigilHTTPIngest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // libbpf 1.1, from Debian's libbpf-dev.
        .systemLibrary(
            name: "CLibBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev"])]
        ),
        // Linux plumbing shared by sensors and responders: libbpf, procfs, cgroups and container identity,
        // capabilities, the kernel filesystems BPF needs.
        .target(
            name: "VigilLinux",
            dependencies: ["VigilCore", "CLibBPF", .product(name: "Logging", package: "swift-log")],
            exclude: ["BPF/quarantine.bpf.c"],
            swiftSettings: strictSettings,
            plugins: ["BPFCompiler"]
        ),
        // Turns the BPF object the BPFCompiler plugin builds into Swift source (base64), so the sensor carries
        // its programs without a file next to the binary.
        .executableTarget(
            name: "vigil-bpf-embed",
            path: "Plugins/BPFEmbedTool",
            swiftSettings: strictSettings
        ),
        // Compiles the sensor's BPF C sources with the Swift toolchain's clang (`clang -target bpf`) during
        // `swift build`: the C sources are the only truth, no compiled object is committed.
        .plugin(
            name: "BPFCompiler",
            capability: .buildTool(),
            dependencies: ["vigil-bpf-embed"]
        ),
        // The layout of the records the BPF programs write, shared by the BPF C sources and the Swift decoder.
        .target(
            name: "CVigilEBPF",
            path: "Sources/CVigilEBPF"
        ),
        // The eBPF sensor: tracepoint and raw-tracepoint programs, ring buffer, process cache, containers.
        .target(
            name: "VigilEBPF",
            dependencies: [
                "VigilCore", "VigilLinux", "CLibBPF", "CVigilEBPF",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["BPF"],
            swiftSettings: strictSettings,
            plugins: ["BPFCompiler"]
        ),
        // Rules: the condition language, Falco rule files, the built-in MITRE-mapped pack, the rule detector.
        .target(
            name: "VigilRules",
            dependencies: [
                "VigilCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("BuiltinRules")],
            swiftSettings: strictSettings
        ),
        // Response: the policy (which findings get which action), safety rails, the responders that act.
        .target(
            name: "VigilResponse",
            dependencies: [
                "VigilCore", "VigilLinux", "VigilSeccomp",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Correlation: the entity graph, attack stories (incidents) with root cause and narrative.
        .target(
            name: "VigilCorrelation",
            dependencies: ["VigilCore"],
            swiftSettings: strictSettings
        ),
        // An alert output that posts every alert to an HTTP endpoint, with a bounded queue and retries.
        .target(
            name: "VigilWebhook",
            dependencies: [
                "VigilCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The application-layer sensor: Hummingbird middleware and an HTTP client wrapper that record requests
        // served and URLs fetched, for an engine in the same process or an agent following a file.
        .target(
            name: "VigilHummingbird",
            dependencies: [
                "VigilCore", "VigilLinux",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // In-memory sensor, store, responder and output, and event builders for tests and examples.
        .target(
            name: "VigilTestKit",
            dependencies: ["VigilCore"],
            swiftSettings: strictSettings
        ),
        // The batteries-included composition behind the `vigil-agent` binary.
        .target(
            name: "VigilAgent",
            dependencies: [
                "VigilCore",
                "VigilProfiles",
                "VigilSQLite",
                "VigilSeccomp",
                "VigilAuditLog",
                "VigilCloudEvents",
                "VigilCloudEventsPush",
                "VigilK8sAuditWebhook",
                "VigilEBPF",
                "VigilRules",
                "VigilResponse",
                "VigilLinux",
                "VigilWebhook",
                "VigilCorrelation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "vigil-agent",
            dependencies: [
                "VigilAgent",
                "VigilWebhook",
                "VigilCorrelation",
                "VigilResponse",
                "VigilLinux",
                "VigilSQLite",
                "VigilCloudEventsPush",
                "VigilK8sAuditWebhook",
                "VigilEBPF",
                "VigilRules",
                "VigilCore",
                "VigilSeccomp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/vigil-agent",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "vigil-exec",
            dependencies: [
                "VigilAgent",
                "VigilCore",
                "VigilProfiles",
                "VigilSeccomp",
                "VigilSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/vigil-exec",
            swiftSettings: strictSettings
        ),
        // The SSRF attack story: a vulnerable Hummingbird shop with the application sensor, a metadata service
        // emulator, CloudTrail records of the stolen credentials' use, and the demo that runs them with vigil-agent.
        .executableTarget(
            name: "ssrf-story",
            dependencies: [
                "VigilHummingbird", "VigilCore", "VigilLinux",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/ssrf-story",
            resources: [.copy("Resources")],
            swiftSettings: strictSettings
        ),
        // A process the store crash tests kill with SIGKILL while it writes.
        .executableTarget(
            name: "StoreCrashWriter",
            dependencies: ["VigilCore", "VigilProfiles", "VigilSQLite"],
            path: "Tests/StoreCrashWriter",
            swiftSettings: strictSettings
        ),
        // The embedding sample quoted in the README; a test checks the two stay identical and runs it.
        .executableTarget(
            name: "embed-vigil",
            dependencies: [
                "VigilCore",
                "VigilProfiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/embed-vigil",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilCoreTests",
            dependencies: [
                "VigilCore", "VigilTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilProfilesTests",
            dependencies: ["VigilProfiles", "VigilTestKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilSeccompTests",
            dependencies: ["VigilSeccomp", "VigilCore", "vigil-exec"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilSQLiteTests",
            dependencies: [
                "VigilSQLite", "VigilProfiles", "VigilTestKit", "VigilCore", "StoreCrashWriter",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilCloudEventsTests",
            dependencies: ["VigilCloudEvents", "VigilCore", "VigilTestKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilCloudEventsPushTests",
            dependencies: [
                "VigilCloudEventsPush", "VigilCloudEvents", "VigilCore", "VigilTestKit",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilAuditLogTests",
            dependencies: ["VigilAuditLog", "VigilCore", "VigilTestKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilK8sAuditWebhookTests",
            dependencies: [
                "VigilK8sAuditWebhook", "VigilAuditLog", "VigilCore", "VigilTestKit",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilResponseTests",
            dependencies: [
                "VigilResponse", "VigilLinux", "VigilSQLite", "VigilSeccomp", "VigilCore", "VigilTestKit", "vigil-exec",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilCorrelationTests",
            dependencies: ["VigilCorrelation", "VigilCore", "VigilTestKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilWebhookTests",
            dependencies: [
                "VigilWebhook", "VigilCore", "VigilTestKit",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilHummingbirdTests",
            dependencies: [
                "VigilHummingbird", "VigilCore", "VigilTestKit", "VigilProfiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilLinuxTests",
            dependencies: ["VigilLinux", "VigilCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilEBPFTests",
            dependencies: ["VigilEBPF", "VigilLinux", "VigilCore", "VigilTestKit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilRulesTests",
            dependencies: [
                "VigilRules", "VigilCore", "VigilTestKit", "VigilAuditLog", "VigilCloudEvents", "VigilCorrelation",
                "VigilProfiles",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilTestKitTests",
            dependencies: ["VigilTestKit", "VigilCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilAgentTests",
            dependencies: [
                "VigilAgent", "VigilTestKit", "VigilSeccomp", "VigilLinux", "VigilSQLite", "vigil-agent", "vigil-exec",
                "embed-vigil", "ssrf-story",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
