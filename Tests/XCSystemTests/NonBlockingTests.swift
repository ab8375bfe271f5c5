import SystemPackage
import Testing
import XCSystem

@Suite struct NonBlockingTests {
  /// An empty pipe's read waits until made non-blocking; then it fails with EAGAIN at once,
  /// and what is written is still read.
  @Test func aNonBlockingReadOfAnEmptyPipeFailsWithEAGAIN() throws {
    let (r, w) = try FileDescriptor.closeOnExecPipe()
    defer {
      r.closeAfterUse()
      w.closeAfterUse()
    }
    try r.setNonBlocking()
    var buffer = [UInt8](repeating: 0, count: 4)
    #expect(throws: Errno.resourceTemporarilyUnavailable) {
      _ = try buffer.withUnsafeMutableBytes { try r.read(into: $0) }
    }
    _ = try w.writeAll([7, 8])
    #expect(try buffer.withUnsafeMutableBytes { try r.read(into: $0) } == 2)
    #expect(buffer[0..<2] == [7, 8])
    // The descriptor flags are untouched: still close-on-exec.
    #expect(r.isCloseOnExec)
  }
}
