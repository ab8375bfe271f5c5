import Foundation
import Synchronization
import Testing

/// An `xcsh … logs --follow` run on its own thread, for the log-following tests: `start`
/// returns once the follower's `xcsh.logs` call is in the daemon's log (bounded by 30 s), so
/// anything the container writes after that can only reach it by following.
final class FollowerRun: Sendable {
  private let result = Mutex<XcshResult?>(nil)
  private let done = DispatchSemaphore(value: 0)

  /// Starts `xcsh --socket DAEMON ARGUMENTS` and waits for its `xcsh.logs` call.
  static func start(
    _ daemon: DaemonHarness, _ arguments: [String], timeout: Duration,
    sourceLocation: SourceLocation = #_sourceLocation
  ) -> FollowerRun {
    let run = FollowerRun()
    let callsBefore = daemon.log.components(separatedBy: "xcsh.logs (").count
    let socket = daemon.socket
    Thread.detachNewThread {
      let r = try? Xcsh.run(["--socket", socket] + arguments, timeout: timeout)
      run.result.withLock { $0 = r }
      run.done.signal()
    }
    let deadline = Date().addingTimeInterval(30)
    while daemon.log.components(separatedBy: "xcsh.logs (").count <= callsBefore, Date() < deadline {
      usleep(20_000)  // polling the daemon's log, bounded by the deadline
    }
    #expect(
      daemon.log.components(separatedBy: "xcsh.logs (").count > callsBefore, "the follower never called xcsh.logs",
      sourceLocation: sourceLocation)
    return run
  }

  /// The run's result once it ended within `seconds` (a failed expectation otherwise).
  func finished(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) throws -> XcshResult {
    #expect(done.wait(timeout: .now() + seconds) == .success, "logs --follow did not end with the container", sourceLocation: sourceLocation)
    return try #require(result.withLock { $0 }, sourceLocation: sourceLocation)
  }
}
