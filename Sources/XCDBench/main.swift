// Benchmark driver for scripts/bench.d/containers. Output is `key value` lines (times in ms);
// the script turns them into Markdown.
//
// Usage:
//   XCDBench xcd SOCKET ARCHIVE RUNS CONCURRENT
//     imports ARCHIVE as busybox:latest, then: RUNS sequential containers running /bin/true
//     (request to exit notification, stdio fds passed), then CONCURRENT containers started at
//     once from as many threads and connections (wall time until every one has exited).
//   XCDBench xcd-net SOCKET ARCHIVE RUNS BRIDGE OCTET
//     imports ARCHIVE, creates a network (bridge BRIDGE, 10.212.OCTET.0/24), then RUNS
//     pairs of /bin/true containers: one plain, one VNET on the network with a published port
//     (see NetworkBench.swift).
//   XCDBench runc RUNC ROOT BUNDLE RUNS
//     RUNS times `RUNC --root ROOT run --bundle BUNDLE id` (the floor), each timed from spawn
//     to exit.

import Foundation
import Glibc
import Synchronization
import SystemPackage
import XCIPC
import XCSystem

/// A failure of the benchmark itself, with what to check.
struct BenchError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

let clock = ContinuousClock()

func milliseconds(_ d: Duration) -> Double {
  Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

/// Prints `name_p50`, `name_p90` of `samples` (ms).
func report(_ name: String, _ samples: [Double]) {
  let s = samples.sorted()
  func q(_ p: Double) -> Double { s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))] }
  print(name + "_p50", String(format: "%.2f", q(0.5)))
  print(name + "_p90", String(format: "%.2f", q(0.9)))
}

/// One container running /bin/true with /dev/null as stdio; returns once its exit is notified.
func runTrue(
  _ client: XCClient, devnull: FileDescriptor,
  configure: (inout InstantiateRequest) -> Void = { _ in }
) throws {
  let exited = try EventFD.create(flags: [.closeOnExec])
  defer { try? exited.close() }
  var request = InstantiateRequest(
    imageReference: "busybox:latest",
    entryPoint: EntryPoint(entryPoint: "/bin/true", entryPointArgs: []),
    mainExitedFd: FDRef(exited.fileDescriptor), stdin: FDRef(devnull), stdout: FDRef(devnull),
    stderr: FDRef(devnull))
  configure(&request)
  _ = try client.call(request)
  guard try exited.waitReadable(milliseconds: 60_000) else {
    throw BenchError("no exit notification within 60 s: see the daemon's log")
  }
  let value = try exited.read()
  guard let status = ProcessNotification.decodeExit(value), status.exitCode == 0 else {
    throw BenchError("/bin/true did not exit 0 (notification \(String(value, radix: 16)))")
  }
}

func benchXCD(socket: String, archive: String, runs: Int, concurrent: Int) throws {
  let client = try XCClient(path: socket, timeout: .seconds(120))
  let image = try FileDescriptor.open(archive, .readOnly)
  _ = try client.call(
    FdImportRequest(
      fd: FDRef(image), config: JailConfig(secureLevel: 0), imageReference: "busybox:latest"))
  try image.close()
  let devnull = try FileDescriptor.open("/dev/null", .readWrite)

  try runTrue(client, devnull: devnull)  // warm-up
  var samples: [Double] = []
  for _ in 0..<runs {
    let t0 = clock.now
    try runTrue(client, devnull: devnull)
    samples.append(milliseconds(clock.now - t0))
  }
  report("xcd_true", samples)

  let clients = try (0..<concurrent).map { _ in try XCClient(path: socket, timeout: .seconds(300)) }
  let failures = Mutex<[String]>([])
  let group = DispatchGroup()
  let t0 = clock.now
  for c in clients {
    group.enter()
    Thread {
      do { try runTrue(c, devnull: devnull) } catch {
        failures.withLock { $0.append("\(error)") }
      }
      group.leave()
    }.start()
  }
  group.wait()
  let wall = milliseconds(clock.now - t0)
  let failed = failures.withLock { $0 }
  guard failed.isEmpty else {
    throw BenchError("\(failed.count) of \(concurrent) concurrent containers failed: \(failed[0])")
  }
  print("xcd_concurrent_ms", String(format: "%.1f", wall))
}

func benchRunc(runc: String, root: String, bundle: String, runs: Int) throws {
  func once(_ i: Int) throws -> Double {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: runc)
    p.arguments = ["--root", root, "run", "--bundle", bundle, "bench-\(getpid())-\(i)"]
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    let t0 = clock.now
    try p.run()
    p.waitUntilExit()
    let ms = milliseconds(clock.now - t0)
    guard p.terminationStatus == 0 else {
      throw BenchError("runc run exited \(p.terminationStatus): try it by hand on \(bundle)")
    }
    return ms
  }
  _ = try once(-1)  // warm-up
  report("runc_true", try (0..<runs).map(once))
}

let args = CommandLine.arguments
do {
  switch (args.count > 1 ? args[1] : "", args.count) {
  case ("xcd", 6):
    try benchXCD(socket: args[2], archive: args[3], runs: Int(args[4])!, concurrent: Int(args[5])!)
  case ("xcd-net", 7):
    try benchNetwork(
      socket: args[2], archive: args[3], runs: Int(args[4])!, bridge: args[5], octet: Int(args[6])!)
  case ("runc", 6):
    try benchRunc(runc: args[2], root: args[3], bundle: args[4], runs: Int(args[5])!)
  default:
    throw BenchError(
      "usage: XCDBench xcd SOCKET ARCHIVE RUNS CONCURRENT | XCDBench runc RUNC ROOT BUNDLE RUNS"
        + " | XCDBench xcd-net SOCKET ARCHIVE RUNS BRIDGE OCTET")
  }
} catch {
  FileHandle.standardError.write(Data("XCDBench: \(error)\n".utf8))
  exit(1)
}
