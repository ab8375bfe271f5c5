/// A closure value: parameters, a body, and the scope it was made in.
public final class Closure: @unchecked Sendable {
  public let decl: ClosureDecl
  let captured: Frame
  /// A scope kept from the last call for the next one (when that call made no closure that could
  /// have captured it), so `each` and `where` do not allocate a scope per row.
  var spareFrame: Frame?

  /// How many bindings `captured` had when the closure was made: later ones are not its.
  let capturedCount: Int

  init(decl: ClosureDecl, captured: Frame, capturedCount: Int? = nil) {
    self.decl = decl
    self.captured = captured
    self.capturedCount = capturedCount ?? captured.bindingCount
  }

  /// A scope for one call: the one kept from the last call, emptied, or a new one.
  func takeFrame() -> Frame {
    guard let spare = spareFrame else { return newFrame() }
    spareFrame = nil
    spare.reset()
    return spare
  }

  /// The scope kept from the last call as it was left (the caller empties or rebinds it).
  func takeSpare() -> Frame? {
    defer { spareFrame = nil }
    return spareFrame
  }

  func newFrame() -> Frame { Frame(parent: captured, parentLimit: capturedCount) }
}
