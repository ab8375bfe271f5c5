import Glibc
import XCIPC
import XCRemote
import XCShell

/// The log file `logs --follow` reads as it grows: here by descriptor, or on a remote host by
/// path and offset through the relay.
protocol FollowedLogFile: AnyObject {
  /// Bytes written since the last read (the file's start at first; empty when nothing new).
  /// `fresh` when they begin another file than the last bytes came from (a trimmed log's new
  /// file at the path), so a record cut at the end of the last read does not go on in them.
  func read() throws -> (bytes: [UInt8], fresh: Bool)

  /// Goes on with the file at `path` (the daemon moved the log when the container ended, or a
  /// trim put a new file there); whether that is known to be another file, read from its start.
  func follow(_ path: String) -> Bool
}

/// A log file on this machine, followed by descriptor: the daemon's rename (to `ended/<id>/`)
/// keeps it the same file; a trim's new file at the path is seen by its inode.
final class LocalFollowedLog: FollowedLogFile {
  private var fd: CInt
  private var inode: ino_t

  init(path: String, at span: Span) throws {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ShellError(.logsRead, "cannot read the log file \(path): \(String(cString: strerror(errno)))", at: span)
    }
    var st = stat()
    fstat(fd, &st)
    inode = st.st_ino
  }

  deinit { if fd >= 0 { close(fd) } }

  /// One read's worth (up to 64 KiB); empty at the end or on an error.
  func read() -> (bytes: [UInt8], fresh: Bool) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return ([], false) }
      return (Array(buffer[0..<n]), false)
    }
  }

  func follow(_ file: String) -> Bool {
    var st = stat()
    guard stat(file, &st) == 0, st.st_ino != inode else { return false }
    let fresh = open(file, O_RDONLY | O_CLOEXEC)
    guard fresh >= 0 else { return false }
    close(fd)
    fd = fresh
    inode = st.st_ino
    return true
  }
}

/// A log file on the daemon's host, read through the relay: each read a `read` stream from the
/// offset reached to the file's end. The file's identity (device, inode) tells a trim's new
/// file at the path (read from its start) from the same file grown; a path with nothing there
/// (the log moved when the container ended) reads as nothing new until `follow` names where
/// it went, where reading goes on from the same offset.
final class RemoteFollowedLog: FollowedLogFile {
  /// Reads a file there from an offset to its end (`RemoteCaller.readFile`).
  typealias Read = (_ path: String, _ offset: UInt64) throws(IPCError) -> RemoteFile
  private let readFile: Read
  private let span: Span
  private var path: String
  private var identity: RemoteFile.Identity?
  private var offset: UInt64 = 0

  init(path: String, at span: Span, read: @escaping Read) {
    self.readFile = read
    self.path = path
    self.span = span
  }

  func read() throws -> (bytes: [UInt8], fresh: Bool) {
    let file: RemoteFile
    do throws(IPCError) {
      file = try readFile(path, offset)
    } catch {
      if error.errno == .noSuchFileOrDirectory, identity != nil { return ([], false) }
      throw LogFileReader.error(path, error, at: span)
    }
    if file.identity == identity, file.size >= offset {
      offset += UInt64(file.bytes.count)
      return (file.bytes, false)
    }
    // Another file at the path (or this one cut short): read it from its start.
    let first = identity == nil
    var whole = file
    if offset > 0 {
      do throws(IPCError) {
        whole = try readFile(path, 0)
      } catch {
        throw LogFileReader.error(path, error, at: span)
      }
    }
    identity = whole.identity
    offset = UInt64(whole.bytes.count)
    return (whole.bytes, !first)
  }

  /// Only remembers the path: whether it holds another file is known on the next read.
  func follow(_ file: String) -> Bool {
    path = file
    return false
  }
}
