// swift-tools-version:6.0
// ssekeeper promises its users one binary and nothing to audit but our own code:
// this package declares no package dependencies, only what the toolchain ships.
import PackageDescription

let package = Package(
    name: "ssekeeper",
    products: [
        .executable(name: "ssekeeper", targets: ["ssekeeper"]),
    ],
    targets: [
        // Pure core: parsers, trackers, state machines. No sockets, no Dispatch, no clock reads.
        .target(name: "SSEKeeperCore"),
        // Thin Dispatch shell: sockets, event loops, listeners, upstream connections, signals.
        // epoll and accept4, which Glibc's Swift overlay does not export: our own C, no package.
        .target(name: "CEpoll"),
        .target(name: "SSEKeeperIO", dependencies: ["SSEKeeperCore", "CEpoll"]),
        .executableTarget(name: "ssekeeper", dependencies: ["SSEKeeperCore", "SSEKeeperIO"]),
        // Test-only helpers both test targets share (the Prometheus text-format checker). A library target, since a
        // test target cannot import another; no product names it, so it never reaches the ssekeeper binary.
        .target(name: "SSEKeeperTestSupport", path: "Tests/SSEKeeperTestSupport"),
        .testTarget(name: "SSEKeeperCoreTests", dependencies: ["SSEKeeperCore", "SSEKeeperTestSupport"]),
        // Fixtures/ holds scripts the tests run with python3 (by path), not resources.
        .testTarget(name: "SSEKeeperIOTests", dependencies: ["SSEKeeperCore", "SSEKeeperIO", "SSEKeeperTestSupport"],
                    exclude: ["Fixtures"]),
    ]
)
