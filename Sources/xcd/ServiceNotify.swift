import Foundation
import Glibc

/// systemd's readiness protocol (`Type=notify`): one datagram such as `READY=1` to the socket
/// named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without the
/// variable nothing is sent, so xcd started by hand or by xcsh behaves as before.
enum ServiceNotify {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Sends `state` (e.g. `READY=1`, `STOPPING=1`); a failure says which socket and why.
  static func send(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    guard let target = environment["NOTIFY_SOCKET"], !target.isEmpty else { return }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var path = Array(target.utf8)
    let abstract = path.first == UInt8(ascii: "@")
    if abstract { path[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard path.count < capacity else {
      throw Failure(description: "NOTIFY_SOCKET \(target) is longer than a socket address allows")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "NOTIFY_SOCKET: socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let sent = Array(state.utf8).withUnsafeBytes { bytes in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
        }
      }
    }
    guard sent == state.utf8.count else {
      throw Failure(description: "cannot notify \(target) (\(state)): \(String(cString: strerror(errno)))")
    }
  }
}
