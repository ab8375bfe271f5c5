/// A function defined with `fn`: its signature is compiled from the parameter list and the
/// comment above it, so it is called, checked and documented like a built-in.
struct UserFunction: Command, @unchecked Sendable {
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
  }

  func run(_ call: Call, _ input: Pipe) throws -> Pipe {
    let ev = call.evaluator
    try ev.enterCall(at: call.head)
    defer { ev.leaveCall() }
    // A call reuses a finished call's scope unless that call made a closure (which may have
    // captured it); recursion takes one per level, so a few are kept.
    let frame = (ev.reusesScopes ? spare.take() : nil) ?? Frame(parent: scope)
    let mark = ev.closuresMade
    defer { if ev.reusesScopes, ev.closuresMade == mark { spare.put(frame) } }
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
    frame.declare("in", try input.collect(), mutable: false)
    do {
      return try ev.evalBlock(decl.body, in: frame, sink: call.sink, newScope: false)
    } catch ControlFlow.returnValue(let v) {
      return .value(v)
    } catch let c as ControlFlow {
      switch c {
      case .breakLoop(let s), .continueLoop(let s):
        throw ShellError(.evalLoop, "`break` or `continue` outside a loop", at: s)
      case .returnValue(let v): return .value(v)
      }
    }
  }
}

extension ParameterDecl {
  /// The variable a parameter binds: its name with dashes as underscores.
  var variableName: String {
    name.utf8.contains(UInt8(ascii: "-")) ? String(name.map { $0 == "-" ? "_" : $0 }) : name
  }
}

/// Scopes kept from finished calls for the next ones, emptied when put back (so they hold no
/// values); a few, as deep as recursion usually goes.
final class SpareFrames: @unchecked Sendable {
  private var frames: [Frame] = []
  static let limit = 32

  func take() -> Frame? { frames.popLast() }

  func put(_ frame: Frame) {
    guard frames.count < Self.limit else { return }
    frame.reset()
    frames.append(frame)
  }
}
