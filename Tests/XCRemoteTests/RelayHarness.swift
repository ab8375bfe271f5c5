import Foundation
import Glibc
import SystemPackage
import XCIPC
import XCRemote
import XCSystem
import XCTestSupport

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// Finds a binary built next to the test bundle (`xcsh-relay`, `xcd`, `xcsh`).
func builtBinary(_ name: String) -> String {
  var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  while dir.path != "/" {
    let candidate = dir.appendingPathComponent(name).path
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
      FileManager.default.isExecutableFile(atPath: candidate)
    {
      return candidate
    }
    dir = dir.deletingLastPathComponent()
  }
  return name
}

let repoRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// The real relay binary on one end of a socketpair, a `MuxSession` on the other, and an
/// in-process xc server (XCServer with the test's handlers) on a temp socket as the daemon.
final class RelayHarness {
  let dir: String
  let server: XCServer?
  let relay: Process
  let session: MuxSession
  private let exited = DispatchSemaphore(value: 0)

  init(table: XCMethodTable?, socketName: String = "xc.sock") throws {
    var template = Array("/tmp/xcsh-mux-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    dir = String(cString: p)
    let made = dir
    var ok = false
    defer { if !ok { try? FileManager.default.removeItem(atPath: made) } }
    let socket = dir + "/" + socketName
    if let table {
      let s = try XCServer(path: socket, table: table)
      s.start()
      server = s
    } else {
      server = nil
    }
    let (mine, theirs) = try Socket.pair()
    relay = Process()
    // $XCSH_TEST_RELAY: another build of relay.c (a sanitizer build, to check for leaks).
    let binary = ProcessInfo.processInfo.environment["XCSH_TEST_RELAY"] ?? builtBinary("xcsh-relay")
    relay.executableURL = URL(fileURLWithPath: binary)
    relay.arguments = [socket]
    let handle = FileHandle(fileDescriptor: theirs.rawValue, closeOnDealloc: false)
    relay.standardInput = handle
    relay.standardOutput = handle
    let sem = exited
    relay.terminationHandler = { _ in sem.signal() }
    try relay.run()
    close(theirs.rawValue)
    do {
      session = try MuxSession(host: "testhost", socket: mine.rawValue)
    } catch {
      relay.terminate()
      server?.stop()
      throw error
    }
    ok = true
  }

  private var hasExited = false

  /// Waits (bounded) for the relay to exit; true if it did.
  func relayExits(within seconds: Double = 10) -> Bool {
    if hasExited { return true }
    hasExited = exited.wait(timeout: .now() + seconds) == .success
    return hasExited
  }

  func tearDown() {
    session.close()
    if !relayExits() { relay.terminate() }
    server?.stop()
    try? FileManager.default.removeItem(atPath: dir)
  }
}

/// A pipe as two raw descriptors, closed by their owners.
func makePipe() throws -> (read: Int32, write: Int32) {
  var p: [Int32] = [-1, -1]
  guard pipe(&p) == 0 else { throw TestFailure("pipe: \(errno)") }
  for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
  return (p[0], p[1])
}

/// Reads `fd` to EOF.
func readAll(_ fd: Int32) -> [UInt8] {
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return out }
    out += chunk[0..<n]
  }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
  var off = 0
  while off < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return }
    off += n
  }
}
