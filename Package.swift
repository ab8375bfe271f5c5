// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "xcsh",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "xcsh", targets: ["xcsh"]),
    .library(name: "XCShell", targets: ["XCShell"]),
    .library(name: "XCIPC", targets: ["XCIPC"]),
    .library(name: "XCEngine", targets: ["XCEngine"]),
    .executable(name: "xcd", targets: ["xcd"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // C shims for what Swift cannot express: CMSG_* macros, variadic calls, signal handlers.
    .target(name: "CSupport"),
    // Typed syscalls: sockets, fd passing, eventfd, peer credentials.
    .target(
      name: "XCSystem",
      dependencies: ["CSupport", .product(name: "SystemPackage", package: "swift-system")]),
    // xc's wire protocol: framing, envelopes, per-method types, client, server plumbing.
    .target(
      name: "XCIPC",
      dependencies: ["XCSystem", .product(name: "SystemPackage", package: "swift-system")]),
    // The xcsh language: syntax, values, evaluator, built-in commands, diagnostics.
    .target(
      name: "XCShell", dependencies: ["CSupport", .product(name: "Yams", package: "Yams")],
      // The evaluator's scopes are class instances mutated on hot paths; dynamic exclusivity
      // checks cost about a fifth of loop time, and accesses are single-threaded by design.
      swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
    // libedit (BSD editline) as a system library, and a small C shim for its variadic calls.
    .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
    .target(name: "CEditLine", dependencies: ["CLibEdit"]),
    // The interactive front end: line editor, history, completion, prompt.
    .target(name: "XCEditor", dependencies: ["XCShell", "CEditLine", "CSupport"]),
    // The Jailfile language: lexer, parser, interpolation, build plan. Pure (no I/O), fuzzable.
    .target(name: "XCJailfile"),
    // Remote hosts: the relay's mux protocol, ssh, and the relay's source (docs/remote.md).
    .target(name: "XCRemote", dependencies: ["XCIPC", "XCSystem", "CSupport", .product(name: "SystemPackage", package: "swift-system"), .product(name: "Yams", package: "Yams")]),
    // The relay xcsh compiles on remote hosts (C, POSIX); built here too for the tests.
    .executableTarget(
      name: "xcsh-relay", path: "Sources/xcsh-relay",
      cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])]),
    // Object commands: xc's CLI as xcsh commands over the daemon's IPC, returning typed objects.
    .target(
      name: "XCObjects",
      dependencies: [
        "XCShell", "XCIPC", "XCJailfile", "XCSystem", "CSupport", "XCRemote", .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Yams", package: "Yams"),
      ]),
    // The release and the git commit built from (`--version`, `info`); the commit is written
    // before each build by the BuildInfo plugin.
    .target(name: "XCBuildInfo", plugins: ["BuildInfo"]),
    .plugin(name: "BuildInfo", capability: .buildTool()),
    .executableTarget(
      name: "xcsh",
      dependencies: [
        "XCShell", "XCEditor", "XCObjects", "XCRemote", "XCBuildInfo", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The Linux engine behind xcd: image store, containers (runc), state (SQLite).
    .target(
      name: "XCEngine",
      dependencies: [
        "CSupport", "CGzip", "XCSystem",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // zlib's inflate for layers pulled from registries (streamed, no gzip process).
    .target(name: "CGzip", linkerSettings: [.linkedLibrary("z")]),
    // PID 1 of each container: runs main, reaps orphans, lives until every process is gone.
    // Static, so it runs in any image; bind-mounted, never copied.
    // Linked with lld: GNU ld prints glibc's link-time warning about `dlopen` in the statically
    // linked Swift runtime, a call xc-init never makes.
    .executableTarget(name: "xc-init", linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"])]),
    // The Linux daemon: serves xc's IPC methods (XCIPC) with the engine (XCEngine).
    .executableTarget(
      name: "xcd",
      dependencies: [
        "XCIPC", "XCEngine", "XCSystem", "CSupport", "XCBuildInfo",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // Benchmark driver for scripts/bench.d/ipc: round trips and throughput over a temp socket.
    .executableTarget(
      name: "XCIPCBench",
      dependencies: ["XCIPC", "XCSystem", .product(name: "SystemPackage", package: "swift-system")]),
    // Benchmark driver for scripts/bench.d/containers: container start-to-exit through xcd.
    .executableTarget(
      name: "XCDBench",
      dependencies: ["XCIPC", "XCSystem", .product(name: "SystemPackage", package: "swift-system")]),
    // Benchmark driver for scripts/bench.d/registry: pulls through xcd against skopeo copy.
    .executableTarget(name: "XCDPullBench", dependencies: ["XCIPC"]),

    .testTarget(
      name: "XCSystemTests",
      dependencies: ["XCSystem", .product(name: "SystemPackage", package: "swift-system")]),
    .testTarget(
      name: "XCIPCTests",
      dependencies: ["XCIPC", "XCSystem", .product(name: "SystemPackage", package: "swift-system")],
      // Golden JSON for every method (requests) and the daemon's example answers (responses).
      resources: [.copy("Snapshots")]),
    .testTarget(
      name: "XCEngineTests",
      dependencies: ["XCEngine", "XCSystem", "XCTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    // The mux against the real relay binary (unit), and remote hosts through real sshd
    // instances in network namespaces (end to end, RemoteHostTests).
    .testTarget(
      name: "XCRemoteTests",
      dependencies: ["XCTestSupport", "XCRemote", "XCIPC", "XCSystem", "CSupport", .product(name: "SystemPackage", package: "swift-system")]),
    .testTarget(name: "XCJailfileTests", dependencies: ["XCJailfile"]),
    // End to end: the built `xcd` as a subprocess, driven with XCClient.
    .testTarget(
      name: "XCDTests",
      dependencies: [
        "XCIPC", "XCSystem", "XCObjects", "XCEditor", "XCShell", "XCTestSupport", "XCRemote",
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // xcsh's object commands without a daemon: flag syntaxes, and the exact requests each command
    // sends (a recording fake daemon) compared with what xc's own client sends.
    .testTarget(
      name: "XCObjectsTests",
      dependencies: [
        "XCObjects", "XCShell", "XCIPC", "XCSystem", "XCTestSupport", .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // Golden cases live in Tests/XCShellTests/Cases and run against the built `xcsh`.
    .testTarget(name: "XCShellTests", dependencies: ["XCShell"], exclude: ["Cases"]),
    .testTarget(name: "XCEditorTests", dependencies: ["XCEditor", "XCShell", "XCSystem", "XCTestSupport"]),
    // Shared by the test targets: a real terminal (tmux) driving xcsh.
    .target(name: "XCTestSupport", path: "Tests/Support"),
  ]
)
