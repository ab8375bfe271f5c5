import CGzip
import CSupport
import Foundation
import Glibc
import XCSystem

/// Carries one layer's bytes, as they are downloaded, to the unpacker on another thread
/// over a socket pair, decompressing on the way: gzip in process with zlib, zstd through
/// `zstd -dc`, plain tar as is (told apart by the first bytes, as imports do). Downloading
/// and unpacking then overlap instead of running one after the other.
///
/// The downloading side calls `write` and then `finishInput` (always, on success or not);
/// the unpacking side calls `waitSource`, reads the descriptor to its end, then
/// `finishOutput`.
final class LayerFeed: @unchecked Sendable {
  private enum Path {
    case plain
    case gzip(OpaquePointer)
    case zstd(pid: pid_t, tool: String, errFile: String)
  }

  private let condition = NSCondition()
  private var path: Path = .plain
  private var source: CInt = -1
  private var started = false
  private var inputEnded = false
  private var inputClosed = false
  /// The first bytes, held until there are enough to recognise a compression.
  private var head: [UInt8] = []
  /// Where the downloading side writes: the unpacker's socket, or zstd's input.
  private var writeFD: CInt = -1
  /// A gzip stream that ended early or was corrupt.
  private var inputError: EngineError?
  private let scratch: String

  /// - Parameter scratch: a directory for the decompressor's error output.
  init(scratch: String) {
    self.scratch = scratch
  }

  deinit {
    if case .gzip(let z) = path { cs_gunzip_free(z) }
  }

  /// Passes downloaded bytes on; blocks while the unpacker is behind. Throws when the
  /// unpacking side has gone (its error is reported by the unpacking side) or the data is
  /// not valid gzip.
  func write(_ bytes: UnsafeRawBufferPointer) throws {
    if !started {
      head.append(contentsOf: bytes)
      if head.count < 4 { return }
      try start()
      let pending = head
      head = []
      try pending.withUnsafeBytes { try deliver($0) }
      return
    }
    try deliver(bytes)
  }

  /// A gzip stream that was corrupt or ended early (reported after the blob's digest).
  var decompressError: EngineError? { inputError }

  /// The download ended (or the feeding stopped): whatever was held is passed on and the
  /// stream is closed, so the unpacker sees its end. Only the first call does anything.
  func finishInput() {
    if inputClosed { return }
    inputClosed = true
    if !started && !head.isEmpty, (try? start()) != nil {
      let pending = head
      do {
        try pending.withUnsafeBytes { try deliver($0) }
      } catch {
        inputError = error as? EngineError
      }
    }
    head = []
    // Decompressed output still buffered goes out before the stream closes (an unpacker
    // that has gone makes this fail; its own error is the one reported).
    if case .gzip(let z) = path, inputError == nil { _ = cs_gunzip_flush(z, writeFD) }
    if case .gzip(let z) = path, inputError == nil, cs_gunzip_finish(z) != 0 {
      inputError = EngineError(
        .badArchive, "the layer is not valid gzip", errno: .invalidArgument,
        detail: String(cString: cs_gunzip_error(z)))
    }
    closeQuietly(writeFD)
    writeFD = -1
    condition.lock()
    inputEnded = true
    condition.broadcast()
    condition.unlock()
  }

  /// The descriptor holding the layer's tar stream, once the first bytes have arrived; nil
  /// when the download ended without any.
  func waitSource() -> CInt? {
    condition.lock()
    defer { condition.unlock() }
    while !started && !inputEnded { condition.wait() }
    return started ? source : nil
  }

  /// Closes the unpacker's end and checks the decompression; with `check` false (the
  /// unpacker already failed) only cleans up.
  func finishOutput(check: Bool) throws {
    closeQuietly(source)
    source = -1
    switch path {
    case .plain:
      break
    case .gzip:
      break  // its errors are `decompressError`
    case .zstd(let pid, let tool, let errFile):
      defer { unlink(errFile) }
      let status = try Subprocess.wait(pid)
      path = .plain
      guard check, WaitStatus(rawValue: status).exitCode != 0 else { return }
      let detail = (try? FileSystem.readString(errFile)) ?? ""
      throw EngineError(.badArchive, "\(tool) failed to decompress a layer", errno: .invalidArgument, detail: detail)
    }
  }

  /// Chooses the path from the magic bytes and hands the reading end to the unpacker.
  private func start() throws {
    let (toUnpacker, unpackerEnd) = try Self.socketPair()
    var reader = unpackerEnd
    writeFD = toUnpacker
    if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b {
      guard let z = cs_gunzip_new() else {
        closeQuietly(toUnpacker)
        closeQuietly(unpackerEnd)
        writeFD = -1
        throw EngineError(.system, "cannot start gzip decompression (out of memory)", errno: .noMemory)
      }
      path = .gzip(z)
    } else if head.count >= 4 && Array(head[0..<4]) == [0x28, 0xb5, 0x2f, 0xfd] {
      // zstd(1) reads a socket whose other end we write; its output goes to the unpacker.
      let tool = ImageStore.tool("zstd")
      let errFile = scratch + "/decompress-\(UUID().uuidString.prefix(8)).err"
      var input: (CInt, CInt) = (-1, -1)
      do {
        input = try Self.socketPair()
        let errFD = try sysCall("create \(errFile)") {
          open(errFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        }
        defer { closeQuietly(errFD) }
        let pid = try Subprocess.spawn([tool, "-dc"], stdin: input.1, stdout: toUnpacker, stderr: errFD)
        path = .zstd(pid: pid, tool: tool, errFile: errFile)
      } catch {
        [input.0, input.1, toUnpacker, unpackerEnd].forEach(closeQuietly)
        writeFD = -1
        throw EngineError(
          .system, "cannot run \(tool) to decompress a layer", help: "install it (apt-get install zstd)",
          errno: .ioError)
      }
      closeQuietly(input.1)
      closeQuietly(toUnpacker)
      writeFD = input.0
      reader = unpackerEnd
    }
    condition.lock()
    source = reader
    started = true
    condition.broadcast()
    condition.unlock()
  }

  private func deliver(_ bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count > 0 else { return }
    if case .gzip(let z) = path {
      let data = bytes.bindMemory(to: UInt8.self)
      if cs_gunzip_feed(z, data.baseAddress, data.count, writeFD) != 0 {
        let error = EngineError(
          .badArchive, "cannot decompress the layer", errno: .invalidArgument, detail: String(cString: cs_gunzip_error(z)))
        inputError = error
        throw error
      }
      return
    }
    try Self.send(writeFD, bytes)
  }

  static func socketPair() throws -> (CInt, CInt) {
    let sockets = try engineIO("socketpair") { try Socket.pair() }
    let pair = [sockets.0.rawValue, sockets.1.rawValue]
    // Large buffers let each side run in long bursts: on a busy machine every hand-off
    // between the downloading and the unpacking thread costs a scheduling delay.
    var size: CInt = 4 << 20
    for fd in pair {
      for (force, plain) in [(SO_SNDBUFFORCE, SO_SNDBUF), (SO_RCVBUFFORCE, SO_RCVBUF)] {
        if setsockopt(fd, SOL_SOCKET, force, &size, socklen_t(MemoryLayout<CInt>.size)) != 0 {
          _ = setsockopt(fd, SOL_SOCKET, plain, &size, socklen_t(MemoryLayout<CInt>.size))
        }
      }
    }
    return (pair[0], pair[1])
  }

  /// Writes everything, without SIGPIPE when the reader has gone (EPIPE is thrown).
  static func send(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, CInt(MSG_NOSIGNAL))
      if n < 0 {
        if errno == EINTR { continue }
        throw EngineError.system("pass a layer to the unpacker")
      }
      offset += n
    }
  }
}
