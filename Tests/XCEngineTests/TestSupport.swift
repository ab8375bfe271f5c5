import Foundation
import Glibc
import SystemPackage
import Testing
import XCSystem

@testable import XCEngine

/// Root-only tests need runc, mounts and namespaces. This machine and CI run as root;
/// XCENGINE_SKIP_ROOT=1 turns them off elsewhere.
let runsAsRoot = getuid() == 0 && ProcessInfo.processInfo.environment["XCENGINE_SKIP_ROOT"] == nil

enum Fixtures {
  static let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  private static let lock = NSLock()
  nonisolated(unsafe) private static var made: [String: String] = [:]

  /// Path of an archive made once per process by scripts/make-test-image with `arguments`.
  static func archive(_ arguments: [String] = []) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let key = arguments.joined(separator: " ")
    if let path = made[key] { return path }
    // One file per argument list, rewritten by each test process, so runs do not pile up.
    let dir = "/tmp/xcengine-test-images"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let tag = key.isEmpty ? "default" : key.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
    let path = "\(dir)/\(tag).tar"
    let out = try run(["/bin/sh", repoRoot + "/scripts/make-test-image", path] + arguments)
    guard out.status == 0 else { throw TestFailure("make-test-image failed: \(out.stderr)") }
    made[key] = path
    return path
  }

  struct Output { var status: Int32; var stdout: String; var stderr: String }

  static func run(_ argv: [String]) throws -> Output {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                  stderr: String(decoding: e, as: UTF8.self))
  }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// A temporary state directory; `check` asserts nothing is left behind.
struct TempState {
  let path: String

  init() throws {
    var template = Array("/tmp/xcengine-state-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    path = String(cString: p)
  }

  /// No mounts under the state dir, no runc state, no process rooted in it.
  func expectClean(sourceLocation: SourceLocation = #_sourceLocation) {
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    let leaked = mounts.split(separator: "\n").filter { $0.contains(path) }
    #expect(leaked.isEmpty, "mounts left: \(leaked)", sourceLocation: sourceLocation)
    let runcState = (try? FileManager.default.contentsOfDirectory(atPath: path + "/runc")) ?? []
    #expect(runcState.isEmpty, "runc state left: \(runcState)", sourceLocation: sourceLocation)
    var rooted: [String] = []
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
      if let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"),
        root.hasPrefix(path)
      {
        rooted.append(pid)
      }
    }
    #expect(rooted.isEmpty, "processes left in containers: \(rooted)", sourceLocation: sourceLocation)
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Runs `body` with a fresh engine on a temporary state dir holding the test image
/// `busybox:latest`; shuts it down, checks nothing is left, and removes the directory.
func withEngine(
  image: [String] = [], reference: String = "busybox:latest", keepEnded: EndedRetention = .standard,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: (Engine, TempState) async throws -> Void
) async throws {
  let state = try TempState()
  defer { state.remove() }
  let engine = try Engine(stateDir: state.path, keepEnded: keepEnded)
  do {
    try importArchive(engine, try Fixtures.archive(image), reference: reference)
    try await body(engine, state)
  } catch {
    engine.shutdown(grace: .seconds(1))
    throw error
  }
  engine.shutdown(grace: .seconds(1))
  state.expectClean(sourceLocation: sourceLocation)
}

@discardableResult
func importArchive(_ engine: Engine, _ path: String, reference: String?) throws -> [ImageRecord] {
  let fd = try FileDescriptor.open(path, .readOnly)
  defer { try? fd.close() }
  return try engine.importImage(from: fd, reference: reference)
}

/// A pipe whose ends close when released.
final class TestPipe {
  let read: FileDescriptor
  var write: FileDescriptor?

  init() throws {
    let (r, w) = try FileDescriptor.pipe()
    read = r
    write = w
  }

  /// Closes our write end: after the engine has duplicated it, EOF then means every
  /// process in the container holding it has exited.
  func closeWrite() {
    try? write?.close()
    write = nil
  }

  func readAll() throws -> String {
    closeWrite()
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
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

/// A blocking eventfd as a client creates it.
final class TestEventFD {
  let fd: FileDescriptor
  init() throws { fd = FileDescriptor(rawValue: try EventFD.create().rawValue) }
  func read() throws -> UInt64 { try EventFD(fd).read() }
  deinit { try? fd.close() }
}

extension ContainerSpec {
  /// busybox:latest running `argv`, stdout to `stdout`.
  static func busybox(_ argv: [String], stdout: FileDescriptor? = nil) -> ContainerSpec {
    var spec = ContainerSpec(image_reference: "busybox:latest")
    spec.entry_point = .init(argv[0], args: Array(argv.dropFirst()))
    spec.stdout = stdout
    return spec
  }
}
