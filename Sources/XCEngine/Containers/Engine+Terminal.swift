/// Window sizes of the terminals the engine serves (`xcsh.resize`): xc's terminal socket
/// carries bytes only, so a client passes its window size by this call instead.
extension Engine {
  /// Sets the window size of the terminal of `process` (`main` or an exec id) of the live
  /// container `name`; its foreground processes get SIGWINCH. ENOENT for an unknown container
  /// or process (or one that has ended), EINVAL for a process without a terminal.
  public func resizeTerminal(_ name: String, process: String, rows: UInt16, columns: UInt16) throws {
    try checkOpen()
    let container = try find(name)
    guard let relay = container.terminal(of: process) else {
      let processes = container.record.processes
      guard let known = processes[process], known.exited == nil else {
        let running = processes.filter { $0.value.exited == nil }.keys.sorted()
        throw EngineError(
          .containerNotFound,
          "container \(name) has no running process \(process) (running: \(running.joined(separator: ", ")))",
          errno: .noSuchFileOrDirectory)
      }
      throw EngineError(
        .badRequest, "process \(process) of container \(name) is not on a terminal (it was started without use_tty)",
        errno: .invalidArgument)
    }
    try relay.resize(rows: rows, columns: columns)
  }
}
