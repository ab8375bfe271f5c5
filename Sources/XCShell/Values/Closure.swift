/// A closure value: parameters, a body, and the scope it was made in.
public final class Closure: @unchecked Sendable {
  public let decl: ClosureDecl
  let captured: Frame

  init(decl: ClosureDecl, captured: Frame) {
    self.decl = decl
    self.captured = captured
  }
}
