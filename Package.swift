// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "xcsh",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "xcsh", targets: ["xcsh"]),
    .library(name: "XCShell", targets: ["XCShell"]),
    .library(name: "XCIPC", targets: ["XCIPC"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
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
    .target(
      name: "XCShell", dependencies: ["CSupport", .product(name: "Yams", package: "Yams")],
      // The evaluator's scopes are class instances mutated on hot paths; dynamic exclusivity
      // checks cost about a fifth of loop time, and accesses are single-threaded by design.
      swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
    // libedit (BSD editline) with shims for its variadic calls.
    .target(name: "CEditLine", linkerSettings: [.linkedLibrary("edit")]),
    // The interactive front end: line editor, history, completion, prompt.
    .target(name: "XCEditor", dependencies: ["XCShell", "CEditLine", "CSupport"]),
    .executableTarget(
      name: "xcsh",
      dependencies: ["XCShell", "XCEditor", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .testTarget(name: "XCSystemTests", dependencies: ["XCSystem"]),
    .testTarget(name: "XCIPCTests", dependencies: ["XCIPC"]),
    // Golden cases live in Tests/XCShellTests/Cases and run against the built `xcsh`.
    .testTarget(name: "XCShellTests", dependencies: ["XCShell"], exclude: ["Cases"]),
    .testTarget(name: "XCEditorTests", dependencies: ["XCEditor", "XCShell"]),
  ]
)

// MARK: - IPC layer additions
// Kept in one block after the declaration so the branches that each grow Package.swift
// (shell, engine, IPC) merge without touching the same lines.
for target in package.targets {
  switch target.name {
  case "XCSystemTests":
    target.dependencies.append(.product(name: "SystemPackage", package: "swift-system"))
  case "XCIPCTests":
    // Golden JSON for every method (requests) and the daemon's example answers (responses).
    target.resources = [.copy("Snapshots")]
    target.dependencies += ["XCSystem", .product(name: "SystemPackage", package: "swift-system")]
  default:
    break
  }
}
// Benchmark driver for scripts/bench.d/ipc: round trips and throughput over a temp socket.
package.targets.append(
  .executableTarget(
    name: "XCIPCBench",
    dependencies: ["XCIPC", "XCSystem", .product(name: "SystemPackage", package: "swift-system")]))
