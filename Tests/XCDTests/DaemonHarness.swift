import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
import XCSystem

/// Root-only: runc, mounts and namespaces. This machine and CI run as root;
/// XCENGINE_SKIP_ROOT=1 turns them off elsewhere.
let runsAsRoot = getuid() == 0 && ProcessInfo.processInfo.environment["XCENGINE_SKIP_ROOT"] == nil

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// The built `xcd` run as a child process on a private socket and state directory, as users
/// run it.
final class DaemonHarness {
  /// `$XCD_BIN`, else the `xcd` built next to the test bundle.
  static var binary: String {
    if let p = ProcessInfo.processInfo.environment["XCD_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("xcd").path
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
        FileManager.default.isExecutableFile(atPath: candidate)
      {
        return candidate
      }
      dir = dir.deletingLastPathComponent()
    }
    return "xcd"
  }

  static let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// Everything of this harness lives below `dir`: the socket, the state, the log.
  let dir: String
  var socket: String { dir + "/xcd.sock" }
  var stateDir: String { dir + "/state" }
  var logPath: String { dir + "/xcd.log" }
  private(set) var process: Process?
  /// Signalled by each launched process's termination handler.
  private var exited: [ObjectIdentifier: DispatchSemaphore] = [:]

  init() throws {
    var template = Array("/tmp/xcd-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    dir = String(cString: p)
  }

  /// Starts xcd and returns once it answers on the socket (or fails if it exits first or does
  /// not answer within the deadline).
  func start(extraArguments: [String] = []) throws {
    let p = try launch(extraArguments)
    process = p
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      if let client = try? XCClient(path: socket, timeout: .seconds(30)) {
        _ = try client.call(InfoRequest())
        return
      }
      if !p.isRunning {
        throw TestFailure("xcd exited with \(p.terminationStatus) before answering: \(log)")
      }
      usleep(20_000)  // polling for the socket, bounded by the deadline
    }
    throw TestFailure("xcd did not answer on \(socket) within 60 s: \(log)")
  }

  /// Runs xcd to completion (for a daemon expected to refuse to start).
  func runExpectingFailure(extraArguments: [String] = []) throws -> (status: Int32, stderr: String)
  {
    let errPath = dir + "/refused.log"
    let p = try launch(extraArguments, stderrPath: errPath)
    try waitExit(p, seconds: 30)
    let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return (p.terminationStatus, text)
  }

  private func launch(_ extra: [String], stderrPath: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.binary)
    p.arguments = ["--socket", socket, "--state-dir", stateDir, "--log-level", "debug"] + extra
    let path = stderrPath ?? logPath
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    err.seekToEndOfFile()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    exited[ObjectIdentifier(p)] = done
    p.terminationHandler = { _ in done.signal() }
    try p.run()
    try? err.close()
    return p
  }

  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  func client() throws -> XCClient { try XCClient(path: socket, timeout: .seconds(60)) }

  /// SIGTERM (or `signal`), then expects exit status 0 and the socket removed.
  func stop(signal: Int32 = SIGTERM, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let p = process else { return }
    process = nil
    kill(p.processIdentifier, signal)
    try waitExit(p, seconds: 60)
    #expect(p.terminationReason == .exit, "xcd was killed: \(log)", sourceLocation: sourceLocation)
    #expect(
      p.terminationStatus == 0, "xcd exited \(p.terminationStatus): \(log)",
      sourceLocation: sourceLocation)
    #expect(
      !FileManager.default.fileExists(atPath: socket), "socket left behind",
      sourceLocation: sourceLocation)
  }

  /// SIGKILLs the daemon (a crash: nothing is torn down) and reaps it.
  func crash() throws {
    guard let p = process else { return }
    process = nil
    kill(p.processIdentifier, SIGKILL)
    try waitExit(p, seconds: 30)
  }

  private func waitExit(_ p: Process, seconds: Double) throws {
    let done = exited.removeValue(forKey: ObjectIdentifier(p))
    if let done, done.wait(timeout: .now() + seconds) == .timedOut {
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      throw TestFailure("xcd did not exit within \(Int(seconds)) s: \(log)")
    }
    p.waitUntilExit()  // reaped
  }

  /// No mounts under the directory, no runc state, no process left (rooted in a container,
  /// or naming the directory on its command line: runc, xc-init, the daemon).
  func expectClean(sourceLocation: SourceLocation = #_sourceLocation) {
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    let leaked = mounts.split(separator: "\n").filter { $0.contains(dir) }
    #expect(leaked.isEmpty, "mounts left: \(leaked)", sourceLocation: sourceLocation)
    let runcState = (try? FileManager.default.contentsOfDirectory(atPath: stateDir + "/runc")) ?? []
    #expect(runcState.isEmpty, "runc state left: \(runcState)", sourceLocation: sourceLocation)
    var left: [String] = []
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    where Int(pid) != nil {
      if let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"),
        root.hasPrefix(dir)
      {
        left.append("\(pid) (rooted in a container)")
      }
      if let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")),
        String(decoding: cmd, as: UTF8.self).contains(dir)
      {
        left.append("\(pid): \(String(decoding: cmd.map { $0 == 0 ? 32 : $0 }, as: UTF8.self))")
      }
    }
    #expect(left.isEmpty, "processes left: \(left)", sourceLocation: sourceLocation)
  }

  /// Removes the directory; with `$XCD_TEST_LOG` set, first prints the daemon's log.
  func remove() {
    if ProcessInfo.processInfo.environment["XCD_TEST_LOG"] != nil {
      FileHandle.standardError.write(Data("--- xcd log (\(dir)):\n\(log)".utf8))
    }
    try? FileManager.default.removeItem(atPath: dir)
  }
}

/// Runs `body` against a fresh daemon; stops it (SIGTERM, exit 0), checks that nothing is
/// left behind, and removes its directory.
func withDaemon(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: (DaemonHarness) throws -> Void
) throws {
  let daemon = try DaemonHarness()
  defer { daemon.remove() }
  try daemon.start()
  do {
    try body(daemon)
  } catch {
    try? daemon.stop(sourceLocation: sourceLocation)
    throw error
  }
  try daemon.stop(sourceLocation: sourceLocation)
  daemon.expectClean(sourceLocation: sourceLocation)
}

// MARK: - Fixtures

enum Fixtures {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var made: [String: String] = [:]

  /// An image archive made once per process by scripts/make-test-image with `arguments`.
  static func archive(_ arguments: [String] = []) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let key = arguments.joined(separator: " ")
    if let path = made[key] { return path }
    let dir = "/tmp/xcd-test-images"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let tag = key.isEmpty ? "default" : String(key.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    let path = "\(dir)/\(tag).tar"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [DaemonHarness.repoRoot + "/scripts/make-test-image", path] + arguments
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw TestFailure("make-test-image failed") }
    made[key] = path
    return path
  }

  /// Imports the test image through `fd_import` (the archive's descriptor); returns the diff id.
  @discardableResult
  static func importImage(
    _ client: XCClient, reference: String = "busybox:latest", arguments: [String] = []
  ) throws -> String {
    let fd = try FileDescriptor.open(try archive(arguments), .readOnly)
    defer { try? fd.close() }
    return try client.call(
      FdImportRequest(fd: FDRef(fd), config: JailConfig(secureLevel: 0), imageReference: reference))
  }
}

/// A pipe whose read end we keep; the write end goes to the daemon and is closed here after
/// the call, so EOF means every process holding it has exited.
final class TestPipe {
  let read: FileDescriptor
  private(set) var write: FileDescriptor?

  init() throws {
    (read, write) = try FileDescriptor.pipe()
  }

  var writeRef: FDRef { FDRef(write!) }

  func closeWrite() {
    try? write?.close()
    write = nil
  }

  /// Everything until EOF, failing after `seconds`.
  func readAll(seconds: Int32 = 30) throws -> String {
    closeWrite()
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(Double(seconds))
    while true {
      var pfd = pollfd(fd: read.rawValue, events: Int16(POLLIN), revents: 0)
      let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
      let r = poll(&pfd, 1, left)
      if r == 0 {
        throw TestFailure(
          "no EOF on the pipe within \(seconds) s; read so far: \(String(decoding: out, as: UTF8.self))"
        )
      }
      if r < 0 {
        if errno == EINTR { continue }
        throw TestFailure("poll failed")
      }
      let n = try buffer.withUnsafeMutableBytes { try read.read(into: $0) }
      if n == 0 { break }
      out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
  }

  deinit {
    try? read.close()
    try? write?.close()
  }
}

/// An eventfd as the xc client makes one for notifications.
final class TestEventFD {
  let fd: EventFD
  init() throws { fd = try EventFD.create() }
  var ref: FDRef { FDRef(fd.fileDescriptor) }

  /// The next value, failing after `seconds`.
  func next(seconds: Int32 = 30) throws -> UInt64 {
    guard try fd.waitReadable(milliseconds: seconds * 1000) else {
      throw TestFailure("no notification within \(seconds) s")
    }
    return try fd.read()
  }

  /// The exit status carried by the next notification.
  func exitStatus(seconds: Int32 = 30) throws -> WaitStatus {
    let value = try next(seconds: seconds)
    guard let status = ProcessNotification.decodeExit(value) else {
      throw TestFailure("not an exit notification: \(String(value, radix: 16))")
    }
    return status
  }

  deinit { try? fd.close() }
}

/// The daemon's error answer for `body`, or a failure if it succeeded.
func daemonError<T>(_ body: () throws -> T) throws -> XCDaemonError {
  do {
    _ = try body()
  } catch let e as IPCError {
    guard let d = e.daemonError else { throw TestFailure("not a daemon answer: \(e)") }
    return d
  }
  throw TestFailure("the call succeeded; an error was expected")
}
