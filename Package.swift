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
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // C shims for what Swift cannot express (CMSG_* macros, variadic calls).
    .target(name: "CSupport"),
    // Typed syscalls: sockets, fd passing, eventfd, signals.
    .target(
      name: "XCSystem",
      dependencies: ["CSupport", .product(name: "SystemPackage", package: "swift-system")]),
    // xc's wire protocol: framing, envelopes, per-method types, client, server plumbing.
    .target(
      name: "XCIPC",
      dependencies: ["XCSystem", .product(name: "SystemPackage", package: "swift-system")]),
    // The xcsh language: syntax, values, evaluator, built-in commands, diagnostics.
    .target(name: "XCShell", dependencies: ["CSupport"]),
    .executableTarget(
      name: "xcsh",
      dependencies: ["XCShell", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // The Linux engine behind xcd: image store, containers (runc), state (SQLite).
    .target(
      name: "XCEngine",
      dependencies: [
        "CSupport",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // PID 1 of each container: runs main, reaps orphans, lives until every process is gone.
    // Static, so it runs in any image; bind-mounted, never copied.
    .executableTarget(name: "xc-init", linkerSettings: [.unsafeFlags(["-static-executable"])]),
    .testTarget(name: "XCSystemTests", dependencies: ["XCSystem"]),
    .testTarget(name: "XCEngineTests", dependencies: ["XCEngine"]),
    .testTarget(name: "XCIPCTests", dependencies: ["XCIPC"]),
    .testTarget(
      name: "XCShellTests", dependencies: ["XCShell"],
      resources: [.copy("Cases")]),
  ]
)
