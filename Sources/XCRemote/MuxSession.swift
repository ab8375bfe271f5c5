import CSupport
import Foundation
import SystemPackage
import XCIPC
import XCSystem

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The client end of a relay session: the mux protocol over one connected socket (to `ssh`,
/// or straight to a relay in tests).
///
/// Calls go one at a time on stream 0, as on a local connection. Each descriptor of a call
/// is duplicated and gets a stream of its own, pumped by a thread (a reader for inputs and
/// uploads, a writer for outputs, events and downloads) that lives as long as the stream, so
/// a container's output keeps flowing after `instantiate` returned, as it does locally. One
/// reader thread takes frames off the socket; all state is under one condition lock.
public final class MuxSession: @unchecked Sendable {
  /// The host name used in messages.
  public let host: String
  /// What the relay said about itself in the handshake (`relay`, `os`, `socket`, `pid`…).
  public let relayInfo: [String: String]
  /// The relay's capability bits from its handshake (`DescriptorKind.capability`): a call with
  /// a kind it lacks is refused here, naming the host, rather than sent to fail there.
  public let relayCapabilities: UInt32

  private let socket: Int32
  private let cond = NSCondition()
  private let writeLock = NSLock()
  private let callLock = NSLock()
  private var streams: [UInt32: Stream] = [:]
  private var nextID: UInt32 = 1
  private var answer: [UInt8] = []
  private var notice: [String: String]?
  private var forwarded = false
  private var lostReason: String?
  private var pongs: [UInt32] = []
  private var closed = false
  /// Says why the transport ended (ssh's exit status and message), asked once when it does.
  private let describeEnd: @Sendable () -> String
  /// Told when the session is lost while streams are open (no call is there to fail).
  private let announce: (@Sendable (String) -> Void)?

  /// Takes ownership of `socket`, reads the relay's hello (after `pending` bytes already read
  /// from it) and answers with ours. Throws when the relay speaks another version or cannot
  /// reach the daemon.
  public init(
    host: String, socket: Int32, pending: [UInt8] = [],
    describeEnd: @escaping @Sendable () -> String = { "the connection ended" },
    announce: (@Sendable (String) -> Void)? = nil
  ) throws(IPCError) {
    self.host = host
    self.socket = socket
    self.describeEnd = describeEnd
    self.announce = announce
    var reader = FrameReader(fd: socket, buffer: pending)
    guard let (h, payload) = reader.next() else {
      Glibc.close(socket)
      throw IPCError(.connectionClosed, "host \(host): the relay ended before its handshake: \(describeEnd())")
    }
    guard h.kind == .hello, let hello = MuxHello(payload: payload) else {
      Glibc.close(socket)
      throw IPCError(.protocolViolation, "host \(host): the relay did not start with a handshake (got \(h.kind))")
    }
    guard hello.version == UInt16(MuxHeader.version) else {
      Glibc.close(socket)
      throw IPCError(
        .protocolViolation,
        "host \(host): the relay speaks mux version \(hello.version), this xcsh speaks \(MuxHeader.version)")
    }
    relayInfo = hello.info
    relayCapabilities = hello.capabilities
    let mine = MuxHello(capabilities: DescriptorKind.allCases.reduce(0) { $0 | $1.capability })
    if let error = RemoteErrors.daemonUnreachable(host: host, info: hello.info) {
      Glibc.close(socket)
      throw error
    }
    let t = Thread { [self, reader] in self.readLoop(reader) }
    t.name = "xcsh-mux-\(host)"
    t.stackSize = 1 << 20
    do throws(IPCError) {
      try send(MuxHeader(.hello, stream: 0, length: UInt32(mine.bytes.count)), mine.bytes[...])
    } catch {
      Glibc.close(socket)
      throw error
    }
    t.start()
  }

  deinit { Glibc.close(socket) }

  /// Whether the session can still carry calls.
  public var isOpen: Bool {
    cond.lock()
    defer { cond.unlock() }
    return lostReason == nil && !closed
  }

  /// Ends the session: the relay sees EOF, closes every descriptor it made, and exits.
  public func close() {
    cond.lock()
    closed = true
    if lostReason == nil { lostReason = "the session was closed" }
    cond.broadcast()
    let all = Array(streams.values)
    cond.unlock()
    for s in all { s.wake() }
    shutdown(socket, Int32(SHUT_RDWR))
  }

  // MARK: - Calls

  /// Sends one xc request (`body` as `Envelope.encodeRequest` made it) with its descriptors
  /// and returns the daemon's answer body. When the connection is lost meanwhile, the error
  /// says whether the request had reached the daemon (the relay's ACK), so whether it may have
  /// taken effect. A `timeout` that passes closes the session (a late answer would desync it).
  public func call(
    method: String, body: [UInt8], descriptors: [RemoteDescriptor], timeout: Duration? = nil
  ) throws(IPCError) -> [UInt8] {
    // A relay built from an older relay.c (a pre-built `relay:`) lacks newer kinds: say so
    // before anything is sent, rather than let the call fail or wait there.
    if let missing = descriptors.first(where: { relayCapabilities & $0.kind.capability == 0 }) {
      throw IPCError(
        .encoding, method: method,
        "host \(host): the relay there (version \(relayInfo["relay"] ?? "?")) cannot carry \(missing.kind.carries) (kind \(missing.kind.rawValue) is not in its handshake); `\(method)` was not sent: build the relay again from this xcsh's Sources/xcsh-relay/relay.c")
    }
    callLock.lock()
    defer { callLock.unlock() }
    cond.lock()
    if let lostReason {
      cond.unlock()
      throw IPCError(
        .connectionClosed, method: method,
        "host \(host): the connection is lost (\(lostReason)); `\(method)` was not sent")
    }
    answer = []
    notice = nil
    forwarded = false
    var opened: [Stream] = []
    var paths: [(id: UInt32, path: [UInt8])] = []
    var message: [UInt8] = []
    message.appendBigEndian(UInt64(body.count))
    message.appendBigEndian(UInt64(descriptors.count))
    for d in descriptors {
      if d.kind == .path {
        // Nothing local to pump: the path is the stream's only data, sent after the request.
        paths.append((nextID, d.path ?? []))
        message += [d.kind.rawValue, 0, 0, 0]
        message.appendBigEndian(nextID)
        nextID += 2
        continue
      }
      let local: FileDescriptor
      do throws(Errno) {
        local = try d.fd.duplicateCloseOnExec()
      } catch {
        cond.unlock()
        for s in opened { Glibc.close(s.fd) }
        throw IPCError(.system, method: method, "cannot duplicate descriptor \(d.fd.rawValue): \(error)")
      }
      let s = Stream(id: nextID, kind: d.kind, fd: local.rawValue)
      nextID += 2
      opened.append(s)
      streams[s.id] = s
      message += [d.kind.rawValue, d.once ? 1 : 0, 0, 0]
      message.appendBigEndian(s.id)
    }
    // A process writes its output before its exit is told: an event of this call is written
    // here only after the call's outputs that came before it are (`deliverAfterOutputs`).
    let outputs = opened.filter { $0.kind == .output }
    for s in opened where s.kind == .event { s.outputs = outputs }
    cond.unlock()
    message += body
    do throws(IPCError) {
      var off = 0
      repeat {
        let n = min(MuxHeader.maxPayload, message.count - off)
        try send(MuxHeader(.data, stream: 0, length: UInt32(n)), message[off..<(off + n)])
        off += n
      } while off < message.count
      for p in paths {
        try send(MuxHeader(.data, flags: .fin, stream: p.id, length: UInt32(p.path.count)), p.path[...])
      }
    } catch {
      lose("cannot write to the relay: \(error.message)")
    }
    for s in opened { start(s) }
    return try awaitAnswer(method: method, downloads: opened.filter { $0.kind == .download }, timeout: timeout)
  }

  private func awaitAnswer(method: String, downloads: [Stream], timeout: Duration?) throws(IPCError) -> [UInt8] {
    let deadline = timeout.map { Date().addingTimeInterval(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
    cond.lock()
    defer { cond.unlock() }
    while true {
      if answer.count >= 16 {
        let length = Int(UInt64(bigEndianBytes: answer[0..<8]))
        if answer.count >= 16 + length {
          let body = Array(answer[16..<(16 + length)])
          answer.removeFirst(16 + length)
          // The relay answers after a download's last byte; wait until it is written here too.
          while downloads.contains(where: { !$0.done }) && lostReason == nil { cond.wait() }
          return body
        }
      }
      if let n = notice {
        notice = nil
        throw RemoteErrors.fromNotice(host: host, method: method, n)
      }
      if let lostReason {
        throw IPCError(
          .connectionClosed, method: method,
          "host \(host): connection lost during `\(method)` (\(lostReason)); "
            + (forwarded
              ? "the request had reached the daemon, so it may have taken effect"
              : "the request never reached the daemon, so it did not take effect"))
      }
      if let deadline {
        if !cond.wait(until: deadline) && Date() >= deadline {
          cond.unlock()
          close()
          cond.lock()
          throw IPCError(.timeout, method: method, "host \(host): no answer to `\(method)` in time; the session was closed")
        }
      } else {
        cond.wait()
      }
    }
  }

  /// Round-trip time of a PING through ssh and the relay.
  public func ping() throws(IPCError) -> Duration {
    let token = UInt32.random(in: 1...UInt32.max)
    let start = ContinuousClock.now
    try send(MuxHeader(.ping, stream: 0, length: token), [][...])
    cond.lock()
    defer { cond.unlock() }
    while !pongs.contains(token) {
      if let lostReason { throw IPCError(.connectionClosed, "host \(host): connection lost (\(lostReason))") }
      cond.wait()
    }
    pongs.removeAll { $0 == token }
    return ContinuousClock.now - start
  }

  /// GOAWAY's code asking the relay to also end the listener that started its session.
  static let goAwayEndListener: UInt32 = 2

  /// Asks the relay to end the listener this session came through (`host disconnect`) and to
  /// close the session, and waits up to `timeout` for its answer: true when it ended one. A
  /// session over ssh has no listener, and a relay older than this question only closes.
  public func endListener(timeout: Duration) -> Bool {
    do throws(IPCError) {
      try send(MuxHeader(.goAway, stream: 0, length: Self.goAwayEndListener), [][...])
    } catch {
      return false
    }
    let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
    cond.lock()
    defer { cond.unlock() }
    while notice?["listener"] == nil && lostReason == nil {
      if !cond.wait(until: deadline) { break }
    }
    return notice?["listener"] == "ended"
  }

  /// A local socket pair (the two descriptors), failing with an error that names the host.
  static func socketPair(host: String) throws(IPCError) -> [Int32] {
    do throws(Errno) {
      let (a, b) = try Socket.pair()
      return [a.rawValue, b.rawValue]
    } catch {
      throw IPCError(.system, "host \(host): cannot make a socket pair: \(error)")
    }
  }

  /// Connects to the UNIX socket at `path` on the remote host (a container's terminal
  /// socket) and returns a local socket carrying its bytes both ways: reading gives what the
  /// remote socket sends, EOF when it closes; writing sends, and `shutdown(SHUT_WR)` or close
  /// arrives there as EOF. The caller owns the descriptor.
  public func connect(path: String) throws(IPCError) -> Int32 {
    let pair = try Self.socketPair(host: "\(host)")
    cond.lock()
    if let lostReason {
      cond.unlock()
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      throw IPCError(.connectionClosed, "host \(host): the connection is lost (\(lostReason)); cannot connect to \(path)")
    }
    let s = Stream(id: nextID, kind: .connect, fd: pair[1])
    nextID += 2
    streams[s.id] = s
    cond.unlock()
    let bytes = Array(path.utf8)
    do throws(IPCError) {
      try send(MuxHeader(.data, flags: .syn, stream: s.id, length: UInt32(bytes.count)), bytes[...])
    } catch {
      lose("cannot write to the relay: \(error.message)")
    }
    cond.lock()
    while !s.accepted && s.refusal == nil && lostReason == nil { cond.wait() }
    let refusal = s.refusal
    let lost = s.accepted ? nil : lostReason
    if !s.accepted { streams[s.id] = nil }
    cond.unlock()
    if let refusal {
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      let reason = refusal["error"] ?? "error \(refusal["connect"] ?? "?")"
      // errno numbers differ between systems: the class says which one this is here.
      let errno: Errno? =
        switch refusal["connect_class"] {
        case "missing": .noSuchFileOrDirectory
        case "refused": .connectionRefused
        case "denied": .permissionDenied
        default: nil
        }
      throw IPCError(
        refusal["connect_class"] == "denied" ? .permissionDenied : .system,
        "host \(host): cannot connect to \(path) there: \(reason)", errno: errno)
    }
    if let lost {
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      throw IPCError(.connectionClosed, "host \(host): connection lost while connecting to \(path) (\(lost))")
    }
    start(s)
    return pair[0]
  }

  /// Whether the relay reads files for `readFile` (`read` streams): a relay built before
  /// them does not offer them in its handshake.
  public var canReadFiles: Bool { relayCapabilities & DescriptorKind.read.capability != 0 }

  /// Reads the regular file at the absolute `path` on the remote host, from byte `offset` to
  /// its end, through a `read` stream (the relay opens it read-only with its own rights). The
  /// bytes arrive within the stream's window and are kept in memory: for files of bounded size
  /// (a container's log, capped by the daemon). Throws, naming the host and the path, when the
  /// relay cannot open or read it (`errno` `.noSuchFileOrDirectory` when it is not there,
  /// `.permissionDenied`), when the relay is too old to read files, or when the session is lost.
  public func readFile(path: String, from offset: UInt64) throws(IPCError) -> RemoteFile {
    guard canReadFiles else {
      throw IPCError(
        .protocolViolation,
        "host \(host): the relay there is too old to read files (its handshake does not offer `read` streams): "
          + "build it again from this xcsh's Sources/xcsh-relay/relay.c", errno: .notSupported)
    }
    var payload: [UInt8] = [DescriptorKind.read.rawValue]
    payload.appendBigEndian(offset)
    payload += Array(path.utf8)
    guard path.hasPrefix("/"), payload.count <= MuxHeader.maxPayload else {
      throw IPCError(.encoding, "host \(host): cannot read \(path) there: not an absolute path of at most 64 KiB")
    }
    cond.lock()
    if let lostReason {
      cond.unlock()
      throw IPCError(.connectionClosed, "host \(host): the connection is lost (\(lostReason)); cannot read \(path)")
    }
    let s = Stream(id: nextID, kind: .read, fd: -1)
    nextID += 2
    streams[s.id] = s
    cond.unlock()
    do throws(IPCError) {
      try send(MuxHeader(.data, flags: .syn, stream: s.id, length: UInt32(payload.count)), payload[...])
    } catch {
      lose("cannot write to the relay: \(error.message)")
    }
    var bytes: [UInt8] = []
    var unacknowledged: UInt32 = 0
    cond.lock()
    defer {
      streams[s.id] = nil
      cond.unlock()
    }
    while true {
      if let refusal = s.refusal {
        // errno numbers differ between systems: the class says which one this is here.
        let errno: Errno? =
          switch refusal["read_class"] {
          case "missing": .noSuchFileOrDirectory
          case "denied": .permissionDenied
          default: nil
          }
        throw IPCError(
          refusal["read_class"] == "denied" ? .permissionDenied : .system,
          "host \(host): cannot read \(path) there: \(refusal["error"] ?? "error \(refusal["read"] ?? "?")")", errno: errno)
      }
      if !s.incoming.isEmpty {
        bytes += s.incoming
        unacknowledged += UInt32(s.incoming.count)
        s.incoming = []
        if unacknowledged >= MuxHeader.windowUpdateThreshold {
          let more = unacknowledged
          unacknowledged = 0
          // Not under the lock: the reader thread takes it for every frame, and the relay
          // reads our frames only while its own output moves.
          cond.unlock()
          let sent: Bool
          do throws(IPCError) {
            try send(MuxHeader(.window, stream: s.id, length: more), [][...])
            sent = true
          } catch {
            sent = false
          }
          cond.lock()
          if !sent, lostReason == nil { lostReason = "cannot write to the relay" }
        }
        continue
      }
      if s.finished, let info = s.acceptInfo {
        let number = { (key: String) in info[key].flatMap { UInt64($0) } ?? 0 }
        return RemoteFile(
          identity: RemoteFile.Identity(device: number("dev"), inode: number("ino")), size: number("size"), bytes: bytes)
      }
      if s.reset {
        throw IPCError(
          .system, "host \(host): reading \(path) there failed: \(s.resetInfo["error"] ?? "the relay aborted the stream")")
      }
      if let lostReason {
        throw IPCError(.connectionClosed, "host \(host): connection lost while reading \(path) there (\(lostReason))")
      }
      cond.wait()
    }
  }

  // MARK: - Frames

  private func send(_ h: MuxHeader, _ payload: ArraySlice<UInt8>) throws(IPCError) {
    var bytes = h.bytes
    bytes += payload
    writeLock.lock()
    defer { writeLock.unlock() }
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        throw IPCError(.connectionClosed, "host \(host): cannot write to the relay: \(String(cString: strerror(errno)))")
      }
      off += n
    }
  }

  private func lose(_ reason: String) {
    cond.lock()
    if lostReason == nil { lostReason = reason }
    cond.broadcast()
    let all = Array(streams.values)
    cond.unlock()
    for s in all { s.wake() }
  }

  private func readLoop(_ initial: FrameReader) {
    var reader = initial
    while let (h, payload) = reader.next() {
      cond.lock()
      dispatch(h, payload)
      cond.broadcast()
      cond.unlock()
    }
    cond.lock()
    let byUs = closed
    let open = streams.count
    cond.unlock()
    let reason = byUs ? "the session was closed" : describeEnd()
    lose(reason)
    if !byUs, open > 0 {
      announce?("xcsh: host \(host): connection lost (\(reason)); \(open) descriptor stream\(open == 1 ? "" : "s") cut, processes waiting on them are reported hung up\n")
    }
  }

  /// Under `cond`.
  private func dispatch(_ h: MuxHeader, _ payload: [UInt8]) {
    switch h.kind {
    case .data where h.stream == 0:
      if h.flags.contains(.ack) { forwarded = true }
      answer += payload
    case .data:
      guard let s = streams[h.stream] else { return }
      if h.flags.contains(.ack) {  // the answer to a connect's or a read's SYN
        if h.flags.contains(.rst) {
          s.refusal = MuxHello.keyValues(payload)
        } else {
          s.accepted = true
          s.acceptInfo = MuxHello.keyValues(payload)
        }
        return
      }
      if h.flags.contains(.rst) {
        // An RST's payload (a read stream's) says why, it is not stream bytes.
        s.reset = true
        if !payload.isEmpty { s.resetInfo = MuxHello.keyValues(payload) }
        s.wake()
        return
      }
      if s.incoming.isEmpty { s.incoming = payload } else { s.incoming += payload }
      s.received += UInt64(payload.count)
      // The relay sends a call's output read before an event's value ahead of it: the value
      // is written here once those bytes are.
      if s.kind == .event, !payload.isEmpty { s.due = s.outputs.map(\.received) }
      if h.flags.contains(.fin) {
        s.finished = true
        if s.kind == .process { s.wake() }
      }
      if h.flags.contains(.rst) {
        s.reset = true
        s.wake()
      }
    case .window:
      streams[h.stream]?.window += h.length
    case .ping:
      if h.flags.contains(.ack) { pongs.append(h.length) }
    case .notice:
      notice = MuxHello.keyValues(payload)
    case .goAway:
      if lostReason == nil { lostReason = "the relay closed the session (code \(h.length))" }
    case .hello:
      break
    }
  }

  // MARK: - Streams

  /// One descriptor of a call, from the local side.
  final class Stream: @unchecked Sendable {
    let id: UInt32
    let kind: DescriptorKind
    let fd: Int32
    /// What the relay still accepts (inputs, uploads).
    var window: UInt32 = MuxHeader.initialWindow
    /// Bytes from the relay not yet written locally (outputs, events, downloads).
    var incoming: [UInt8] = []
    /// Bytes that arrived on the stream, and how many of them are written locally (outputs).
    var received: UInt64 = 0
    var written: UInt64 = 0
    /// An event stream: the outputs of its call, and how many bytes each had received when
    /// the last value arrived (written locally before that value is).
    var outputs: [Stream] = []
    var due: [UInt64] = []
    var finished = false
    var reset = false
    var done = false
    /// A connect stream: the relay connected (ACK), or why it could not (ACK with RST).
    var accepted = false
    var refusal: [String: String]?
    /// A read stream: what the relay said of the file it opened (`dev`, `ino`, `size`), and
    /// why it stopped reading (an RST's key=value lines).
    var acceptInfo: [String: String]?
    var resetInfo: [String: String] = [:]
    /// Threads still pumping it: two for a connect stream (each way), else one.
    var loops: Int
    /// Wakes a sender blocked in poll on a local descriptor.
    private let wakePipe: (Int32, Int32)

    init(id: UInt32, kind: DescriptorKind, fd: Int32) {
      self.id = id
      self.kind = kind
      self.fd = fd
      loops = kind == .connect ? 2 : 1
      var p: (Int32, Int32) = (-1, -1)
      if kind == .input || kind == .upload || kind == .connect || kind == .process,
        let (r, w) = try? FileDescriptor.closeOnExecPipe()
      {
        try? r.setNonBlocking()
        try? w.setNonBlocking()
        p = (r.rawValue, w.rawValue)
      }
      wakePipe = p
    }

    deinit {
      if wakePipe.0 >= 0 { Glibc.close(wakePipe.0) }
      if wakePipe.1 >= 0 { Glibc.close(wakePipe.1) }
    }

    func wake() {
      if wakePipe.1 >= 0 { _ = try? FileDescriptor(rawValue: wakePipe.1).writeAll([1]) }
    }

    /// Waits until the local descriptor is readable or the stream is woken; true if readable.
    func awaitReadable() -> Bool {
      var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.0, events: Int16(POLLIN), revents: 0)]
      while true {
        let r = poll(&fds, wakePipe.0 >= 0 ? 2 : 1, -1)
        if r < 0 && errno == EINTR { continue }
        if r < 0 { return true }  // let read report it
        return fds[1].revents == 0
      }
    }
  }

  private func start(_ s: Stream) {
    if s.kind == .connect {
      spawn(s, "out") { self.sendLoop(s) }
      spawn(s, "in") { self.receiveLoop(s) }
    } else if s.kind == .process {
      spawn(s, "link") { self.processLoop(s) }
    } else if s.kind == .input || s.kind == .upload {
      spawn(s, "out") { self.sendLoop(s) }
    } else {
      spawn(s, "in") { self.receiveLoop(s) }
    }
  }

  private func spawn(_ s: Stream, _ way: String, _ body: @escaping @Sendable () -> Void) {
    let t = Thread(block: body)
    t.name = "xcsh-mux-stream-\(s.id)-\(way)"
    t.stackSize = 256 << 10
    t.start()
  }

  /// One pumping thread of `s` is done; the last one closes the local descriptor.
  private func retire(_ s: Stream) {
    cond.lock()
    s.loops -= 1
    let last = s.loops == 0
    cond.unlock()
    guard last else { return }
    Glibc.close(s.fd)
    cond.lock()
    s.done = true
    streams[s.id] = nil
    cond.broadcast()
    cond.unlock()
  }

  /// Local descriptor → relay, within the window; EOF becomes FIN.
  private func sendLoop(_ s: Stream) {
    var chunk = [UInt8](repeating: 0, count: MuxHeader.maxPayload)
    defer { retire(s) }
    while true {
      cond.lock()
      while s.window == 0 && !s.reset && lostReason == nil { cond.wait() }
      let stop = s.reset || lostReason != nil
      let want = Int(min(s.window, UInt32(MuxHeader.maxPayload)))
      cond.unlock()
      if stop || !s.awaitReadable() { return }
      let n: Int
      do {
        n = try chunk.withUnsafeMutableBytes { try FileDescriptor(rawValue: s.fd).read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
      } catch Errno.resourceTemporarilyUnavailable {
        continue
      } catch {
        n = -1
      }
      if n <= 0 {
        try? send(MuxHeader(.data, flags: .fin, stream: s.id, length: 0), [][...])
        return
      }
      cond.lock()
      s.window -= UInt32(n)
      cond.unlock()
      do throws(IPCError) {
        try send(MuxHeader(.data, stream: s.id, length: UInt32(n)), chunk[0..<n])
      } catch {
        return
      }
    }
  }

  /// A process handle: whichever process ends first ends the other. The local one ending (its
  /// pidfd reads) is a FIN to the relay, which kills its child there; the child there ending
  /// (the daemon killed it: the linked container is gone) or the session ending kills the
  /// local one, so whoever waits on its handle (`link --wait`) sees the link end.
  private func processLoop(_ s: Stream) {
    defer { retire(s) }
    if s.awaitReadable() {
      try? send(MuxHeader(.data, flags: .fin, stream: s.id, length: 0), [][...])
      return
    }
    _ = cs_pidfd_send_signal(s.fd, SIGKILL)
  }

  /// Under `cond`. Waits until the outputs of an event's call have written here what arrived
  /// before its value: a process's exit told before its last output is written would let the
  /// shell go on (or end) with that output still in flight, printed later or never. Locally the
  /// process writes its output itself before it exits. An output that ends or fails, or a lost
  /// session, does not hold the value back.
  private func deliverAfterOutputs(_ s: Stream) {
    let due = s.due
    while lostReason == nil,
      zip(s.outputs, due).contains(where: { o, mark in o.written < mark && !o.done && !o.reset })
    {
      cond.wait()
    }
  }

  /// Relay → local descriptor; gives the window back as bytes are written. An event stream
  /// writes each 8-byte value to the local eventfd.
  private func receiveLoop(_ s: Stream) {
    defer { retire(s) }
    var signalled = false
    var unacknowledged: UInt32 = 0
    while true {
      cond.lock()
      while s.incoming.isEmpty && !s.finished && !s.reset && lostReason == nil { cond.wait() }
      var bytes = s.incoming
      s.incoming = []
      let end = bytes.isEmpty
      if !end && s.kind == .event { deliverAfterOutputs(s) }
      let lost = lostReason != nil && !closed
      cond.unlock()
      if end {
        // A connect stream's remote end said EOF: so does ours, for reading (writing goes on).
        if s.kind == .connect { shutdown(s.fd, Int32(SHUT_WR)) }
        if s.kind == .event && !signalled && lost {
          // The value will never come: a process waiting here would wait forever. Report it
          // hung up (signal 1), as a process whose connection went away; the real status is
          // on the host.
          try? EventFD(rawValue: s.fd).write(ProcessNotification.exitFlag | UInt64(SIGHUP))
        }
        return
      }
      if s.kind == .event {
        signalled = true
        // Values arrive big-endian; eventfd takes a native counter.
        while bytes.count >= 8 {
          let v = UInt64(bigEndianBytes: bytes[0..<8])
          bytes.removeFirst(8)
          try? EventFD(rawValue: s.fd).write(v)
        }
        continue
      }
      do {
        _ = try FileDescriptor(rawValue: s.fd).writeAll(bytes)
      } catch {
        // Nobody reads here any more: the writers there get EPIPE, as they would locally.
        try? send(MuxHeader(.data, flags: .rst, stream: s.id, length: 0), [][...])
        return
      }
      cond.lock()
      s.written += UInt64(bytes.count)
      cond.broadcast()
      cond.unlock()
      unacknowledged += UInt32(bytes.count)
      if unacknowledged >= MuxHeader.windowUpdateThreshold {
        try? send(MuxHeader(.window, stream: s.id, length: unacknowledged), [][...])
        unacknowledged = 0
      }
    }
  }
}

/// Reads whole mux frames from a blocking descriptor.
struct FrameReader: @unchecked Sendable {
  let fd: Int32
  var buffer: [UInt8]
  /// Where the unread bytes of `buffer` start (consumed bytes are dropped in bulk, not per frame).
  var start = 0
  /// One read's worth, reused.
  private var chunk = [UInt8](repeating: 0, count: 128 << 10)

  init(fd: Int32, buffer: [UInt8]) {
    self.fd = fd
    self.buffer = buffer
  }

  /// The next frame, or nil at EOF, on an error, or on a frame this side does not speak.
  mutating func next() -> (MuxHeader, [UInt8])? {
    while true {
      if buffer.count - start >= MuxHeader.size {
        guard let h = MuxHeader(decoding: buffer[start..<(start + MuxHeader.size)]) else { return nil }
        let n = h.hasPayload ? Int(h.length) : 0
        if n > MuxHeader.maxPayload { return nil }
        if buffer.count - start >= MuxHeader.size + n {
          let payload = Array(buffer[(start + MuxHeader.size)..<(start + MuxHeader.size + n)])
          start += MuxHeader.size + n
          return (h, payload)
        }
      }
      if start > 0 {
        buffer.removeFirst(start)
        start = 0
      }
      guard let r = try? chunk.withUnsafeMutableBytes({ try FileDescriptor(rawValue: fd).read(into: $0) }), r > 0 else {
        return nil
      }
      buffer.append(contentsOf: chunk[0..<r])
    }
  }
}
