import Foundation
import Glibc
import SystemPackage
import XCSystem

/// A client of a terminal socket (spec §3.5), as `xc attach` is: raw bytes both ways.
final class TerminalClient {
  let socket: Socket
  /// Everything read so far.
  private(set) var output: [UInt8] = []

  init(path: String) throws {
    socket = try Socket.connect(toUnixPath: path)
  }

  var text: String { String(decoding: output, as: UTF8.self) }

  func write(_ s: String) throws {
    _ = try socket.fileDescriptor.writeAll(Array(s.utf8))
  }

  /// Reads until the output contains `needle`, failing at EOF or after `seconds`.
  @discardableResult
  func read(until needle: String, seconds: Int32 = 30) throws -> String {
    let deadline = Date().addingTimeInterval(Double(seconds))
    while !text.contains(needle) {
      guard try readSome(deadline: deadline) else {
        throw TestFailure("terminal closed before \(needle.debugDescription); read: \(text.debugDescription)")
      }
    }
    return text
  }

  /// Reads until the daemon closes the socket (the pty closed), failing after `seconds`.
  func readToEOF(seconds: Int32 = 30) throws {
    let deadline = Date().addingTimeInterval(Double(seconds))
    while try readSome(deadline: deadline) {}
  }

  /// One read; false at EOF.
  private func readSome(deadline: Date) throws -> Bool {
    let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
    guard try socket.waitReadable(milliseconds: left) else {
      throw TestFailure("nothing from the terminal socket in time; read: \(text.debugDescription)")
    }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = try buffer.withUnsafeMutableBytes { try socket.fileDescriptor.read(into: $0) }
    output += buffer[0..<n]
    return n > 0
  }

  deinit { try? socket.close() }
}
