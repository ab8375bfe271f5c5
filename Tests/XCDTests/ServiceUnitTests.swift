import Foundation
import Glibc
import Testing
import XCIPC

/// xcd started the way packaging/xcd.service starts it — the unit's ExecStart command line
/// with packaging/xc.conf (its paths moved into the test's directory), the environment systemd
/// gives a service, and a `$NOTIFY_SOCKET` this test listens on — reports READY=1 only once it
/// serves, STOPPING=1 on SIGTERM, and nothing when it cannot start.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ServiceUnitTests {
  /// The unit's `Key=value` lines of the [Service] section.
  static func serviceSettings() throws -> [(key: String, value: String)] {
    let text = try String(contentsOfFile: DaemonHarness.repoRoot + "/packaging/xcd.service", encoding: .utf8)
    var inService = false
    var settings: [(String, String)] = []
    for line in text.split(separator: "\n").map(String.init) {
      if line.hasPrefix("[") { inService = line == "[Service]" }
      guard inService, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
      settings.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
    }
    return settings
  }

  /// packaging/xc.conf with the socket, state, logs and group moved to the test's own.
  static func config(in dir: String, socket: String) throws -> String {
    let text = try String(contentsOfFile: DaemonHarness.repoRoot + "/packaging/xc.conf", encoding: .utf8)
    let moved: [String: String] = [
      "socket_path": socket, "state_dir": dir + "/state", "logs_dir": dir + "/logs", "socket_group": "\"0\"",
    ]
    var seen: Set<String> = []
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { return String(line) }
      let key = String(line[..<colon])
      guard let value = moved[key] else { return String(line) }
      seen.insert(key)
      return "\(key): \(value)"
    }
    #expect(seen == Set(moved.keys), "packaging/xc.conf lacks some of \(moved.keys.sorted())")
    let path = dir + "/xc.conf"
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// A datagram socket bound at `path`, as systemd's notify socket.
  final class NotifyListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
      self.path = path
      fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
      let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
      }
      guard rc == 0 else { throw TestFailure("bind \(path): \(errno)") }
    }

    /// The next datagram, waiting at most `seconds`; nil if none came.
    func receive(seconds: Int) -> String? {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, Int32(seconds * 1000)) == 1 else { return nil }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let n = recv(fd, &buffer, buffer.count, 0)
      return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : nil
    }

    deinit {
      close(fd)
      unlink(path)
    }
  }

  /// xcd as the unit starts it: ExecStart's words, xcd and the config file replaced by the
  /// built xcd and the test's copy; systemd's environment for a system service.
  func startAsTheUnitDoes(dir: String, config: String, notify: String) throws -> Process {
    let settings = try Self.serviceSettings()
    #expect(settings.contains { $0 == ("Type", "notify") }, "the unit is not Type=notify")
    #expect(!settings.contains { $0.key == "Environment" || $0.key == "EnvironmentFile" }, "the unit sets an environment: mirror it here")
    let exec = try #require(settings.first { $0.key == "ExecStart" }?.value)
    let words = exec.split(separator: " ").map(String.init)
    #expect(words == ["/usr/sbin/xcd", "--config", "/etc/xc/xc.conf"], "ExecStart changed: \(exec)")
    let argv = words.map { $0 == "/usr/sbin/xcd" ? DaemonHarness.binary : $0 == "/etc/xc/xc.conf" ? config : $0 }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    p.environment = [
      "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
      "NOTIFY_SOCKET": notify, "INVOCATION_ID": "0123456789abcdef0123456789abcdef",
    ]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/xcd.log"))
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return p
  }

  @Test func readyOnlyOnceServingThenStoppingOnSigterm() throws {
    let harness = try DaemonHarness()  // only for its private directory and leak checks
    defer { harness.remove() }
    let dir = harness.dir
    _ = FileManager.default.createFile(atPath: dir + "/xcd.log", contents: nil)
    let socket = dir + "/xc.sock"
    let listener = try NotifyListener(path: dir + "/notify.sock")
    let p = try startAsTheUnitDoes(dir: dir, config: try Self.config(in: dir, socket: socket), notify: listener.path)
    defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

    // The first message is READY=1, and when it comes the socket already answers.
    let first = listener.receive(seconds: 60)
    #expect(first == "READY=1", "\(first ?? "nothing within 60 s"); log: \(harness.log)")
    let info = try XCClient(path: socket, timeout: .seconds(5)).call(InfoRequest())
    #expect(info.config.socketPath == socket && info.engine?.name == "xcd")
    var st = stat()
    #expect(stat(socket, &st) == 0 && st.st_mode & 0o777 == 0o660, "socket mode \(String(st.st_mode & 0o777, radix: 8))")

    // SIGTERM (systemd's stop, KillMode=mixed): STOPPING=1, then a clean exit.
    kill(p.processIdentifier, SIGTERM)
    #expect(listener.receive(seconds: 60) == "STOPPING=1")
    p.waitUntilExit()
    #expect(p.terminationReason == .exit && p.terminationStatus == 0)
    #expect(!FileManager.default.fileExists(atPath: socket), "socket left behind")
    harness.expectClean()
  }

  @Test func noReadyWhenItCannotStart() throws {
    let harness = try DaemonHarness()
    defer { harness.remove() }
    let dir = harness.dir
    _ = FileManager.default.createFile(atPath: dir + "/xcd.log", contents: nil)
    let listener = try NotifyListener(path: dir + "/notify.sock")
    // The socket's directory does not exist: xcd must fail, and say nothing to systemd.
    let p = try startAsTheUnitDoes(
      dir: dir, config: try Self.config(in: dir, socket: dir + "/missing/xc.sock"), notify: listener.path)
    p.waitUntilExit()
    #expect(p.terminationStatus == 1)
    #expect(listener.receive(seconds: 0) == nil, "a failed start notified systemd")
    let log = (try? String(contentsOfFile: dir + "/xcd.log", encoding: .utf8)) ?? ""
    #expect(log.contains("does not exist"), "\(log)")
  }
}
