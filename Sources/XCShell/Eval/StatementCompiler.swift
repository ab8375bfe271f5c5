/// A statement compiled into a Swift closure: what `Evaluator` runs instead of switching over
/// the statement's kind. Compiled statements have no value.
typealias CompiledStatement = (Evaluator, Frame) throws -> Void

/// A compiled statement held in an array. Wrapped so it keeps its own calling convention: an
/// array of bare closures stores them at the generic one and calls each through a thunk.
struct StatementCode {
  let run: CompiledStatement
}

/// Compiles the statements loop bodies are made of, as `ExprCompiler` compiles expressions:
/// an assignment to an addressed variable (`s += $i`, `x = …`) runs its value and the
/// evaluator's own `assign`, without visiting the statement's enum (whose payload — target,
/// path, pipeline — is copied and retained at every visit). Anything else is walked.
enum StatementCompiler {
  /// Each statement's compiled form, or nil where it is walked; empty when none compiles.
  static func compile(_ block: Block) -> [StatementCode?] {
    let compiled = block.statements.map { compile($0).map(StatementCode.init) }
    return compiled.contains { $0 != nil } ? compiled : []
  }

  static func compile(_ s: Statement) -> CompiledStatement? {
    guard case .assign(let target, let op, let value) = s.kind, !target.isEnvironment, target.site.address != nil
    else { return nil }
    let span = value.span
    if let e = value.singleExpression {
      let rhs = e.compiled
      unowned(unsafe) let node = e
      // `r.a = …`, `r.n += …`: the field changed in the record's slot, as `Evaluator.update`
      // changes it (the same value and errors); anything else about the slot (no such field, not
      // a record, immutable) goes the general way, which reports it.
      if let rhs, let address = target.site.address, target.path.count == 1,
        case .name(let key, _, optional: false) = target.path[0]
      {
        let name = target.name
        return { ev, frame in
          let v = try rhs(ev, frame)
          let done = try frame.modifyField(key, at: address, name) { field in
            field = try op.map { try Operators.binary($0, field, v, at: span) } ?? v
          }
          if !done { try ev.assign(target, op, v, valueSpan: span, in: frame) }
        }
      }
      if let rhs {
        return { ev, frame in try ev.assign(target, op, try rhs(ev, frame), valueSpan: span, in: frame) }
      }
      return { ev, frame in try ev.assign(target, op, try ev.evalNode(node, in: frame), valueSpan: span, in: frame) }
    }
    return { ev, frame in
      try ev.assign(target, op, try ev.evalPipeline(value, in: frame, input: .empty, sink: false).collect(), valueSpan: span, in: frame)
    }
  }
}
