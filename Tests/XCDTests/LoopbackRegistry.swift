import Foundation
import XCTestSupport
import Glibc
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A real registry (Debian's `docker-registry`, distribution 2.x) on 127.0.0.1 at a free
/// port with its storage in a temp dir, for one test. `stop()` ends it and removes the dir;
/// nothing is left running.
///
/// Auth: none, `htpasswd` (HTTP Basic, bcrypt via apache2-utils' `htpasswd`), or `token`
/// (the Bearer flow: the registry's "silly" auth challenges with a realm served by a
/// `TokenService` here, which checks the Basic credentials and hands out tokens).
final class LoopbackRegistry {
  enum Auth {
    case none
    case htpasswd(user: String, password: String)
    case token(user: String, password: String)
  }

  static let binary = "/usr/bin/docker-registry"

  let dir: String
  private(set) var port: Int = 0
  private var process: Process?
  private(set) var tokenService: TokenService?
  private let exited = DispatchSemaphore(value: 0)

  /// `host:port`, as references name it.
  var host: String { "127.0.0.1:\(port)" }

  init(auth: Auth = .none) throws {
    var template = Array("/tmp/xcd-registry-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    dir = String(cString: p)
    do {
      try start(auth)
    } catch {
      stop()
      throw error
    }
  }

  private func start(_ auth: Auth) throws {
    guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
      throw TestFailure("\(Self.binary) missing: apt-get install docker-registry")
    }
    var authYAML = ""
    switch auth {
    case .none:
      break
    case .htpasswd(let user, let password):
      let line = try run(["/usr/bin/htpasswd", "-Bbn", user, password])
      try line.write(toFile: dir + "/htpasswd", atomically: true, encoding: .utf8)
      authYAML = "auth:\n  htpasswd:\n    realm: xcd-test\n    path: \(dir)/htpasswd\n"
    case .token(let user, let password):
      let service = try TokenService(user: user, password: password)
      tokenService = service
      authYAML =
        "auth:\n  silly:\n    realm: http://127.0.0.1:\(service.port)/token\n    service: xcd-test\n"
    }
    // A port taken between probing and binding makes the registry exit: try another.
    var lastLog = ""
    for _ in 0..<5 {
      port = try Self.freePort()
      let config = """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: \(dir)/storage
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
        \(authYAML)
        """
      try config.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: Self.binary)
      p.arguments = ["serve", dir + "/config.yml"]
      _ = FileManager.default.createFile(atPath: dir + "/registry.log", contents: nil)
      p.standardOutput = FileHandle.nullDevice
      p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/registry.log"))
      let exited = self.exited
      p.terminationHandler = { _ in exited.signal() }
      try p.run()
      process = p
      if try waitUntilServing(p) { return }
      _ = exited.wait(timeout: .now() + 10)
      p.waitUntilExit()
      process = nil
      lastLog = log
    }
    throw TestFailure("docker-registry did not start: \(lastLog)")
  }

  var log: String { (try? String(contentsOfFile: dir + "/registry.log", encoding: .utf8)) ?? "" }

  /// Polls `GET /v2/` until it answers (200, or 401 with auth); false if the process ended.
  private func waitUntilServing(_ p: Process) throws -> Bool {
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      if !p.isRunning { return false }
      if let status = Self.status(port: port), status == 200 || status == 401 {
        return true
      }
      usleep(20_000)  // polling the registry's start, bounded by the deadline
    }
    throw TestFailure("docker-registry did not answer on \(host) within 30 s: \(log)")
  }

  /// The HTTP status of `GET path` on 127.0.0.1:`port`, or nil when nothing answers. Raw
  /// HTTP/1.0 over a socket: Foundation's URLSession on Linux never completes a request
  /// answered by a Basic challenge when it has no delegate.
  static func status(port: Int, path: String = "/v2/") -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
    guard request.withCString({ write(fd, $0, strlen($0)) }) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = read(fd, &buffer, buffer.count)
    guard n > 12 else { return nil }
    // "HTTP/1.1 200 OK"
    let line = String(decoding: buffer[0..<n], as: UTF8.self)
    let parts = line.split(separator: " ")
    return parts.count > 1 ? Int(parts[1]) : nil
  }

  /// Ends the registry (SIGTERM, then SIGKILL) and the token service; removes the dir.
  func stop() {
    if let p = process {
      process = nil
      if p.isRunning {
        kill(p.processIdentifier, SIGTERM)
        if exited.wait(timeout: .now() + 10) == .timedOut {
          kill(p.processIdentifier, SIGKILL)
        }
      }
      p.waitUntilExit()
    }
    tokenService?.stop()
    try? FileManager.default.removeItem(atPath: dir)
  }

  /// Whether the registry process is still running (for leak checks).
  var isRunning: Bool { process?.isRunning ?? false }

  /// A port nothing listens on right now (the kernel's pick for port 0).
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0 else { throw TestFailure("bind failed") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  private func run(_ argv: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw TestFailure("\(argv[0]) failed") }
    return String(decoding: data, as: UTF8.self)
  }
}

/// The token endpoint of the Bearer flow, on 127.0.0.1 at a free port: `GET /token?service=…&scope=…`
/// with HTTP Basic credentials answers `{"token": …}` for the right user and password, 401
/// otherwise. Records what it was asked.
final class TokenService: @unchecked Sendable {
  struct Request: Sendable {
    var user: String?
    var scopes: [String]
    var service: String?
    var granted: Bool
  }

  let port: Int
  private let listener: CInt
  private let user: String
  private let password: String
  private let seen = Mutex<[Request]>([])
  private let thread: Thread
  private let finished = DispatchSemaphore(value: 0)

  init(user: String, password: String) throws {
    self.user = user
    self.password = password
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      close(fd)
      throw TestFailure("token service: bind/listen failed")
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    port = Int(UInt16(bigEndian: addr.sin_port))
    listener = fd
    let box = Box()
    let finished = self.finished
    thread = Thread { box.service?.serve(); finished.signal() }
    box.service = self
    thread.start()
  }

  private final class Box: @unchecked Sendable { weak var service: TokenService? }

  var requests: [Request] { seen.withLock { $0 } }

  /// Stops accepting and waits for the serving thread to end.
  func stop() {
    shutdown(listener, Int32(SHUT_RDWR))
    _ = finished.wait(timeout: .now() + 10)
    close(listener)
  }

  private func serve() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        return
      }
      handle(client)
      close(client)
    }
  }

  private func handle(_ fd: CInt) {
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !data.ends(with: Array("\r\n\r\n".utf8)) && data.count < 65536 {
      let n = read(fd, &buffer, buffer.count)
      if n <= 0 { return }
      data += buffer[0..<n]
    }
    let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
    let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
    let components = URLComponents(string: "http://x" + target)
    let items = components?.queryItems ?? []
    var credentials: (String, String)?
    for line in lines.dropFirst() {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, parts[0].lowercased() == "authorization" else { continue }
      let value = parts[1].trimmingCharacters(in: .whitespaces)
      if value.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(value.dropFirst(6))),
        let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
      {
        credentials = (String(text[..<colon]), String(text[text.index(after: colon)...]))
      }
    }
    let granted = components?.path == "/token" && credentials?.0 == user && credentials?.1 == password
    seen.withLock {
      $0.append(
        Request(
          user: credentials?.0, scopes: items.filter { $0.name == "scope" }.compactMap(\.value),
          service: items.first { $0.name == "service" }?.value, granted: granted))
    }
    let body = granted ? #"{"token":"tok-\#(UUID().uuidString)","expires_in":300}"# : #"{"details":"wrong credentials"}"#
    let status = granted ? "200 OK" : "401 Unauthorized"
    let response = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    _ = response.withCString { write(fd, $0, strlen($0)) }
  }
}

extension Array where Element == UInt8 {
  fileprivate func ends(with suffix: [UInt8]) -> Bool {
    count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
  }
}
