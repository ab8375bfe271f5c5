import Foundation
import Glibc

/// `--idle-exit`: the shared local daemon xcsh starts ends by itself once nobody uses it.
///
/// Idle means `isIdle` (no client connected, no container left) held at every check for the
/// whole limit; any busy check starts the count again. Checks run once a second on the main
/// thread, between waits for the stop signals (sigtimedwait), so a signal still stops the
/// daemon at once; `isIdle` must therefore be cheap (xcd's reads in-memory counters only).
struct IdleWatch {
  var limit: Duration
  var isIdle: () -> Bool

  init(limit: Duration, isIdle: @escaping () -> Bool) {
    self.limit = limit
    self.isIdle = isIdle
  }

  /// The stop signal that arrived, or nil once the daemon has been idle for `limit`.
  func waitForStopSignalOrIdle() -> Int32? {
    var set = Daemon.stopSignals
    let clock = ContinuousClock()
    var idleSince: ContinuousClock.Instant? = nil
    let step = min(limit, .seconds(1))
    let (seconds, attoseconds) = step.components
    var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    while true {
      let sig = sigtimedwait(&set, nil, &timeout)
      if sig > 0 { return sig }
      if sig < 0 && errno != EAGAIN && errno != EINTR { return SIGTERM }
      guard isIdle() else {
        idleSince = nil
        continue
      }
      let now = clock.now
      if let since = idleSince {
        if now - since >= limit { return nil }
      } else {
        idleSince = now
      }
    }
  }
}
