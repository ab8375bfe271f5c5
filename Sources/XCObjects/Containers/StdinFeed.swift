import SystemPackage
import XCIPC
import XCShell

#if canImport(Glibc)
  import Glibc
#endif

/// `"text" | run -i IMAGE -- cat`: a pipe whose read end the daemon gives the container's main
/// process as its standard input, and whose write end is fed the pipeline's input once the
/// container exists.
final class StdinFeed {
  private var readEnd: Int32
  private var writeEnd: Int32

  init(_ call: Call) throws {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      throw ShellError(.systemPipe, "cannot create a pipe for `-i`: \(String(cString: strerror(errno)))", at: call.head)
    }
    (readEnd, writeEnd) = (fds[0], fds[1])
    // Neither end may leak into programs this shell spawns meanwhile.
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
  }

  /// The end the container reads.
  var reader: FDRef { FDRef(FileDescriptor(rawValue: readEnd)) }

  /// The daemon holds its own copy of the read end now: close ours (so the feed ends when the
  /// container goes away) and feed the input on a background thread.
  func start(_ input: XCShell.Pipe) {
    close(readEnd)
    readEnd = -1
    PipeFeeder.start(fd: writeEnd, input: input)
    writeEnd = -1
  }

  /// Closes what was not handed on (the call failed before `start`).
  func abandon() {
    if readEnd >= 0 { close(readEnd) }
    if writeEnd >= 0 { close(writeEnd) }
    readEnd = -1
    writeEnd = -1
  }
}
