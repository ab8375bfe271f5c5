import CSupport
import Foundation
import Glibc

/// Carries one layer's bytes, as they are downloaded, to the unpacker on another thread:
/// through a socket pair, and through `gzip -dc` or `zstd -dc` when the first bytes say the
/// layer is compressed. Downloading and unpacking then overlap instead of running one after
/// the other.
///
/// The downloading side calls `write` and then `finishInput` (always, on success or not);
/// the unpacking side calls `waitSource`, reads the descriptor to its end, then
/// `finishOutput`.
final class LayerFeed: @unchecked Sendable {
  private let condition = NSCondition()
  private var source: CInt = -1
  private var started = false
  private var inputEnded = false
  /// The first bytes, held until there are enough to recognise a compression.
  private var head: [UInt8] = []
  private var writeFD: CInt = -1
  private var decompressor: (pid: pid_t, tool: String, errFile: String)?
  private let scratch: String

  /// - Parameter scratch: a directory for the decompressor's error output.
  init(scratch: String) {
    self.scratch = scratch
  }

  /// Passes downloaded bytes on; blocks while the unpacker is behind. Throws when the
  /// unpacking side has gone (its error is reported by the unpacking side).
  func write(_ bytes: UnsafeRawBufferPointer) throws {
    if !started {
      head.append(contentsOf: bytes)
      if head.count < 4 { return }
      try start()
      let pending = head
      head = []
      try pending.withUnsafeBytes { try send($0) }
      return
    }
    try send(bytes)
  }

  /// The download ended: whatever was held is passed on and the stream is closed, so the
  /// unpacker sees its end.
  func finishInput() {
    if !started && !head.isEmpty {
      if (try? start()) != nil {
        let pending = head
        _ = try? pending.withUnsafeBytes { try send($0) }
      }
    }
    head = []
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

  /// Closes the unpacker's end and waits for the decompressor; throws if it failed.
  func finishOutput(check: Bool) throws {
    closeQuietly(source)
    source = -1
    guard let d = decompressor else { return }
    decompressor = nil
    defer { unlink(d.errFile) }
    let status = try Subprocess.wait(d.pid)
    guard check, WaitStatus.exitCode(status) != 0 else { return }
    let detail = (try? FileSystem.readString(d.errFile)) ?? ""
    throw EngineError(.badArchive, "\(d.tool) failed to decompress a layer", errno: EINVAL, detail: detail)
  }

  /// Chooses the path from the magic bytes and hands the reading end to the unpacker.
  private func start() throws {
    var pair: [CInt] = [-1, -1]
    try sysCall("socketpair") {
      socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &pair)
    }
    var reader = pair[1]
    writeFD = pair[0]
    let tool: String?
    if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b {
      tool = ImageStore.tool("gzip")
    } else if head.count >= 4 && Array(head[0..<4]) == [0x28, 0xb5, 0x2f, 0xfd] {
      tool = ImageStore.tool("zstd")
    } else {
      tool = nil
    }
    if let tool {
      var out: [CInt] = [-1, -1]
      let errFile = scratch + "/decompress-\(UUID().uuidString.prefix(8)).err"
      do {
        try sysCall("pipe") { cs_pipe_cloexec(&out) }
        let errFD = try sysCall("create \(errFile)") {
          open(errFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        }
        defer { closeQuietly(errFD) }
        let pid = try Subprocess.spawn([tool, "-dc"], stdin: reader, stdout: out[1], stderr: errFD)
        decompressor = (pid, tool, errFile)
      } catch {
        out.forEach(closeQuietly)
        closeQuietly(reader)
        closeQuietly(writeFD)
        writeFD = -1
        throw EngineError(
          .system, "cannot run \(tool) to decompress a layer",
          help: "install it (apt-get install \(tool.hasSuffix("zstd") ? "zstd" : "gzip"))", errno: EIO)
      }
      closeQuietly(out[1])
      closeQuietly(reader)
      reader = out[0]
    }
    condition.lock()
    source = reader
    started = true
    condition.broadcast()
    condition.unlock()
  }

  private func send(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.send(writeFD, bytes.baseAddress! + offset, bytes.count - offset, CInt(MSG_NOSIGNAL))
      if n < 0 {
        if errno == EINTR { continue }
        throw EngineError.system("pass a layer to the unpacker", errno)
      }
      offset += n
    }
  }
}
