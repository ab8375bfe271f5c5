import SystemPackage
import XCSystem

/// Sends and receives frames on a connected socket (spec section 1.2).
///
/// Sending: without descriptors, header and body go out in one `send` (the byte stream is
/// identical, one syscall fewer). With descriptors, the header goes first with no ancillary
/// data and the body follows with all descriptors in one `SCM_RIGHTS` message, as xc does, so
/// a receiver that reads the header with a plain `read` loses nothing. Partial writes are
/// completed with plain sends.
///
/// Receiving: every read is a `recvmsg` with room for descriptors and `MSG_CMSG_CLOEXEC`, so
/// no descriptor is dropped however the kernel splits the stream, and reads loop until the
/// frame is complete (xc's single `read` of the header is not relied on). Descriptors queue
/// in arrival order; a frame takes as many as its header announces. Headers are validated
/// against `FrameLimits` before any allocation, and a frame whose descriptors do not match its
/// header is rejected. Any error leaves the channel unusable: close it.
///
/// Not thread-safe: one thread owns a channel at a time.
public final class FrameChannel {
  /// The socket (owned by the channel; closed by `close()`).
  public let socket: Socket
  /// Caps applied to incoming frames.
  public let limits: FrameLimits
  private var buffer: [UInt8]
  private var start = 0
  private var end = 0
  private var queued: [FileDescriptor] = []
  private var closed = false

  /// Takes ownership of a connected socket.
  public init(socket: Socket, limits: FrameLimits = .default) {
    self.socket = socket
    self.limits = limits
    self.buffer = [UInt8](repeating: 0, count: FrameChannel.initialCapacity)
  }

  deinit { close() }

  static let initialCapacity = 16 << 10
  static let retainedCapacity = 1 << 20

  /// Closes the socket and any descriptors received but not yet handed out.
  public func close() {
    if closed { return }
    closed = true
    for fd in queued { try? fd.close() }
    queued = []
    try? socket.close()
  }

  // MARK: - Sending

  /// Sends one frame. Fails before writing anything if there are more descriptors than the
  /// limit (xc checks only after writing the header).
  public func send(body: [UInt8], descriptors: [FileDescriptor] = []) throws(IPCError) {
    guard descriptors.count <= limits.maxDescriptors else {
      throw IPCError(
        .encoding,
        "\(descriptors.count) descriptors exceed the limit of \(limits.maxDescriptors) per message")
    }
    let header = FrameHeader(
      bodyLength: UInt64(body.count), descriptorCount: UInt64(descriptors.count))
    do throws(Errno) {
      if descriptors.isEmpty {
        try sendHeaderAndBody(header, body)
      } else {
        guard !body.isEmpty else {
          throw Errno.invalidArgument  // descriptors need at least one body byte to ride on
        }
        try sendBytes(header.bytes, passing: [])
        try sendBytes(body, passing: descriptors)
      }
    } catch {
      throw FrameChannel.mapSendError(error)
    }
  }

  /// `withUnsafeBytes` only rethrows untyped errors, so the `Errno` is carried out by hand.
  private func sendBytes(_ bytes: [UInt8], passing fds: [FileDescriptor]) throws(Errno) {
    var failure: Errno?
    bytes.withUnsafeBytes { p in
      do throws(Errno) { try socket.sendAll(p, passing: fds) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Header and body in one syscall, without concatenating them first.
  private func sendHeaderAndBody(_ header: FrameHeader, _ body: [UInt8]) throws(Errno) {
    var failure: Errno?
    header.withBytes { h in
      body.withUnsafeBytes { b in
        do throws(Errno) { try socket.sendAll(h, b) } catch { failure = error }
      }
    }
    if let failure { throw failure }
  }

  static func mapSendError(_ e: Errno) -> IPCError {
    switch e {
    case .brokenPipe, .connectionReset, .socketNotConnected:
      IPCError(.connectionClosed, "the peer closed the connection", errno: e)
    case .resourceTemporarilyUnavailable:
      IPCError(.timeout, "timed out sending", errno: e)
    default:
      IPCError(.system, "send failed: \(e)", errno: e)
    }
  }

  // MARK: - Receiving

  /// Receives one frame; nil when the peer closed the connection cleanly between frames.
  public func receive() throws(IPCError) -> Frame? {
    var decoded: FrameDecoder.Decoded
    while true {
      switch try FrameDecoder.decode(buffer[start..<end], limits: limits) {
      case .frame(let d):
        decoded = d
      case .needMore(let total):
        if try fill(wanting: total) { continue }
        if end == start && queued.isEmpty { return nil }
        throw IPCError(
          .connectionClosed,
          "the peer closed the connection in the middle of a frame (\(end - start) of \(total) bytes)"
        )
      }
      break
    }
    let header = decoded.header
    let total = decoded.consumed
    let n = Int(header.descriptorCount)
    guard queued.count >= n else {
      throw IPCError(
        .protocolViolation,
        "frame announces \(n) descriptors but \(queued.count) arrived")
    }
    let body = Array(buffer[(start + FrameHeader.size)..<(start + total)])
    let fds = Array(queued.prefix(n))
    queued.removeFirst(n)
    start += total
    if start == end {
      start = 0
      end = 0
      // Give back the memory of an unusually large frame once it has been consumed.
      if buffer.count > FrameChannel.retainedCapacity {
        buffer = [UInt8](repeating: 0, count: FrameChannel.initialCapacity)
      }
      // Descriptors left over with no bytes left to belong to: the sender attached more than
      // it announced (xc sees MSG_CTRUNC and drops the connection).
      if !queued.isEmpty {
        let extra = queued.count
        for fd in fds { try? fd.close() }
        throw IPCError(
          .protocolViolation, "frame announces \(n) descriptors but \(n + extra) arrived")
      }
    }
    return Frame(body: body, descriptors: fds.isEmpty ? .none : ReceivedDescriptors(fds))
  }

  /// Whether bytes of a next frame are already buffered (no syscall needed to start it).
  public var hasBufferedInput: Bool { end > start }

  /// Reads more bytes (and descriptors) into the buffer. Returns false at EOF.
  private func fill(wanting total: Int) throws(IPCError) -> Bool {
    if closed { throw IPCError(.connectionClosed, "the connection is closed") }
    // Make room for the whole frame from `start`: slide unread bytes to the front, then grow
    // to exactly the frame's size (the header was validated against the cap already).
    if start > 0 && (buffer.count - start < total || end == buffer.count) {
      let (from, count) = (start, end - start)
      buffer.withUnsafeMutableBytes { p in
        p.baseAddress!.copyMemory(from: p.baseAddress! + from, byteCount: count)
      }
      end = count
      start = 0
    }
    if buffer.count < total {
      buffer.append(contentsOf: repeatElement(0, count: total - buffer.count))
    }
    var result: Result<ReceivedChunk, Errno> = .failure(.ioError)
    let e = end
    let sock = socket
    let maxFDs = limits.maxDescriptors
    buffer.withUnsafeMutableBytes { p in
      do throws(Errno) {
        result = .success(
          try sock.receive(
            into: UnsafeMutableRawBufferPointer(rebasing: p[e...]), maxDescriptors: maxFDs))
      } catch {
        result = .failure(error)
      }
    }
    let chunk: ReceivedChunk
    switch result {
    case .success(let c): chunk = c
    case .failure(let error):
      switch error {
      case .resourceTemporarilyUnavailable:
        throw IPCError(.timeout, "timed out waiting for the answer", errno: error)
      case .connectionReset:
        return false
      default:
        throw IPCError(.system, "receive failed: \(error)", errno: error)
      }
    }
    queued.append(contentsOf: chunk.descriptors)
    if chunk.truncated {
      throw IPCError(.protocolViolation, "descriptors were truncated (more than announced)")
    }
    if queued.count > 2 * limits.maxDescriptors {
      throw IPCError(.protocolViolation, "too many descriptors queued")
    }
    end += chunk.byteCount
    return chunk.byteCount > 0
  }
}
