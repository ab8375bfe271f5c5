import Foundation

/// A value shared between threads of a test (a handler and the test body), behind a lock.
public final class Box<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: T
  public init(_ v: T) { value = v }
  public func set(_ v: T) {
    lock.lock()
    value = v
    lock.unlock()
  }
  public func get() -> T {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
}
