// swift-tools-version:6.0
import PackageDescription

// Release builds skip runtime exclusivity checks in Cairn's own targets: the engine is confined to
// one thread and the checks showed up in profiles of the request path. Debug builds keep them.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn-server", targets: ["cairn-server"]),
        .executable(name: "cairn-rdb", targets: ["cairn-rdb"]),
        .executable(name: "cairn-aof", targets: ["cairn-aof"]),
        .executable(name: "cairn-backup", targets: ["cairn-backup"]),
        // For the fuzz targets in Fuzz/, a separate package that depends on this one by path
        // (docs/fuzzing.md); nothing else uses these products.
        .library(name: "CairnRESP", targets: ["CairnRESP"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnReplication", targets: ["CairnReplication"]),
        .library(name: "CairnCluster", targets: ["CairnCluster"]),
        .library(name: "CairnGossip", targets: ["CairnGossip"]),
        .library(name: "CairnBackup", targets: ["CairnBackup"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // System libraries: compression for RDB/AOF (used from the RDB issue on).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // liblzf has no pkg-config file; its header is <liblzf/lzf.h>, the library -llzf.
        .systemLibrary(name: "CLZF", providers: [.apt(["liblzf-dev"])]),
        // Header-only wrappers of system calls glibc declares variadic (prctl).
        .systemLibrary(name: "CPosix"),

        // RESP2/RESP3 codec: bounded resumable decoders and the reply encoder.
        .target(
            name: "CairnRESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: releaseSettings
        ),

        // The engine: keyspace, value types, command table and implementations.
        .target(
            name: "CairnStorage",
            dependencies: [
                "CairnRESP", "CairnCluster", "CZlib", "CLZ4", "CLZF", "CPosix",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSettings
        ),

        // Replication: the backlog, PSYNC decisions, the master's replica links and stream.
        .target(
            name: "CairnReplication",
            dependencies: ["CairnRESP", "CairnStorage"],
            swiftSettings: releaseSettings
        ),

        // Cluster logic: hash slots, hash tags, the node table, epochs, the redirection decision,
        // nodes.conf. Pure logic, no I/O: unit-tested with a fake clock.
        .target(
            name: "CairnCluster",
            dependencies: [],
            swiftSettings: releaseSettings
        ),

        // The cluster bus: Redis 7.0's binary message format, the links and the cluster cron.
        .target(
            name: "CairnGossip",
            dependencies: [
                "CairnCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSettings
        ),

        // Networking, configuration and process wiring.
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnRESP", "CairnStorage", "CairnReplication", "CairnCluster", "CairnGossip", "CPosix",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: releaseSettings
        ),

        .executableTarget(
            name: "cairn-server",
            dependencies: [
                "CairnServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Offline tools over the engine's file formats; they link no networking.
        .target(
            name: "CairnTools",
            dependencies: [
                "CairnStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: releaseSettings
        ),

        .executableTarget(
            name: "cairn-rdb",
            dependencies: [
                "CairnTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "cairn-aof",
            dependencies: [
                "CairnTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Backups: archives of a node's files (tar, gzip/LZ4, AES-GCM), verify, restore, retention.
        .target(
            name: "CairnBackup",
            dependencies: [
                "CairnRESP", "CairnStorage", "CairnTools",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: releaseSettings
        ),

        .executableTarget(
            name: "cairn-backup",
            dependencies: [
                "CairnBackup", "CairnTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "CairnRESPTests", dependencies: ["CairnRESP"]),
        .testTarget(name: "CairnStorageTests", dependencies: ["CairnStorage", "CairnRESP"]),
        .testTarget(name: "CairnServerTests", dependencies: ["CairnServer", "CairnStorage"]),
        .testTarget(name: "CairnReplicationTests", dependencies: ["CairnReplication", "CairnStorage"]),
        .testTarget(name: "CairnClusterTests", dependencies: ["CairnCluster"]),
        .testTarget(name: "CairnGossipTests", dependencies: ["CairnGossip", "CairnCluster"]),
        .testTarget(name: "CairnToolsTests", dependencies: ["CairnTools", "CairnStorage"]),
        .testTarget(name: "CairnBackupTests", dependencies: ["CairnBackup", "CairnStorage", "CairnTools"]),
    ],
    swiftLanguageModes: [.v6]
)
