import Foundation
import Glibc
import Testing

@testable import XCObjects

/// The log tail and the stop that the local and the private daemon share.
@Suite struct DaemonProcessTests {
  @Test func theLogTailIsTheLastLinesOrAllOrSaysNothingWasWritten() throws {
    let path = NSTemporaryDirectory() + "xcsh-log-tail-\(getpid()).log"
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(DaemonProcess.logTail(path, lines: 15) == "(xcd wrote nothing)")
    try "one\ntwo\nthree\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(DaemonProcess.logTail(path, lines: 2) == "two\nthree")
    #expect(DaemonProcess.logTail(path, lines: 0) == "one\ntwo\nthree")
  }

  /// A process that ignores SIGTERM is killed after the grace time; one that is gone cannot
  /// be signalled (nil).
  @Test func aProcessIgnoringSIGTERMIsKilledAfterTheGrace() throws {
    // posix_spawn, not Foundation's Process: this test's child, reaped only by `terminate`.
    var pid: pid_t = 0
    let args: [String] = ["/bin/sh", "-c", "trap '' TERM; exec sleep 30"]
    let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    #expect(posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0)
    // Until the shell ignores SIGTERM (bit 15 of SigIgn), bounded.
    let ready = Date().addingTimeInterval(10)
    func ignoresTerm() -> Bool {
      let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
      let mask = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }?.split(separator: "\t").last
      return mask.flatMap { UInt64($0, radix: 16) }.map { $0 & (1 << 14) != 0 } ?? false
    }
    while !ignoresTerm(), Date() < ready { usleep(5_000) }  // polling /proc, bounded
    #expect(ignoresTerm())
    let start = Date()
    let status = try #require(DaemonProcess.terminate(pid, grace: 0.3))
    #expect(Date().timeIntervalSince(start) >= 0.3)
    #expect(status & 0x7f == SIGKILL, "wait status \(status)")
    #expect(DaemonProcess.terminate(pid, grace: 0.3) == nil)
  }
}
