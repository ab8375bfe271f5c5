import Synchronization
import SystemPackage

/// The descriptors that arrived with one message. They belong to the message: whatever the
/// receiver does not `take` is closed when the message is released (or on `closeRemaining`),
/// so a request that fails to decode, or a handler that ignores a descriptor, cannot leak it.
public final class ReceivedDescriptors: Sendable {
  private let slots: Mutex<[FileDescriptor?]>
  /// How many descriptors arrived.
  public let count: Int

  /// Takes ownership of `descriptors`.
  public init(_ descriptors: [FileDescriptor]) {
    self.slots = Mutex(descriptors.map { Optional($0) })
    self.count = descriptors.count
  }

  deinit { closeRemaining() }

  /// The shared instance for messages without descriptors (most of them): nothing to own, so
  /// no allocation per message.
  public static let none = ReceivedDescriptors([])

  /// The descriptor at `index` without taking it (nil if out of range or already taken).
  public func peek(_ index: Int) -> FileDescriptor? {
    slots.withLock { s in s.indices.contains(index) ? s[index] : nil }
  }

  /// Takes ownership of the descriptor at `index`; the caller must close it. Nil if out of
  /// range or already taken.
  public func take(_ index: Int) -> FileDescriptor? {
    slots.withLock { s in
      guard s.indices.contains(index) else { return nil }
      defer { s[index] = nil }
      return s[index]
    }
  }

  /// Takes the descriptor a decoded `FDRef` points at.
  public func take(_ ref: FDRef) -> FileDescriptor? {
    guard let i = ref.index else { return nil }
    return take(i)
  }

  /// Takes every descriptor not yet taken, in index order.
  public func takeAll() -> [FileDescriptor] {
    if count == 0 { return [] }
    return slots.withLock { s in
      defer { s = s.map { _ in nil } }
      return s.compactMap { $0 }
    }
  }

  /// Closes every descriptor not yet taken.
  public func closeRemaining() {
    for fd in takeAll() { try? fd.close() }
  }
}
