// swift-tools-version: 6.1
import PackageDescription

// A separate package so that users of the library never resolve the benchmark tooling.
let package = Package(
    name: "vigil-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "vigil", path: "../"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Naming only MallocInterposer drops the RuntimeInterposer trait, whose package this machine lacks.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // glibc's heap statistics, for the memory-per-profile benchmark.
        .target(name: "CHeapUsage"),
        .executableTarget(
            name: "EngineThroughput",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilTestKit", package: "vigil"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/EngineThroughput",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ProfileChecks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilProfiles", package: "vigil"),
                .product(name: "VigilTestKit", package: "vigil"),
                "CHeapUsage",
            ],
            path: "Benchmarks/ProfileChecks",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SensorParsing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilAuditLog", package: "vigil"),
                .product(name: "VigilCloudEvents", package: "vigil"),
            ],
            path: "Benchmarks/SensorParsing",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RuleEvaluation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilRules", package: "vigil"),
                .product(name: "VigilTestKit", package: "vigil"),
            ],
            path: "Benchmarks/RuleEvaluation",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Correlation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilCorrelation", package: "vigil"),
                .product(name: "VigilTestKit", package: "vigil"),
            ],
            path: "Benchmarks/Correlation",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
