import Foundation
import Glibc
import XCTestSupport

/// What one xcsh run gave.
typealias XcshResult = ProgramResult

/// The one way the daemon tests run the `xcsh` built next to `xcd` (through `ProgramRun`:
/// both streams read while it runs, stdin on a thread, killed after `timeout`).
enum Xcsh {
  /// The `xcsh` built next to `xcd` (or `$XCSH_BIN`).
  static var binary: String {
    ProcessInfo.processInfo.environment["XCSH_BIN"]
      ?? URL(fileURLWithPath: DaemonHarness.binary).deletingLastPathComponent().appendingPathComponent("xcsh").path
  }

  /// Runs `xcsh ARGUMENTS` to its end. `stdin` nil: /dev/null.
  static func run(
    _ arguments: [String], stdin: Data? = nil, cwd: String? = nil, timeout: Duration = .seconds(300)
  ) throws -> XcshResult {
    do {
      return try ProgramRun.run(binary, arguments, stdin: stdin, cwd: cwd, timeout: timeout)
    } catch let e as ProgramTimeout {
      throw TestFailure(e.description)
    }
  }
}
