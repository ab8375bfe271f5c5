/// One level of variable scope: a block, a function call or a closure call.
///
/// Scopes hold a few names, so parallel arrays searched from the end (newest binding first) are
/// faster than hashing, and shadowing needs no extra work.
public final class Frame: @unchecked Sendable {
  let parent: Frame?
  /// How many of the parent's bindings this scope sees: a closure sees the bindings that existed
  /// when it was made, so a later `let x` in the same scope does not change its `$x`.
  let parentLimit: Int
  /// The bindings as parallel arrays (slot order): reading a value copies only the value, and
  /// checking a name copies nothing.
  private var names: [String] = []
  private var values: [Value] = []
  private var mutables: [Bool] = []
  /// Functions declared in this scope (`fn` statements are hoisted to their block).
  var functions = FunctionTable()

  init(parent: Frame?, parentLimit: Int = .max) {
    self.parent = parent
    self.parentLimit = parentLimit
  }

  func declare(_ name: String, _ value: Value, mutable isMutable: Bool) {
    // Most scopes hold a few names: one allocation each instead of growing 1, 2, 4.
    if names.capacity == 0 {
      names.reserveCapacity(4)
      values.reserveCapacity(4)
      mutables.reserveCapacity(4)
    }
    names.append(name)
    values.append(value)
    mutables.append(isMutable)
  }

  /// Forgets this frame's bindings so a loop can reuse it for the next iteration.
  func reset() { keep(0) }

  /// Keeps the first `count` slots (a loop's variables or a closure's parameters, bound again
  /// with `set`: same names, same order) and forgets the rest and any functions. A few
  /// `removeLast` cost less than the generic `removeAll(keepingCapacity:)`.
  @inline(__always) func keep(_ count: Int) {
    while names.count > count {
      names.removeLast()
      values.removeLast()
      mutables.removeLast()
    }
    if !functions.isEmpty { functions = FunctionTable() }
  }

  /// Sets every slot to null (the names stay), so a kept scope holds no value alive.
  func clearValues() {
    values.withUnsafeMutableBufferPointer { slots in
      for i in slots.indices { slots[i] = .null }
    }
  }

  /// Keeps the first two slots and binds both to `value` again (a one-argument closure's
  /// `[name, in]` or `[in, it]`): one check that the storage is not shared, not one per slot.
  @inline(__always) func rebindFirstTwo(_ value: Value) {
    keep(2)
    values.withUnsafeMutableBufferPointer { slots in
      slots[0] = value
      slots[1] = value
    }
  }

  /// Binds slot `index` again (after `keep`).
  @inline(__always) func set(_ index: Int, _ value: Value) { values[index] = value }

  /// The value in slot `index` of this scope.
  @inline(__always) func valueInSlot(_ index: Int) -> Value { values[index] }

  @inline(__always) private func slot(_ name: String, limit: Int = .max) -> Int? {
    var i = min(names.count, limit) - 1
    while i >= 0 {
      if names[i] == name { return i }
      i -= 1
    }
    return nil
  }

  /// The frame `depth` scopes up (nil if the chain is shorter, which a resolved address never asks).
  /// Unretained: every frame on the chain is kept alive by `self`, and walking it is the
  /// hottest thing the evaluator does (a retain and release per step cost more than the step).
  @inline(__always) private func ancestor(_ depth: Int32) -> Unmanaged<Frame>? {
    var f = Unmanaged.passUnretained(self)
    var d = depth
    while d > 0 {
      guard let p = f._withUnsafeGuaranteedRef({ $0.parent.map(Unmanaged.passUnretained) }) else { return nil }
      f = p
      d -= 1
    }
    return f
  }

  /// The value at a resolver's address. The name is checked (nil on a mismatch, so the caller
  /// looks it up by name); debug builds also check that the address is the binding a search by
  /// name finds, so every test run verifies the resolver.
  @inline(__always) func value(at address: VarAddress, _ name: String) -> Value? {
    guard let (f, i) = slot(at: address, name) else {
      assertionFailure("resolver: `$\(name)` is not at \(address)")
      return nil
    }
    return f._withUnsafeGuaranteedRef { $0.values[i] }
  }

  /// The int at a resolver's address, read in place; nil when the slot holds anything else (or
  /// the address does not hold the name, as `value(at:)`).
  @inline(__always) func intValue(at address: VarAddress, _ name: String) -> Int64? {
    guard let (f, i) = slot(at: address, name) else { return nil }
    return f._withUnsafeGuaranteedRef { if case .int(let x) = $0.values[i].kind { x } else { nil } }
  }

  /// Field `key` of the record at a resolver's address, read in place; nil when the slot holds
  /// no record with that field (or the address does not hold the name, as `value(at:)`).
  @inline(__always) func field(_ key: String, at address: VarAddress, _ name: String) -> Value? {
    guard let (f, i) = slot(at: address, name) else { return nil }
    return f._withUnsafeGuaranteedRef { frame in
      guard case .record(let r) = frame.values[i].kind, let j = r.index(of: key) else { return nil }
      return r.value(at: j)
    }
  }

  /// The frame and slot a resolver's address names, when it holds `name` (the one check every
  /// addressed access makes; debug builds also check it is the binding a search by name finds,
  /// so every test run verifies the resolver).
  @inline(__always) private func slot(at address: VarAddress, _ name: String) -> (Unmanaged<Frame>, Int)? {
    guard let f = ancestor(address.depth) else { return nil }
    let i = Int(address.index)
    guard f._withUnsafeGuaranteedRef({ i < $0.names.count && $0.names[i] == name }) else { return nil }
    assert(locate(name).map { $0.frame === f.takeUnretainedValue() && $0.index == i } ?? false, "resolver: `$\(name)` at \(address) is not the binding in scope")
    return (f, i)
  }

  /// The frame and slot a search by name finds.
  func locate(_ name: String) -> (frame: Frame, index: Int)? {
    var f: Frame? = self
    var limit = Int.max
    while let frame = f {
      if let i = frame.slot(name, limit: limit) { return (frame, i) }
      limit = frame.parentLimit
      f = frame.parent
    }
    return nil
  }

  func lookup(_ name: String) -> Value? {
    var f: Frame? = self
    var limit = Int.max
    while let frame = f {
      if let i = frame.slot(name, limit: limit) { return frame.values[i] }
      limit = frame.parentLimit
      f = frame.parent
    }
    return nil
  }

  /// `name op= y` on an int at a resolver's address, in place, when `Operators.intFast` applies
  /// to a mutable int there: true when done; false (nothing changed) for everything else.
  @inline(__always) func applyIntFast(_ op: BinaryOp, _ y: Int64, at address: VarAddress, _ name: String, span: Span) -> Bool {
    guard let (f, i) = slot(at: address, name) else { return false }
    return f._withUnsafeGuaranteedRef { frame in
      guard frame.mutables[i], case .int(let x) = frame.values[i].kind, let k = Operators.intFast(op, x, y) else { return false }
      frame.values[i] = Value(k, span)
      return true
    }
  }

  /// `x.key = …` (and `x.key op= …`) at a resolver's address, in place: `change` gets field
  /// `key` of the record there, which is moved out of its slot while it changes so its storage
  /// is not shared (and not copied). False, with nothing done, when the slot is not a mutable
  /// record with that field (the caller takes the general path, which says why).
  @inline(__always) func modifyField(
    _ key: String, at address: VarAddress, _ name: String, _ change: (inout Value) throws -> Void
  ) rethrows -> Bool {
    guard let (f, i) = slot(at: address, name) else { return false }
    return try f._withUnsafeGuaranteedRef { frame in
      guard frame.mutables[i], case .record(var r) = frame.values[i].kind, let j = r.index(of: key) else { return false }
      let whole = frame.values[i].span
      frame.values[i].kind = .null
      defer { frame.values[i] = Value(.record(r), whole) }
      try r.updateValue(at: j, change)
      return true
    }
  }

  enum AssignResult { case ok, notFound, immutable(Frame) }

  /// Updates a binding in place (`x = v`, `x += 1`, `x.field = v`).
  func modify(_ name: String, at address: VarAddress?, _ body: (inout Value) throws -> Void) throws -> AssignResult {
    if let address {
      if let (f, i) = slot(at: address, name) {
        let frame = f.takeUnretainedValue()
        guard frame.mutables[i] else { return .immutable(frame) }
        try body(&frame.values[i])
        return .ok
      }
      assertionFailure("resolver: `\(name)` is not at \(address)")
    }
    var f: Frame? = self
    var limit = Int.max
    while let frame = f {
      if let i = frame.slot(name, limit: limit) {
        guard frame.mutables[i] else { return .immutable(frame) }
        try body(&frame.values[i])
        return .ok
      }
      limit = frame.parentLimit
      f = frame.parent
    }
    return .notFound
  }

  /// The function `name` declares in the nearest scope that has one. Walked unretained, as
  /// `ancestor` is: it runs at every call of a function.
  func function(_ name: String) -> UserFunction? {
    var f = Unmanaged.passUnretained(self)
    while true {
      let (found, parent) = f._withUnsafeGuaranteedRef { frame in
        (frame.functions.isEmpty ? nil : frame.functions[name], frame.parent.map(Unmanaged.passUnretained))
      }
      if let found { return found }
      guard let parent else { return nil }
      f = parent
    }
  }

  var bindingCount: Int { names.count }

  /// This scope's bindings' names, in slot order (what the resolver starts a REPL line from).
  var bindingNames: [String] { names }

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
      out.append(contentsOf: frame.functions.names)
      f = frame.parent
    }
    return out
  }

  /// A deep copy of the chain, for running a closure on another thread (`par-each`).
  func snapshot() -> Frame {
    let copy = Frame(parent: parent?.snapshot(), parentLimit: parentLimit)
    copy.names = names
    copy.values = values
    copy.mutables = mutables
    copy.functions = functions
    return copy
  }
}

/// A scope's functions by name. A scope declares a few, so a small array searched in order
/// (names compare by their bits first) costs less than hashing the name at every call.
struct FunctionTable: Sequence {
  /// Parallel arrays: searching the names copies no function.
  private(set) var names: [String] = []
  private var commands: [UserFunction] = []

  var isEmpty: Bool { names.isEmpty }

  subscript(name: String) -> UserFunction? {
    get {
      guard let i = names.firstIndex(of: name) else { return nil }
      return commands[i]
    }
    set {
      if let i = names.firstIndex(of: name) {
        if let newValue {
          commands[i] = newValue
        } else {
          names.remove(at: i)
          commands.remove(at: i)
        }
      } else if let newValue {
        names.append(name)
        commands.append(newValue)
      }
    }
  }

  func makeIterator() -> Zip2Sequence<[String], [UserFunction]>.Iterator { zip(names, commands).makeIterator() }
}

/// Non-local exits, thrown through the evaluator like errors but never shown to users.
enum ControlFlow: Error {
  case breakLoop(Span)
  case continueLoop(Span)
  case returnValue(Value)

  /// What this exit means when it reaches the end of a function's or closure's body: `return`'s
  /// value; `break` and `continue` are errors (a loop around the call is not the body's loop).
  func valueAtEndOfBody() throws -> Value {
    switch self {
    case .returnValue(let v): return v
    case .breakLoop(let s), .continueLoop(let s):
      throw ShellError(.evalLoop, "`break` or `continue` outside a loop", at: s)
    }
  }
}
