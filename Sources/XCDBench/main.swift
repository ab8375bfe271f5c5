// Benchmark driver for scripts/bench.d/containers. Output is `key value` lines (times in ms);
// the script turns them into Markdown.
//
// Usage:
//   XCDBench start SOCKET ARCHIVE STATE RUNC RUNC_ROOT PLAIN_BUNDLE WORK RUNS CONCURRENT
//     imports ARCHIVE as busybox:latest, then RUNS alternated rounds of: a container running
//     /bin/true through xcd (request to exit notification, stdio fds passed), raw `runc run`
//     of PLAIN_BUNDLE, raw `runc run` of xcd's own bundle (captured under WORK from a
//     running container in STATE; see `benchStart`), raw `runc create` + `start` of it and raw
//     `runc run --detach` of it (each to xc-init's exit report); then CONCURRENT containers at once
//     through xcd and CONCURRENT raw runs of xcd's bundle at once (wall times).
//   XCDBench true SOCKET ARCHIVE RUNS
//     imports ARCHIVE, then RUNS sequential /bin/true starts through xcd, each time printed.
//   XCDBench xcd-net SOCKET ARCHIVE RUNS BRIDGE OCTET
//     imports ARCHIVE, creates a network (bridge BRIDGE, 10.212.OCTET.0/24), then RUNS
//     pairs of /bin/true containers: one plain, one VNET on the network with a published port
//     (see NetworkBench.swift).

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

/// Raw runc on two bundles of the same busybox tree: `plain`, runc's default spec running
/// /bin/true; and xcd's own, the config.json xcd wrote for a running container with its main
/// changed to /bin/true, xc-init still PID 1 (its status pipe as fd 3, as xcd passes it), on
/// that container's overlay root. Each run is `runc run`, timed from spawn to exit.
struct RawRunc {
  let runc: String
  let root: String
  let plain: String
  let xcdBundle: String
  let devnull: CInt
  /// xc-init's status pipe: the write end is each xcd-bundle run's fd 3.
  let status: (read: CInt, write: CInt)

  func argv(_ bundle: String, _ id: String, preserve: Bool) -> [String] {
    [runc, "--root", root, "run"] + (preserve ? ["--preserve-fds", "1"] : []) + ["--bundle", bundle, id]
  }

  func runPlain(_ id: String) throws -> Double {
    let t0 = clock.now
    try reap(try spawn(argv(plain, id, preserve: false), stdio: devnull), "runc run (plain bundle)")
    return milliseconds(clock.now - t0)
  }

  func runXCDBundle(_ id: String) throws -> Double {
    let t0 = clock.now
    try reap(
      try spawn(argv(xcdBundle, id, preserve: true), stdio: devnull, fd3: status.write),
      "runc run (xcd's bundle)")
    let ms = milliseconds(clock.now - t0)
    try expectReports(1)
    return ms
  }

  /// xcd's own sequence on its bundle, without xcd: `runc create` (pid file, JSON log,
  /// xc-init's status pipe as fd 3), `runc start`, then xc-init's report of main's exit, which
  /// is what xcd's exit notification follows. The `runc delete` after is untimed (xcd's
  /// teardown is off the start's path too).
  func runCreateStart(_ id: String) throws -> Double {
    let logged = [runc, "--root", root, "--log", xcdBundle + "/runc.log", "--log-format", "json"]
    let t0 = clock.now
    try reap(
      try spawn(
        logged + ["create", "--bundle", xcdBundle, "--pid-file", xcdBundle + "/init.pid", "--preserve-fds", "1", id],
        stdio: devnull, fd3: status.write), "runc create (xcd's bundle)")
    try reap(try spawn(logged + ["start", id], stdio: devnull), "runc start (xcd's bundle)")
    let report = try awaitExitReport()
    let ms = milliseconds(clock.now - t0)
    try reap(try spawn([runc, "--root", root, "delete", "--force", id], stdio: devnull), "runc delete")
    guard report == "S 0" else { throw BenchError("xc-init on xcd's bundle reported \(report.debugDescription)") }
    return ms
  }

  /// xcd's sequence since issue 17 on its bundle, without xcd: one `runc run --detach` (pid
  /// file, JSON log, xc-init's status pipe as fd 3), then xc-init's report of main's exit,
  /// which is what xcd's exit notification follows; the `runc delete` after is untimed, as for
  /// `runCreateStart`. The like-for-like floor of xcd's start: `runc run` without `--detach`
  /// also waits for the container and deletes it before it exits.
  func runDetached(_ id: String) throws -> Double {
    let logged = [runc, "--root", root, "--log", xcdBundle + "/runc.log", "--log-format", "json"]
    let t0 = clock.now
    try reap(
      try spawn(
        logged + ["run", "--detach", "--bundle", xcdBundle, "--pid-file", xcdBundle + "/init.pid", "--preserve-fds", "1", id],
        stdio: devnull, fd3: status.write), "runc run --detach (xcd's bundle)")
    let report = try awaitExitReport()
    let ms = milliseconds(clock.now - t0)
    try reap(try spawn([runc, "--root", root, "delete", "--force", id], stdio: devnull), "runc delete")
    guard report == "S 0" else { throw BenchError("xc-init on xcd's bundle reported \(report.debugDescription)") }
    return ms
  }

  /// Blocks until xc-init's status pipe has a line saying main exited (`S …`); returns it.
  func awaitExitReport() throws -> String {
    var text = ""
    var buf = [UInt8](repeating: 0, count: 256)
    while true {
      if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("S ") }) { return String(line) }
      var p = pollfd(fd: status.read, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 30_000) == 1 else { throw BenchError("no exit report from xc-init within 30 s") }
      let n = read(status.read, &buf, buf.count)
      if n > 0 { text += String(decoding: buf[0..<n], as: UTF8.self) }
    }
  }

  /// Reads xc-init's reports and checks that `count` of them say main exited 0.
  func expectReports(_ count: Int) throws {
    var text = ""
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(status.read, &buf, buf.count)
      if n <= 0 { break }
      text += String(decoding: buf[0..<n], as: UTF8.self)
    }
    let exits = text.split(separator: "\n").filter { $0.hasPrefix("S ") }
    guard exits.count == count, exits.allSatisfy({ $0 == "S 0" }) else {
      throw BenchError("xc-init on xcd's bundle reported \(text.debugDescription), wanted \(count) × \"S 0\"")
    }
  }

  /// `count` runs of xcd's bundle at once; wall time until all have exited.
  func concurrent(_ count: Int, tag: String) throws -> Double {
    let t0 = clock.now
    let pids = try (0..<count).map {
      try spawn(argv(xcdBundle, "\(tag)-\($0)", preserve: true), stdio: devnull, fd3: status.write)
    }
    for pid in pids { try reap(pid, "runc run (xcd's bundle, concurrent)") }
    let ms = milliseconds(clock.now - t0)
    try expectReports(count)
    return ms
  }
}

/// Captures xcd's bundle for `id` (state dir STATE) into `dest`: its config.json with main
/// replaced by /bin/true behind xc-init, the root made absolute (the container's mounted
/// overlay), and no cgroup path (runc derives one from each run's id, as for the plain bundle).
func captureBundle(state: String, id: String, dest: String) throws {
  let source = state + "/containers/" + id
  guard let data = FileManager.default.contents(atPath: source + "/config.json"),
    var spec = try JSONSerialization.jsonObject(with: data) as? [String: Any],
    var process = spec["process"] as? [String: Any], let args = process["args"] as? [String],
    var root = spec["root"] as? [String: Any], let rootPath = root["path"] as? String,
    var linux = spec["linux"] as? [String: Any]
  else { throw BenchError("no readable config.json with process, root and linux in \(source)") }
  guard args.first == "/.xc-init", args.dropFirst().first == "/bin/sleep" else {
    throw BenchError("xcd's process is \(args), not xc-init running /bin/sleep: was xcd built without xc-init?")
  }
  process["args"] = ["/.xc-init", "/bin/true"]
  spec["process"] = process
  root["path"] = rootPath.hasPrefix("/") ? rootPath : source + "/" + rootPath
  spec["root"] = root
  linux["cgroupsPath"] = nil
  spec["linux"] = linux
  try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
  try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
    .write(to: URL(fileURLWithPath: dest + "/config.json"))
}

/// The start benchmark, all in one run so that the shared machine's load hits every side
/// alike: RUNS rounds of (xcd, raw `runc run` on the plain bundle and on xcd's bundle, raw
/// `runc create` + `start` on xcd's bundle), the order rotating each round; then CONCURRENT starts through xcd and as many raw runs at once.
func benchStart(
  socket: String, archive: String, state: String, runc: String, runcRoot: String, plain: String,
  work: String, runs: Int, concurrent: Int
) throws {
  let client = try XCClient(path: socket, timeout: .seconds(120))
  let image = try FileDescriptor.open(archive, .readOnly, options: [.closeOnExec])
  _ = try client.call(
    FdImportRequest(
      fd: FDRef(image), config: JailConfig(secureLevel: 0), imageReference: "busybox:latest"))
  try image.close()
  let devnull = try FileDescriptor.open("/dev/null", .readWrite, options: [.closeOnExec])

  // A long-running container whose bundle and mounted root the xcd-bundle floor reuses.
  let sleeperExited = try EventFD.create(flags: [.closeOnExec])
  defer { try? sleeperExited.close() }
  let sleeper = try client.call(
    InstantiateRequest(
      imageReference: "busybox:latest",
      entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["100000"]),
      mainExitedFd: FDRef(sleeperExited.fileDescriptor), stdin: FDRef(devnull), stdout: FDRef(devnull),
      stderr: FDRef(devnull)))
  defer {
    _ = try? client.call(KillContainerRequest(name: sleeper.id))
    _ = try? sleeperExited.waitReadable(milliseconds: 30_000)
  }
  try captureBundle(state: state, id: sleeper.id, dest: work + "/xcd-bundle")

  var fds: [CInt] = [0, 0]
  // pipe2 is not in Swift's Glibc; nothing is spawned meanwhile, so the flags can follow.
  guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0,
    fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0
  else { throw BenchError("status pipe: \(String(cString: strerror(errno)))") }
  defer { close(fds[0]); close(fds[1]) }
  let raw = RawRunc(
    runc: runc, root: runcRoot, plain: plain, xcdBundle: work + "/xcd-bundle", devnull: devnull.rawValue,
    status: (fds[0], fds[1]))

  let tag = "bench-\(getpid())"
  // Warm-up: each side once.
  try runTrue(client, devnull: devnull)
  _ = try raw.runPlain(tag + "-wp")
  _ = try raw.runXCDBundle(tag + "-wx")
  _ = try raw.runCreateStart(tag + "-wc")
  _ = try raw.runDetached(tag + "-wd")
  var xcd: [Double] = []
  var createStartRuns: [Double] = []
  var detachedRuns: [Double] = []
  var plainRuns: [Double] = []
  var xcdBundleRuns: [Double] = []
  for i in 0..<runs {
    let sides: [() throws -> Void] = [
      {
        let t0 = clock.now
        try runTrue(client, devnull: devnull)
        xcd.append(milliseconds(clock.now - t0))
      },
      { plainRuns.append(try raw.runPlain("\(tag)-p\(i)")) },
      { xcdBundleRuns.append(try raw.runXCDBundle("\(tag)-x\(i)")) },
      { createStartRuns.append(try raw.runCreateStart("\(tag)-c\(i)")) },
      { detachedRuns.append(try raw.runDetached("\(tag)-d\(i)")) },
    ]
    for k in 0..<sides.count { try sides[(i + k) % sides.count]() }
  }
  report("xcd_true", xcd)
  report("runc_plain", plainRuns)
  report("runc_xcd", xcdBundleRuns)
  report("runc_create_start", createStartRuns)
  report("runc_detached", detachedRuns)

  // Rounds alternated (xcd first, then raw first, ...), each from a daemon with no container
  // left, so load drifting on the shared machine and one side's leftovers hit both alike.
  var xcdWalls: [Double] = []
  var rawWalls: [Double] = []
  for round in 0..<concurrentRounds {
    let sides: [() throws -> Void] = [
      {
        xcdWalls.append(try concurrentXCD(socket: socket, devnull: devnull, count: concurrent))
        try awaitNoContainers(client, except: sleeper.id)
      },
      { rawWalls.append(try raw.concurrent(concurrent, tag: "\(tag)-c\(round)")) },
    ]
    for k in 0..<sides.count { try sides[(round + k) % sides.count]() }
  }
  print("xcd_concurrent_ms", String(format: "%.1f", median(xcdWalls)))
  print("runc_concurrent_ms", String(format: "%.1f", median(rawWalls)))
  print("concurrent_rounds", concurrentRounds)
}

/// Rounds of the concurrent measure (each side's median is reported).
let concurrentRounds = 5

func median(_ samples: [Double]) -> Double {
  let s = samples.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Waits (polling, up to 60 s) until xcd lists no container but `except`: the released ones'
/// teardown is over.
func awaitNoContainers(_ client: XCClient, except: String) throws {
  let deadline = ContinuousClock.now + .seconds(60)
  while try client.call(ListContainersRequest()).contains(where: { $0.id != except }) {
    guard ContinuousClock.now < deadline else { throw BenchError("containers not released within 60 s") }
    usleep(5_000)
  }
}

/// `count` containers started through xcd at once, each from its own thread and connection;
/// wall time until every one has exited.
func concurrentXCD(socket: String, devnull: FileDescriptor, count: Int) throws -> Double {
  let clients = try (0..<count).map { _ in try XCClient(path: socket, timeout: .seconds(300)) }
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
    throw BenchError("\(failed.count) of \(count) concurrent containers failed: \(failed[0])")
  }
  return wall
}

/// Imports ARCHIVE, then RUNS sequential /bin/true starts through xcd, each printed; for tracing
/// the daemon during a start (docs/benchmarks.md, "Where a start's time goes").
func benchTrue(socket: String, archive: String, runs: Int) throws {
  let client = try XCClient(path: socket, timeout: .seconds(120))
  let image = try FileDescriptor.open(archive, .readOnly, options: [.closeOnExec])
  _ = try client.call(
    FdImportRequest(
      fd: FDRef(image), config: JailConfig(secureLevel: 0), imageReference: "busybox:latest"))
  try image.close()
  let devnull = try FileDescriptor.open("/dev/null", .readWrite, options: [.closeOnExec])
  for i in 0..<runs {
    let t0 = clock.now
    try runTrue(client, devnull: devnull)
    print("xcd_true_\(i)", String(format: "%.2f", milliseconds(clock.now - t0)))
  }
}

let args = CommandLine.arguments
do {
  switch (args.count > 1 ? args[1] : "", args.count) {
  case ("start", 11):
    try benchStart(
      socket: args[2], archive: args[3], state: args[4], runc: args[5], runcRoot: args[6], plain: args[7],
      work: args[8], runs: Int(args[9])!, concurrent: Int(args[10])!)
  case ("true", 5):
    try benchTrue(socket: args[2], archive: args[3], runs: Int(args[4])!)
  case ("xcd-net", 7):
    try benchNetwork(
      socket: args[2], archive: args[3], runs: Int(args[4])!, bridge: args[5], octet: Int(args[6])!)
  default:
    throw BenchError(
      "usage: XCDBench start SOCKET ARCHIVE STATE RUNC RUNC_ROOT PLAIN_BUNDLE WORK RUNS CONCURRENT"
        + " | XCDBench true SOCKET ARCHIVE RUNS"
        + " | XCDBench xcd-net SOCKET ARCHIVE RUNS BRIDGE OCTET")
  }
} catch {
  FileHandle.standardError.write(Data("XCDBench: \(error)\n".utf8))
  exit(1)
}
