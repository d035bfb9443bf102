// swift-tools-version:6.0
import PackageDescription

// Coverage-guided fuzz targets for Cairn's decoders (docs/fuzzing.md), one executable each, run
// by libFuzzer. A package of its own so that the main build never sees the sanitizer flags:
// tools/fuzz builds it with `--scratch-path .build-fuzz`, ASan and libFuzzer's coverage
// instrumentation on every Swift module, and links libFuzzer's driver (without its `main`: each
// target's main.swift calls `FuzzDriver.run`, see Sources/FuzzSupport/FuzzDriver.swift).

let package = Package(
    name: "CairnFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Cairn", path: ".."),
        // Only for ByteBuffer, which the engine's client sessions write replies into.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // libFuzzer's C entry points (declarations only).
        .systemLibrary(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "CairnRESP", package: "Cairn"),
                .product(name: "CairnStorage", package: "Cairn"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // What the backup targets share; uses CairnBackup's internals (@testable import).
        .target(
            name: "BackupFuzzSupport",
            dependencies: ["FuzzSupport", .product(name: "CairnBackup", package: "Cairn")]
        ),
        fuzzTarget("resp-request", "CairnRESP"),
        fuzzTarget("resp-value", "CairnRESP"),
        fuzzTarget("rdb-plain", "CairnStorage"),
        fuzzTarget("rdb-lz4", "CairnStorage"),
        fuzzTarget("rdb-gzip", "CairnStorage"),
        fuzzTarget("aof-manifest", "CairnStorage"),
        fuzzTarget("aof-scanner", "CairnStorage"),
        fuzzTarget("dump-payload", "CairnStorage"),
        fuzzTarget("repl-master-replies", "CairnReplication"),
        fuzzTarget("cluster-bus", "CairnGossip"),
        fuzzTarget("nodes-conf", "CairnCluster"),
        fuzzTarget("backup-archive", "CairnBackup", support: "BackupFuzzSupport"),
        fuzzTarget("backup-tar", "CairnBackup", support: "BackupFuzzSupport"),
        // Writes the seed corpora from Fixtures/ (tools/fuzz seeds); not a fuzz target.
        .executableTarget(
            name: "fuzz-seeds",
            dependencies: ["FuzzSupport", "BackupFuzzSupport", .product(name: "CairnBackup", package: "Cairn")],
            path: "Sources/seeds"
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// The executable `fuzz-<name>`, its main.swift in Sources/<name>/.
func fuzzTarget(_ name: String, _ library: String, support: String = "FuzzSupport") -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: (support == "FuzzSupport" ? ["FuzzSupport"] : ["FuzzSupport", .byName(name: support)])
            + [.product(name: library, package: "Cairn")],
        path: "Sources/\(name)"
    )
}
