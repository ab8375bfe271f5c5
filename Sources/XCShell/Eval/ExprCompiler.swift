/// An expression compiled into a Swift closure: what `Evaluator.eval` runs instead of switching
/// over the node's kind.
typealias CompiledExpr = (Evaluator, Frame) throws -> Value

/// A compiled expression held in an array. Wrapped so it keeps its own calling convention: an
/// array of bare closures stores them at the generic one and calls each through a thunk.
struct ExprCode {
  let run: CompiledExpr
  /// Where it was written (what a condition's or a record key's error points at).
  var span: Span = .unknown
  /// A list literal's `...$xs` item: its items are spread into the list.
  var spread = false
}

/// Compiles the expressions that hot code is made of — literals, addressed variables, a row
/// condition's bare field names, arithmetic and comparisons, `and`/`or`/`not`, field paths, list
/// and record literals, `( … )` around one call or expression, and `if` with single-expression
/// branches — into nested closures, once, when the
/// resolver has addressed them (so a tree is compiled before any thread runs it; a closure
/// holds nothing that changes). Running one then costs a call per node instead of a switch over
/// an indirect enum whose payload is copied (and retained) at every visit.
///
/// Each closure does exactly what `Evaluator.evalNode` does for its node — the same order of
/// evaluation, the same values and spans, the same errors (the slow paths are the evaluator's
/// own functions) — so compiling changes nothing but speed. Any other node is not compiled:
/// `eval` walks it, and its compiled children still run compiled.
enum ExprCompiler {
  /// The compiled form of `e`, or nil to leave it to `Evaluator.evalNode`. Children must have
  /// been compiled first (the resolver compiles bottom-up).
  static func compile(_ e: Expr) -> CompiledExpr? {
    let span = e.span
    switch e.kind {
    case .literal(let v):
      return { _, _ in v }
    case .variable(let name):
      guard let address = e.address else { return nil }
      // Not retained: the node owns its closure (a strong reference would be a cycle).
      unowned(unsafe) let node = e
      return { ev, frame in
        if let v = frame.value(at: address, name) { return v }
        return try ev.evalNode(node, in: frame)
      }
    case .field(let name):
      // A bare name in a row condition: the row's field (the path made once, not per row).
      let members = [PathMember.name(name, span, optional: false)]
      return { _, frame in
        guard let row = frame.lookup("it") ?? frame.lookup("in") else {
          throw ShellError(.nameField, "`\(name)` names a field, but there is no row here", at: span)
        }
        return try Paths.follow(row, members[...], at: span)
      }
    case .path(let base, let members):
      let b = run(base)
      // `$r.name`: the field read in the variable's slot, the record not copied out of it.
      if members.count == 1, case .name(let key, _, optional: false) = members[0], case .variable(let name) = base.kind,
        let address = base.address
      {
        return { ev, frame in
          if let v = frame.field(key, at: address, name) { return v }
          return try Paths.follow(try b(ev, frame), members[...], at: span)
        }
      }
      return { ev, frame in try Paths.follow(try b(ev, frame), members[...], at: span) }
    case .unary(let op, let operand):
      let x = run(operand)
      let at = operand.span
      if op == "not" { return { ev, frame in .bool(!(try x(ev, frame).condition(at: at)), span) } }
      return { ev, frame in try Operators.negate(try x(ev, frame), at: span) }
    case .binary(let op, let opSpan, let lhs, let rhs):
      let l = run(lhs)
      let r = run(rhs)
      let ls = lhs.span
      let rs = rhs.span
      switch op {
      case .and:
        return { ev, frame in
          guard try l(ev, frame).condition(at: ls) else { return .bool(false, span) }
          return .bool(try r(ev, frame).condition(at: rs), span)
        }
      case .or:
        return { ev, frame in
          if try l(ev, frame).condition(at: ls) { return .bool(true, span) }
          return .bool(try r(ev, frame).condition(at: rs), span)
        }
      default:
        unowned(unsafe) let left = lhs
        unowned(unsafe) let right = rhs
        // Integer operands read in place (a literal, a variable's slot): no value is made or
        // copied for them. Reading either has no effect, so when one is not an int (or the
        // result overflows) the general path below evaluates both again.
        if let li = intOperand(lhs), let ri = intOperand(rhs) {
          return { ev, frame in
            if let x = li(frame), let y = ri(frame), let k = Operators.intFast(op, x, y) { return Value(k, span) }
            let a = try l(ev, frame)
            let b = try r(ev, frame)
            if case .int(let x) = a.kind, case .int(let y) = b.kind, let k = Operators.intFast(op, x, y) { return Value(k, span) }
            return try Evaluator.binary(op, a, b, opSpan: opSpan, lhs: left, rhs: right, span: span)
          }
        }
        if case .literal(let constant) = rhs.kind, case .int(let y) = constant.kind {
          return { ev, frame in
            let a = try l(ev, frame)
            if case .int(let x) = a.kind, let k = Operators.intFast(op, x, y) { return Value(k, span) }
            return try Evaluator.binary(op, a, constant, opSpan: opSpan, lhs: left, rhs: right, span: span)
          }
        }
        return { ev, frame in
          let a = try l(ev, frame)
          let b = try r(ev, frame)
          if case .int(let x) = a.kind, case .int(let y) = b.kind, let k = Operators.intFast(op, x, y) { return Value(k, span) }
          return try Evaluator.binary(op, a, b, opSpan: opSpan, lhs: left, rhs: right, span: span)
        }
      }
    case .subexpression(let p):
      guard p.chain.isEmpty, p.elements.count == 1 else { return nil }
      switch p.elements[0] {
      case .expression(let x):
        let inner = run(x)
        return { ev, frame in
          // Changed in place, not copied (`with(span:)` would copy the value).
          var v = try inner(ev, frame)
          v.span = span
          return v
        }
      case .call(let node) where node.redirections.isEmpty:
        var positional: [ExprCode] = []
        for a in node.arguments {
          guard case .positional(let x) = a else { break }
          positional.append(ExprCode(run: run(x)))
        }
        guard positional.count == node.arguments.count else {
          return { ev, frame in try ev.evalCall(node, in: frame, input: .empty, sink: false).collect().with(span: span) }
        }
        // `(fib ($n - 1))`: a function that binds these arguments directly is called with them
        // compiled, for its value; anything else (a built-in, other parameters) as a command.
        let name = node.name
        let arguments = positional
        return { ev, frame in
          var v: Value
          let function = frame.function(name)
          if let f = function, f.directArity == arguments.count {
            v = try f.callForValue(arguments, node, in: frame, ev)
          } else {
            v = try ev.evalCall(node, function: function, in: frame, input: .empty, sink: false).collect()
          }
          v.span = span
          return v
        }
      default:
        return nil
      }
    case .list(let items):
      // A spread item is not compiled on its own (it is only ever a list's item): run it here.
      let parts: [ExprCode] = items.map { i in
        if case .spread(let x) = i.kind { ExprCode(run: run(x), span: x.span, spread: true) } else { ExprCode(run: run(i)) }
      }
      return { ev, frame in
        var out: [Value] = []
        out.reserveCapacity(parts.count)
        for p in parts {
          if p.spread {
            out.append(contentsOf: try Binder.spreadItems(try p.run(ev, frame), at: p.span))
          } else {
            out.append(try p.run(ev, frame))
          }
        }
        return .list(out, span)
      }
    case .record(let fields):
      let values = fields.map { ExprCode(run: run($0.value)) }
      var names: [String] = []
      for f in fields {
        guard case .literal(let k) = f.key.kind, case .string(let name) = k.kind else { break }
        names.append(name)
      }
      if names.count == fields.count, Set(names).count == names.count {
        // Every key a distinct constant (`{id: $i, key: …}`): one array of keys, made now and
        // shared by every record this literal builds; only the values are made per record.
        return { ev, frame in
          var out: [Value] = []
          out.reserveCapacity(values.count)
          for v in values { out.append(try v.run(ev, frame)) }
          return .record(Record(distinctKeys: names, values: out), span)
        }
      }
      // Computed or repeated keys: each key evaluated before its value, a repeated key's later
      // value replacing the earlier one in the earlier place.
      let keys = fields.map { ExprCode(run: run($0.key), span: $0.key.span) }
      return { ev, frame in
        var r = Record(capacity: keys.count)
        for i in 0..<keys.count {
          let key = try keys[i].run(ev, frame)
          guard case .string(let ks) = key.kind else {
            throw ShellError(.recordKey, "a record key must be a string, found \(key.typeName)", at: keys[i].span)
          }
          r[ks] = try values[i].run(ev, frame)
        }
        return .record(r, span)
      }
    case .ifElse(let branches, let otherwise):
      let conditions = branches.map { ExprCode(run: run($0.condition), span: $0.condition.span) }
      let bodies = branches.map { ExprCode(run: body($0.body)) }
      let fallback = otherwise.map(body)
      if conditions.count == 1 {
        // `if c { … } else { … }`, the common form: no arrays to index.
        let condition = conditions[0].run
        let at = conditions[0].span
        let then = bodies[0].run
        return { ev, frame in
          if try condition(ev, frame).condition(at: at) { return try then(ev, frame) }
          return try fallback?(ev, frame) ?? .null
        }
      }
      return { ev, frame in
        for i in 0..<conditions.count where try conditions[i].run(ev, frame).condition(at: conditions[i].span) {
          return try bodies[i].run(ev, frame)
        }
        return try fallback?(ev, frame) ?? .null
      }
    default:
      return nil
    }
  }

  /// An operand whose int value can be read without evaluating it: an int literal, or an
  /// addressed variable's slot (nil when it does not hold an int).
  private static func intOperand(_ e: Expr) -> ((Frame) -> Int64?)? {
    switch e.kind {
    case .literal(let v):
      guard case .int(let c) = v.kind else { return nil }
      return { _ in c }
    case .variable(let name):
      guard let address = e.address else { return nil }
      return { frame in frame.intValue(at: address, name) }
    default:
      return nil
    }
  }

  /// A child: its compiled form, or the evaluator's walk of it.
  private static func run(_ e: Expr) -> CompiledExpr {
    if let c = e.compiled { return c }
    unowned(unsafe) let node = e
    return { ev, frame in try ev.evalNode(node, in: frame) }
  }

  /// A block used as a value (`if`'s branches): its one expression, or the whole block.
  private static func body(_ b: Block) -> CompiledExpr {
    if let e = b.singleExpression { return run(e) }
    unowned(unsafe) let block = b
    return { ev, frame in try ev.evalBlock(block, in: frame, sink: false).collect() }
  }
}
