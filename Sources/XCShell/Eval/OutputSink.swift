import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Buffered standard output and unbuffered diagnostics, shared by every command of a session.
public final class OutputSink: @unchecked Sendable {
  private let lock = NSLock()
  private var buffer: [UInt8] = []
  private let fd: Int32
  /// Flush after every write (a terminal wants to see output as it happens).
  public var lineBuffered: Bool
  public var renderer: DiagnosticRenderer

  public init(fd: Int32 = 1, lineBuffered: Bool, renderer: DiagnosticRenderer = DiagnosticRenderer()) {
    self.fd = fd
    self.lineBuffered = lineBuffered
    self.renderer = renderer
    buffer.reserveCapacity(1 << 16)
  }

  public func write(_ s: String) {
    lock.lock()
    buffer.append(contentsOf: s.utf8)
    let flushNow = lineBuffered || buffer.count >= 1 << 16
    lock.unlock()
    if flushNow { flush() }
  }

  public func write(_ bytes: [UInt8]) {
    lock.lock()
    buffer.append(contentsOf: bytes)
    let flushNow = lineBuffered || buffer.count >= 1 << 16
    lock.unlock()
    if flushNow { flush() }
  }

  public func flush() {
    lock.lock()
    defer { lock.unlock() }
    var off = 0
    while off < buffer.count {
      let n = buffer[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        break  // EPIPE: the reader went away; drop the output
      }
      off += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes a line to standard error, after flushing standard output so the two stay in order.
  public func writeError(_ s: String) {
    flush()
    var bytes = Array(s.utf8)
    var off = 0
    while off < bytes.count {
      let n = bytes[off...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
      if n <= 0 {
        if n < 0 && errno == EINTR { continue }
        break
      }
      off += n
    }
    bytes.removeAll()
  }

  public func reportError(_ e: ShellError, prefix: String = "") {
    var text = renderer.render(e)
    if !prefix.isEmpty, text.hasPrefix("error") {
      text = text.replacingOccurrences(of: "error: ", with: "error: \(prefix)", options: .anchored)
    }
    writeError(text)
  }
}
