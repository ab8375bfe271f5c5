import Foundation

/// Runs a closure on its own thread; `wait()` blocks until it is done and returns its error.
/// The closure may call `ready()` early, for whoever waits with `waitReady()`.
final class BackgroundWork: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let readied = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var failure: (any Error)?
  private var error: (any Error)? {
    get { lock.withLock { failure } }
    set { lock.withLock { failure = newValue } }
  }

  /// `signalling`: the closure calls `ready()` itself (else it counts as ready at once).
  init(signalling: Bool, _ body: @escaping @Sendable (_ ready: () -> Void) throws -> Void) {
    if !signalling { readied.signal() }
    Thread.detachNewThread { [self] in
      var signalled = !signalling
      do {
        try body {
          signalled = true
          readied.signal()
        }
      } catch { self.error = error }
      if !signalled { readied.signal() }
      done.signal()
    }
  }

  /// Returns once `ready()` was called or the closure ended; its error if it ended failing.
  func waitReady() -> (any Error)? {
    readied.wait()
    readied.signal()
    return error
  }

  /// The closure's error, if it threw; may be called more than once.
  func wait() -> (any Error)? {
    done.wait()
    done.signal()
    return error
  }
}
