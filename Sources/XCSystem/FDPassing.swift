import SystemPackage

/// What one `Socket.receive(into:maxDescriptors:)` call brought in.
public struct ReceivedChunk: Sendable {
  /// Bytes stored in the buffer; 0 means the peer closed its end.
  public var byteCount: Int
  /// Descriptors that arrived with those bytes, in kernel order. The caller owns them.
  public var descriptors: [FileDescriptor]
  /// The kernel dropped control data (`MSG_CTRUNC`): descriptors were lost, so the stream can
  /// no longer be trusted.
  public var truncated: Bool
}

extension Socket {
  /// The most descriptors one `sendmsg` may carry on Linux (`SCM_MAX_FD`).
  public static let kernelMaxDescriptors = 253

  /// Sends some of `bytes`, with `descriptors` attached as one `SCM_RIGHTS` message (none when
  /// empty). Returns how many bytes the kernel took; the descriptors travel with the first of
  /// them. Never raises SIGPIPE (`MSG_NOSIGNAL`); a closed peer gives `EPIPE`.
  /// The corresponding C function is `sendmsg`.
  public func send(
    _ bytes: UnsafeRawBufferPointer, passing descriptors: [FileDescriptor] = []
  ) throws(Errno) -> Int {
    if descriptors.isEmpty {
      return try valueOrErrno {
        system_send(rawValue, bytes.baseAddress, bytes.count, SysConst.msgNoSignal)
      }
    }
    guard descriptors.count <= Socket.kernelMaxDescriptors else { throw Errno.invalidArgument }
    let raw = descriptors.map(\.rawValue)
    return try raw.withUnsafeBufferPointer { (fds) throws(Errno) -> Int in
      try valueOrErrno {
        system_send_with_fds(
          rawValue, bytes.baseAddress, bytes.count, fds.baseAddress, fds.count,
          SysConst.msgNoSignal)
      }
    }
  }

  /// Sends all of `bytes`, attaching `descriptors` to the first `sendmsg` and writing any
  /// remainder with plain sends (partial writes are expected for large bodies).
  public func sendAll(
    _ bytes: UnsafeRawBufferPointer, passing descriptors: [FileDescriptor] = []
  ) throws(Errno) {
    var offset = 0
    var pending = descriptors
    // An empty body can still carry descriptors only with at least one byte; callers that
    // pass fds always send a non-empty body (a JSON document).
    repeat {
      let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
      let n = try send(rest, passing: pending)
      pending = []
      offset += n
    } while offset < bytes.count
  }

  /// Sends all of `first` then all of `second` (a header and a body, say) without copying them
  /// into one buffer: one `sendmsg` with two iovecs, then plain sends for whatever the kernel
  /// did not take. Never raises SIGPIPE. The corresponding C function is `sendmsg`.
  public func sendAll(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer)
    throws(Errno)
  {
    let n = try valueOrErrno {
      system_send_two(
        rawValue, first.baseAddress, first.count, second.baseAddress, second.count,
        SysConst.msgNoSignal)
    }
    if n < first.count {
      try sendAll(UnsafeRawBufferPointer(rebasing: first[n...]))
      try sendAll(second)
    } else if n - first.count < second.count {
      try sendAll(UnsafeRawBufferPointer(rebasing: second[(n - first.count)...]))
    }
  }

  /// Receives up to `buffer.count` bytes and up to `maxDescriptors` descriptors, with
  /// close-on-exec set on them (`MSG_CMSG_CLOEXEC`). Descriptors beyond `maxDescriptors` are
  /// closed and reported as `truncated`. The corresponding C function is `recvmsg`.
  public func receive(
    into buffer: UnsafeMutableRawBufferPointer, maxDescriptors: Int = 64
  ) throws(Errno) -> ReceivedChunk {
    let cap = min(max(maxDescriptors, 0), Socket.kernelMaxDescriptors)
    return try withUnsafeTemporaryAllocation(of: CInt.self, capacity: max(cap, 1)) {
      (fds) throws(Errno) -> ReceivedChunk in
      var nfds = 0
      var ctrunc: CInt = 0
      let n = try valueOrErrno {
        system_recv_with_fds(
          rawValue, buffer.baseAddress, buffer.count, fds.baseAddress, cap, &nfds, &ctrunc,
          SysConst.msgCmsgCloexec)
      }
      var received: [FileDescriptor] = []
      if nfds > 0 {
        received.reserveCapacity(nfds)
        for i in 0..<nfds { received.append(FileDescriptor(rawValue: fds[i])) }
      }
      return ReceivedChunk(byteCount: n, descriptors: received, truncated: ctrunc != 0)
    }
  }
}
