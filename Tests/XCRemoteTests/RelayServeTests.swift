import Foundation
import Glibc
import Testing
import XCTestSupport

/// `relay --serve` on its own (no sshd): the listener's directory and socket are private to
/// the user it serves, a peer of another uid gets nothing, a second start finds the running
/// listener, bad arguments are refused, and SIGTERM ends it and removes its socket.
@Suite(.serialized) struct RelayServeTests {
  let relay = ProcessInfo.processInfo.environment["XCSH_TEST_RELAY"] ?? builtBinary("xcsh-relay")

  /// Starts `relay --serve PATH UID IDLE SOCKET`; the starter's exit status (0 listening,
  /// 75 one was already there).
  func serve(_ path: String, uid: String, idle: String = "30", socket: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: relay)
    p.arguments = ["--serve", path, uid, idle, socket]
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
  }

  /// What a connection to `path` receives until EOF (at most 4 KiB; 10 s at most).
  func received(_ path: String) throws -> [UInt8] {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_un()
    a.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &a.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let ok = withUnsafePointer(to: &a) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard ok == 0 else { throw TestFailure("cannot connect to \(path): errno \(errno)") }
    shutdown(fd, Int32(SHUT_WR))  // the relay's session ends at our EOF
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < 4096 {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 10_000) == 1 else { throw TestFailure("nothing from \(path) within 10 s") }
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if n <= 0 { break }
      out += chunk[0..<n]
    }
    return out
  }

  /// The listeners whose command line names `dir`, by pid. A session child of a listener has
  /// its command line until it execs the relay: not counted.
  func listeners(_ dir: String) -> [Int32] {
    let all: [Int32] = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid in
      guard let n = Int32(pid), let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return nil }
      let text = String(decoding: cmd.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
      return text.contains(" --serve \(dir)/") ? n : nil
    }
    return all.filter { !all.contains(parentPID($0) ?? -1) }
  }

  func stopAll(_ dir: String) {
    for pid in listeners(dir) { kill(pid, SIGTERM) }
    let deadline = Date().addingTimeInterval(10)
    while !listeners(dir).isEmpty, Date() < deadline { usleep(20_000) }  // polling, bounded
  }

  @Test func aListenerServesOnlyItsUserFromAPrivateDirectoryAndEndsAtSIGTERM() throws {
    var template = Array("/tmp/xcsh-serve-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let dir = String(cString: p)
    defer {
      stopAll(dir)
      try? FileManager.default.removeItem(atPath: dir)
    }
    let path = dir + "/run/mine"
    #expect(try serve(path, uid: String(getuid()), socket: dir + "/no-daemon.sock") == 0)
    #expect(try serve(path, uid: String(getuid()), socket: dir + "/no-daemon.sock") == 75)  // already served
    #expect(listeners(dir).count == 1)
    var st = stat()
    #expect(lstat(dir + "/run", &st) == 0 && st.st_mode & 0o777 == 0o700 && st.st_uid == getuid())
    #expect(lstat(path, &st) == 0 && st.st_mode & 0o077 == 0)
    // Our uid: a relay session, its handshake first (a mux HELLO: "XCMX" after the header).
    let hello = try received(path)
    #expect(hello.count > 16 && hello[1] == 4 && Array(hello[12..<16]) == Array("XCMX".utf8), "\(hello.prefix(32))")
    #expect(String(decoding: hello, as: UTF8.self).contains("relay="))

    // A listener for another user: its directory and socket are that user's, and we are
    // refused without a byte (root can connect to anything, the uid check still says no).
    if getuid() == 0 {
      let other = dir + "/other/theirs"
      #expect(try serve(other, uid: "65534", socket: dir + "/no-daemon.sock") == 0)
      #expect(lstat(dir + "/other", &st) == 0 && st.st_uid == 65534 && st.st_mode & 0o777 == 0o700)
      #expect(lstat(other, &st) == 0 && st.st_uid == 65534)
      #expect(try received(other).isEmpty)
    }
    // A directory open to others is refused (the socket would be reachable by them).
    try FileManager.default.createDirectory(atPath: dir + "/open", withIntermediateDirectories: false)
    chmod(dir + "/open", 0o755)
    #expect(try serve(dir + "/open/l", uid: String(getuid()), socket: dir + "/no-daemon.sock") == 1)
    // Bad arguments.
    #expect(try serve(dir + "/run/x", uid: "nobody", socket: dir + "/s") == 64)
    #expect(try serve(dir + "/run/x", uid: String(getuid()), idle: "0", socket: dir + "/s") == 64)

    stopAll(dir)
    #expect(listeners(dir).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: path))
  }
}

/// The parent pid of `pid` (/proc/PID/stat, the field after the state).
func parentPID(_ pid: Int32) -> Int32? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
    return nil
  }
  let fields = text[text.index(after: close)...].split(separator: " ")
  return fields.count > 1 ? Int32(fields[1]) : nil
}
