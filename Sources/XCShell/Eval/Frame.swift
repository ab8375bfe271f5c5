/// One level of variable scope: a block, a function call or a closure call.
///
/// Scopes hold a few names, so parallel arrays searched from the end (newest binding first) are
/// faster than hashing, and shadowing needs no extra work.
public final class Frame: @unchecked Sendable {
  let parent: Frame?
  private(set) var names: [String] = []
  private(set) var values: [Value] = []
  private var mutable: [Bool] = []
  /// Functions declared in this scope (`fn` statements are hoisted to their block).
  var functions: [String: any Command] = [:]

  init(parent: Frame?) { self.parent = parent }

  func declare(_ name: String, _ value: Value, mutable isMutable: Bool) {
    names.append(name)
    values.append(value)
    mutable.append(isMutable)
  }

  @inline(__always) private func slot(_ name: String) -> Int? {
    var i = names.count - 1
    while i >= 0 {
      if names[i] == name { return i }
      i -= 1
    }
    return nil
  }

  func lookup(_ name: String) -> Value? {
    var f: Frame? = self
    while let frame = f {
      if let i = frame.slot(name) { return frame.values[i] }
      f = frame.parent
    }
    return nil
  }

  enum AssignResult { case ok, notFound, immutable(Frame) }

  /// Replaces the value of the nearest binding of `name`.
  func assign(_ name: String, _ value: Value) -> AssignResult {
    var f: Frame? = self
    while let frame = f {
      if let i = frame.slot(name) {
        guard frame.mutable[i] else { return .immutable(frame) }
        frame.values[i] = value
        return .ok
      }
      f = frame.parent
    }
    return .notFound
  }

  /// Updates a binding in place (`x += 1`, `x.field = v`) without copying its value twice.
  func modify(_ name: String, _ body: (inout Value) throws -> Void) throws -> AssignResult {
    var f: Frame? = self
    while let frame = f {
      if let i = frame.slot(name) {
        guard frame.mutable[i] else { return .immutable(frame) }
        try body(&frame.values[i])
        return .ok
      }
      f = frame.parent
    }
    return .notFound
  }

  func function(_ name: String) -> (any Command)? {
    var f: Frame? = self
    while let frame = f {
      if !frame.functions.isEmpty, let c = frame.functions[name] { return c }
      f = frame.parent
    }
    return nil
  }

  /// Every visible variable name, innermost first (completion, did-you-mean).
  var visibleNames: [String] {
    var out: [String] = []
    var f: Frame? = self
    while let frame = f {
      out.append(contentsOf: frame.names.reversed())
      f = frame.parent
    }
    return out
  }

  var visibleFunctions: [String] {
    var out: [String] = []
    var f: Frame? = self
    while let frame = f {
      out.append(contentsOf: frame.functions.keys)
      f = frame.parent
    }
    return out
  }

  /// A deep copy of the chain, for running a closure on another thread (`par-each`).
  func snapshot() -> Frame {
    let copy = Frame(parent: parent?.snapshot())
    copy.names = names
    copy.values = values
    copy.mutable = mutable
    copy.functions = functions
    return copy
  }
}

/// Non-local exits, thrown through the evaluator like errors but never shown to users.
enum ControlFlow: Error {
  case breakLoop(Span)
  case continueLoop(Span)
  case returnValue(Value)
}
