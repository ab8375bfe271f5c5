/// A function defined with `fn`: its signature is compiled from the parameter list and the
/// comment above it, so it is called, checked and documented like a built-in.
///
/// A class: a scope's function table hands out one reference per call rather than a copy of
/// the signature and tables.
final class UserFunction: Command, @unchecked Sendable {
  let decl: FunctionDecl
  let scope: Frame
  let signature: Signature
  /// Each parameter's variable name, worked out once rather than at every call.
  let variableNames: [String]
  /// Each parameter's name and kind, so a call reads them without copying whole parameters.
  private let parameterNames: [String]
  private let parameterKinds: [Parameter.Kind]
  /// Scopes of finished calls, kept for the next ones (see `run`).
  private let spare = SpareFrames()
  /// Each parameter's shape when every parameter is a required positional, so a call written
  /// with one positional argument per parameter binds without the binder (`bindDirectly`).
  private let directShapes: [Shape]?

  init(decl: FunctionDecl, scope: Frame) {
    self.decl = decl
    self.scope = scope
    variableNames = decl.parameters.map(\.variableName)
    let doc = decl.doc
    let summary = doc.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
    let details = doc.split(separator: "\n", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
    var params: [Parameter] = []
    for p in decl.parameters {
      let shape = p.type.flatMap { Shape.named($0.name) } ?? .any
      let literal: Value? = p.defaultValue.flatMap {
        if case .literal(let v) = $0.kind { return v }
        return nil
      }
      switch p.kind {
      case .positional:
        if p.defaultValue != nil || p.optional {
          params.append(.optional(p.name, shape, p.doc, default: literal))
        } else {
          params.append(.required(p.name, shape, p.doc))
        }
      case .rest: params.append(.rest(p.name, shape, p.doc))
      case .flag:
        if p.type == nil || (shape == .bool && p.defaultValue == nil) {
          params.append(.switch(p.name, short: p.short, p.doc))
        } else {
          params.append(.named(p.name, shape, short: p.short, p.doc, default: literal))
        }
      }
    }
    signature = Signature(decl.name, category: .core, summary: summary, parameters: params, details: details)
    parameterNames = signature.parameters.map(\.name)
    parameterKinds = signature.parameters.map(\.kind)
    directShapes =
      signature.parameters.allSatisfy { $0.kind == .required && $0.shape != .condition }
      ? signature.parameters.map(\.shape) : nil
  }

  func run(_ call: Call, _ input: Pipe) throws -> Pipe {
    let ev = call.evaluator
    try ev.enterCall(at: call.head)
    defer { ev.leaveCall() }
    // A call reuses a finished call's scope unless that call made a closure (which may have
    // captured it); recursion takes one per level, so a few are kept.
    let frame: Frame
    if ev.reusesScopes, let f = spare.take() {
      f.reset()
      frame = f
    } else {
      frame = Frame(parent: scope)
    }
    let mark = ev.closuresMade
    defer { if ev.reusesScopes, ev.closuresMade == mark { spare.put(frame, keeping: parameterKinds.count + 1) } }
    try bindFromCall(call, into: frame, ev)
    return try runBody(in: frame, ev, sink: call.sink, input)
  }

  /// Whether a call written with these arguments can take the fast path: exactly one
  /// positional argument per parameter, every parameter a required positional. (Anything else,
  /// including every case the binder reports as an error, goes through the binder.)
  @inline(__always) func bindsDirectly(_ arguments: [Argument]) -> Bool {
    guard let shapes = directShapes, arguments.count == shapes.count else { return false }
    for a in arguments {
      guard case .positional = a else { return false }
    }
    return true
  }

  /// How many arguments a call binds directly: one positional per parameter (nil when a
  /// parameter is anything but a required positional).
  var directArity: Int? { directShapes?.count }

  /// The fast path of a call (`bindsDirectly`): evaluates the arguments in the caller's scope
  /// and checks them against the parameters' types, in the binder's order (every argument
  /// evaluated, then each checked, with the binder's errors at the argument as written), then
  /// runs the body as `run` does.
  func callDirectly(_ node: CallNode, in caller: Frame, _ ev: Evaluator, sink: Bool, _ input: Pipe) throws -> Pipe {
    try withArguments(
      node, ev,
      { i in
        guard case .positional(let e) = node.arguments[i] else { preconditionFailure("bindsDirectly") }
        return try ev.eval(e, in: caller)
      },
      { frame in try runBody(in: frame, ev, sink: sink, input) })
  }

  /// `callDirectly` for a call that is a value (`(fib ($n - 1))`): the arguments are compiled,
  /// `$in` is null (a subexpression has no input), and the body's value is returned, not a pipe.
  func callForValue(_ arguments: [ExprCode], _ node: CallNode, in caller: Frame, _ ev: Evaluator) throws -> Value {
    // The argument closure is written out at each use: kept in a `let`, it would be a context
    // allocated at every call.
    guard let e = decl.body.singleExpression else {
      // A body of statements may end in a lazy stream: it is read once the call has ended, as
      // a statement reads a call's output (its errors are not the call's, its calls not nested
      // in this one).
      return try withArguments(node, ev, { i in try arguments[i].run(ev, caller) }) { frame in
        try runBody(in: frame, ev, sink: false, .empty)
      }.collect()
    }
    return try withArguments(node, ev, { i in try arguments[i].run(ev, caller) }) { frame in
      // A kept scope's `$in` slot already holds null (`SpareFrames.put` cleared it).
      if frame.bindingCount == parameterKinds.count { frame.declare("in", .null, mutable: false) }
      do {
        if let body = e.compiled { return try body(ev, frame) }
        return try ev.evalNode(e, in: frame)
      } catch let c as ControlFlow {
        return try c.valueAtEndOfBody()
      }
    }
  }

  /// Binds the arguments (`argument(i)` evaluates the i-th, all before any is checked) in a
  /// scope of this function — a kept one when there is one — and runs `body` in it.
  @inline(__always)
  private func withArguments<R>(
    _ node: CallNode, _ ev: Evaluator, _ argument: (Int) throws -> Value, _ body: (Frame) throws -> R
  ) throws -> R {
    let shapes = directShapes!
    let n = shapes.count
    // A kept scope still has this function's slots (parameters, then `$in`), holding nulls:
    // they are bound again in place. One that fails here is simply not kept.
    let frame: Frame
    var shaped = false
    if ev.reusesScopes, let f = spare.take() {
      shaped = f.bindingCount == n + 1
      if !shaped { f.reset() }
      frame = f
    } else {
      frame = Frame(parent: scope)
    }
    // Every argument is evaluated before any is checked (the binder's order); whether one
    // fits its parameter as it is can be seen on the way, since seeing it has no effect.
    var unfit = false
    for i in 0..<n {
      let v = try argument(i)
      if !Self.fits(v, shapes[i]) { unfit = true }
      if shaped { frame.set(i, v) } else { frame.declare(variableNames[i], v, mutable: false) }
    }
    if unfit {
      for i in 0..<n where !Self.fits(frame.valueInSlot(i), shapes[i]) {
        guard case .positional(let e) = node.arguments[i] else { preconditionFailure("bindsDirectly") }
        frame.set(i, try Binder.coerce(frame.valueInSlot(i), to: shapes[i], at: e.span, sources: ev.sources))
      }
    }
    do {
      try ev.enterCall(at: node.nameSpan)
      defer { ev.leaveCall() }
      let mark = ev.closuresMade
      defer { if ev.reusesScopes, ev.closuresMade == mark { spare.put(frame, keeping: n + 1) } }
      return try body(frame)
    } catch var e as ShellError {
      // As `Evaluator.evalCall` locates a command's errors.
      if e.labels.isEmpty { e = e.located(at: node.nameSpan) }
      if e.command == nil { e.command = node.name }
      throw e
    }
  }

  private func bindFromCall(_ call: Call, into frame: Frame, _ ev: Evaluator) throws {
    for i in 0..<parameterKinds.count {
      var v: Value
      switch parameterKinds[i] {
      case .rest: v = .list(call.rest)
      case .switch: v = .bool(call.has(parameterNames[i]))
      default:
        v = call.value(parameterNames[i]) ?? .null
        // Defaults that are not literals are evaluated at each call, in the function's scope.
        if v.isNull, !v.span.isKnown, let d = decl.parameters[i].defaultValue {
          if case .literal = d.kind {} else {
            v = try Binder.coerce(try ev.eval(d, in: scope), to: signature.parameters[i].shape, at: d.span, sources: ev.sources)
          }
        }
      }
      // `--warn-over` is `$warn_over` inside the body (variable names have no dashes).
      frame.declare(variableNames[i], v, mutable: false)
    }
  }

  /// Binds `$in` after the parameters and runs the body in `frame`.
  private func runBody(in frame: Frame, _ ev: Evaluator, sink: Bool, _ input: Pipe) throws -> Pipe {
    let n = parameterKinds.count
    if frame.bindingCount > n { frame.set(n, try input.collect()) } else { frame.declare("in", try input.collect(), mutable: false) }
    do {
      return try ev.evalBlock(decl.body, in: frame, sink: sink, newScope: false)
    } catch let c as ControlFlow {
      return .value(try c.valueAtEndOfBody())
    }
  }

  /// Whether the binder would accept `v` for a parameter of `shape` unchanged, without asking it.
  @inline(__always) private static func fits(_ v: Value, _ shape: Shape) -> Bool {
    switch (shape, v.kind) {
    case (.any, _), (.int, .int), (.string, .string), (.bool, .bool), (.float, .float), (.list, .list), (.record, .record):
      true
    default: false
    }
  }
}

extension ParameterDecl {
  /// The variable a parameter binds: its name with dashes as underscores.
  var variableName: String {
    name.utf8.contains(UInt8(ascii: "-")) ? String(name.map { $0 == "-" ? "_" : $0 }) : name
  }
}

/// Scopes kept from finished calls for the next ones; a few, as deep as recursion usually goes.
/// A scope put back keeps its first slots (the parameters and `$in`, bound again by the next
/// call) holding nulls, so it keeps no value alive.
final class SpareFrames: @unchecked Sendable {
  private var frames: [Frame] = []
  static let limit = 32

  func take() -> Frame? { frames.popLast() }

  func put(_ frame: Frame, keeping slots: Int) {
    guard frames.count < Self.limit else { return }
    frame.keep(slots)
    frame.clearValues()
    frames.append(frame)
  }
}
