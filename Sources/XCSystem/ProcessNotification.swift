import SystemPackage

/// The values xc writes to the eventfds a client passes (spec 3.5).
///
/// * started (`main_started_notify`, `run_main`'s `notify`): the value 1, also when main
///   failed to start (check `ContainerManifest.fault`).
/// * exited (`main_exited_fd`, `exec`'s `notify`): `0x1000_0000_0000_0000 | status`, where
///   status is the raw wait(2) status. Nothing is written if the process never spawned.
public enum ProcessNotification {
  /// Bit 60, set in every exit notification so that status 0 is still a non-zero counter.
  public static let exitFlag: UInt64 = 0x1000_0000_0000_0000

  /// The eventfd value announcing that a process exited with `status`.
  public static func encodeExit(_ status: WaitStatus) -> UInt64 {
    exitFlag | UInt64(UInt32(bitPattern: status.rawValue))
  }

  /// The wait status in an exit notification, or nil if `value` lacks the exit flag.
  public static func decodeExit(_ value: UInt64) -> WaitStatus? {
    guard value & exitFlag != 0 else { return nil }
    return WaitStatus(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
  }
}
