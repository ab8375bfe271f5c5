import Synchronization

/// Whether a route's daemon serves the `xcsh.*` extensions, asked once per connection: a
/// daemon does not lose them while connected, but the connection made again after one was
/// lost may reach another daemon (restarted, or xc's at the same socket), so it is asked anew.
final class ExtensionSupport: Sendable {
  private let known = Mutex<(generation: UInt64, served: Bool)?>(nil)
  /// The transport's count of connections made again (`connectionGeneration`).
  private let generation: @Sendable () -> UInt64

  init(generation: @escaping @Sendable () -> UInt64) { self.generation = generation }

  /// The remembered answer for the current connection, else `probe`'s (then remembered).
  func served(probe: () throws -> Bool) rethrows -> Bool {
    let now = generation()
    if let k = known.withLock({ $0 }), k.generation == now { return k.served }
    let served = try probe()
    // The connection the probe went over (it may have made one again).
    let after = generation()
    known.withLock { $0 = (after, served) }
    return served
  }
}
