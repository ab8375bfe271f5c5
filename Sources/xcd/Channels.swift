import Foundation
import Synchronization
import XCIPC

/// The extra listening sockets made with `create_channel` (spec §2.1): each serves the whole
/// method table under the same peer policy and socket mode as the main socket, and is closed
/// and removed when the daemon stops.
///
/// xc panics (dropping the connection) on any failure here; this answers errno 22 naming the
/// field instead, and never replaces a file that is not a socket or a live daemon's socket.
final class Channels: Sendable {
  /// Makes a started server on a path: set by the daemon once its table and policy exist.
  typealias Factory = @Sendable (String) throws -> XCServer

  private let servers = Mutex<[String: XCServer]>([:])
  private let factory = Mutex<Factory?>(nil)

  func install(_ make: @escaping Factory) { factory.withLock { $0 = make } }

  /// Starts serving on `path`; a path already served by a channel is left as it is.
  func open(_ path: String) throws {
    guard path.hasPrefix("/") else {
      throw XCDaemonError.invalid("create_channel: socket_path must be absolute, found `\(path)`")
    }
    guard path.utf8.count < 108, !path.contains("\0") else {
      throw XCDaemonError.invalid("create_channel: socket_path is longer than a UNIX socket path may be")
    }
    let dir = (path as NSString).deletingLastPathComponent
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
      throw XCDaemonError.invalid("create_channel: socket_path's directory \(dir) does not exist")
    }
    try servers.withLock { servers in
      if servers[path] != nil { return }
      guard let make = factory.withLock({ $0 }) else {
        throw XCDaemonError.invalid("create_channel: the daemon is not serving yet")
      }
      servers[path] = try make(path)
    }
  }

  /// Clients connected through the channels (the idle exit waits for none).
  var connectionCount: Int { servers.withLock { $0.values.reduce(0) { $0 + $1.connectionCount } } }

  /// Stops every channel and removes its socket.
  func closeAll() {
    let all = servers.withLock { s in
      defer { s.removeAll() }
      return Array(s.values)
    }
    for server in all { server.stop() }
  }
}
