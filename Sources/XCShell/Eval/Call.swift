/// One invocation of a command: its bound arguments, where it was written, and the evaluator.
public struct Call {
  public let name: String
  /// The span of the command word(s).
  public let head: Span
  /// The span of the whole call.
  public let span: Span
  public let evaluator: Evaluator
  /// The scope the command was called from.
  let frame: Frame
  /// Positional values by parameter name (defaults filled in).
  var positional = Arguments()
  var rest: [Value] = []
  /// Flags present (switches as `true`) and valued flags with their values or defaults.
  var flags = Arguments()
  /// Whether the output goes straight to the terminal (last stage, nothing consumes it).
  public let sink: Bool

  init(name: String, head: Span, span: Span, evaluator: Evaluator, frame: Frame, sink: Bool) {
    self.frame = frame
    self.name = name
    self.head = head
    self.span = span
    self.evaluator = evaluator
    self.sink = sink
  }

  public func has(_ flag: String) -> Bool {
    if case .bool(true)? = flags[flag]?.kind { return true }
    return false
  }

  /// A positional or named argument's value, or nil when absent and without default.
  public func value(_ name: String) -> Value? {
    positional[name] ?? flags[name]
  }

  public func restValues() -> [Value] { rest }

  public func require(_ name: String) throws -> Value {
    guard let v = value(name) else {
      throw ShellError(.argsMissing, "`\(self.name)` needs the `\(name)` argument", at: head)
    }
    return v
  }

  public func string(_ name: String) throws -> String? {
    guard let v = value(name), !v.isNull else { return nil }
    return try v.asString()
  }

  public func int(_ name: String) throws -> Int64? {
    guard let v = value(name), !v.isNull else { return nil }
    return try v.asInt()
  }

  public func closure(_ name: String) throws -> Closure? {
    guard let v = value(name), !v.isNull else { return nil }
    guard case .closure(let c) = v.kind else { throw ShellError.typeMismatch(expected: "closure", found: v) }
    return c
  }

  public func duration(_ name: String) throws -> Int64? {
    guard let v = value(name), !v.isNull else { return nil }
    guard case .duration(let d) = v.kind else { throw ShellError.typeMismatch(expected: "duration", found: v) }
    return d
  }

  /// Calls a closure with one argument (a row).
  public func invoke(_ closure: Closure, one arg: Value) throws -> Value {
    try evaluator.invoke(closure, one: arg, at: head)
  }

  /// Calls a closure argument with the given arguments.
  public func invoke(_ closure: Closure, _ args: [Value], input: Pipe = .empty) throws -> Value {
    try evaluator.invoke(closure, args, input: input, at: head)
  }
}

/// A call's bound arguments by name. Calls bind a handful, so a small array searched in order
/// costs less than hashing into a dictionary built afresh for every call.
struct Arguments {
  private var entries: [(name: String, value: Value)] = []

  subscript(name: String) -> Value? {
    get {
      for e in entries where e.name == name { return e.value }
      return nil
    }
    set {
      if let i = entries.firstIndex(where: { $0.name == name }) {
        if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
      } else if let newValue {
        // Calls bind a few: one allocation instead of growing 1, 2, 4.
        if entries.capacity == 0 { entries.reserveCapacity(4) }
        entries.append((name, newValue))
      }
    }
  }
}

extension Call {
  /// The source text of an argument written as one bare word of letters and digits (`64m`),
  /// else nil: for flags whose words read differently elsewhere (`--memory 64m` is MiB, not
  /// a duration).
  public func writtenWord(_ v: Value) -> String? { Binder.writtenWord(v, in: evaluator.sources) }
}
