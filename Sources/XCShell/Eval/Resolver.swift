/// The resolver pass: after parsing, every `$name` whose binding is known statically gets its
/// address (how many scopes up, which slot there), so running it indexes instead of searching
/// by name; and every name that is declared nowhere becomes an error for `--check`.
///
/// It walks the tree with the same scopes the evaluator makes at run time (a block that
/// declares, a loop body, a function or closure call, a `catch` handler), each a list of slots
/// in declaration order, as `Frame` appends them. A reference gets no address (and is looked up
/// by name when it runs) when the binding cannot be known before it runs:
/// - it is in a scope after `source` or `use` (a file may declare anything);
/// - it is outside a function body (a function sees its scope as it is when called, so a later
///   `let` there is visible), a parameter's default (evaluated in the defining scope at each
///   call) or a `defer` body (it runs when its block ends);
/// - it is outside a scope the evaluator makes only at run time: an expression after `|` (a
///   scope for `$in` only when input came), an argument that may become a row condition;
/// - it names `$env`, `$in`/`$it` where none is bound, `$nu`/`$xcsh`, or it is unknown.
/// REPL lines start from the session's globals as they are, so globals from earlier lines are
/// addressed like any other.
struct Resolver {
  /// One run-time scope: its slots in order, with the mutability `--check` reports.
  private struct Scope {
    var names: [String] = []
    var mutable: [Bool] = []
    /// After `source`/`use`: any name may be bound here.
    var dynamic = false
    /// A boundary no address may cross (see the type's comment); the scope itself has no slots.
    var opaque = false
  }

  private let registry: CommandRegistry
  private let environment: [String: String]
  private var scopes: [Scope]
  /// Name errors, as `--check` reports them.
  private(set) var errors: [ShellError] = []

  /// Names every scope sees without declaring them (run-time specials and `$args`).
  static let builtinNames = ["args", "env", "in", "it", "nu", "xcsh"]

  /// Where the resolved block runs.
  enum Top {
    /// The session's globals, holding these bindings already (in order).
    case globals([String])
    /// A file run by `source` in the current scope: it appends to a scope of unknown size.
    case sourced
    /// A module loaded by `use`: a fresh scope under the globals.
    case module
  }

  init(registry: CommandRegistry, environment: [String: String], top: Top) {
    self.registry = registry
    self.environment = environment
    switch top {
    case .globals(let names):
      scopes = [Scope(names: names, mutable: names.map { _ in true })]
    case .sourced:
      scopes = [Scope(dynamic: true)]
    case .module:
      scopes = [Scope(dynamic: true), Scope()]
    }
  }

  /// Resolves a parsed block in place and returns the name errors (which only `--check`
  /// reports: running reports a name when it is reached, as before).
  @discardableResult
  static func resolve(_ block: Block, top: Top, registry: CommandRegistry, environment: [String: String])
    -> [ShellError]
  {
    var r = Resolver(registry: registry, environment: environment, top: top)
    r.resolveBlock(block, newScope: false)
    return r.errors
  }

  // MARK: - Scopes

  private mutating func push(_ scope: Scope = Scope()) { scopes.append(scope) }
  private mutating func pop() { scopes.removeLast() }
  private mutating func pushOpaque() { scopes.append(Scope(opaque: true)) }

  private mutating func declare(_ name: String, mutable: Bool = true) {
    scopes[scopes.count - 1].names.append(name)
    scopes[scopes.count - 1].mutable.append(mutable)
  }

  private enum Lookup {
    case slot(depth: Int, index: Int, mutable: Bool)
    /// Declared (or possibly declared) but not addressable before it runs.
    case named(mutable: Bool)
    case unknown
  }

  private func lookup(_ name: String) -> Lookup {
    var depth = 0
    var addressable = true
    var dynamic = false
    for s in scopes.reversed() {
      if s.opaque {
        addressable = false
        continue
      }
      // A file run here may have bound the name since: it is found by name (`--check` still
      // reports an assignment to an earlier `let`).
      if s.dynamic { dynamic = true }
      if let i = s.names.lastIndex(of: name) {
        return addressable && !dynamic ? .slot(depth: depth, index: i, mutable: s.mutable[i]) : .named(mutable: s.mutable[i])
      }
      depth += 1
    }
    if dynamic || Self.builtinNames.contains(name) { return .named(mutable: true) }
    return .unknown
  }

  private var visibleNames: [String] {
    scopes.reversed().flatMap { $0.names.reversed() } + Self.builtinNames
  }

  // MARK: - Walk

  private mutating func resolveBlock(_ block: Block, newScope: Bool = true) {
    let scoped = newScope && block.declares
    if scoped { push() }
    for s in block.statements { resolveStatement(s) }
    if scoped { pop() }
    block.compiled = StatementCompiler.compile(block)
  }

  private mutating func resolveStatement(_ s: Statement) {
    switch s.kind {
    case .pipeline(let p): resolvePipeline(p)
    case .letDecl(let name, _, let mutable, _, let value):
      resolvePipeline(value)
      declare(name, mutable: mutable)
    case .assign(let target, _, let value):
      resolvePipeline(value)
      guard !target.isEnvironment else { return }
      switch lookup(target.name) {
      case .slot(let depth, let index, let mutable):
        target.site.address = VarAddress(depth: depth, index: index)
        if !mutable { errors.append(Evaluator.immutableError(target)) }
      case .named(let mutable):
        if !mutable { errors.append(Evaluator.immutableError(target)) }
      case .unknown:
        errors.append(
          ShellError(
            .nameUnknownVariable, "no variable named `\(target.name)`", at: target.span,
            help: "declare it first with `var \(target.name) = ...`"))
      }
    case .fnDecl(let d):
      // The body runs in a scope of its own under the defining one as it is at the call.
      pushOpaque()
      push()
      for p in d.parameters {
        if let dv = p.defaultValue {
          // Evaluated in the defining scope at each call.
          pushOpaque()
          resolveExpr(dv)
          pop()
        }
        declare(p.variableName)
      }
      declare("in")
      resolveBlock(d.body, newScope: false)
      pop()
      pop()
    case .forLoop(let name, _, let index, let iterable, let body):
      resolveExpr(iterable)
      push()
      // The evaluator binds the index first.
      if let index { declare(index.0) }
      declare(name)
      resolveBlock(body, newScope: false)
      pop()
    case .whileLoop(let c, let body):
      resolveExpr(c)
      resolveBlock(body)
    case .loop(let body): resolveBlock(body)
    case .breakLoop, .continueLoop: break
    case .returnValue(let p): if let p { resolvePipeline(p) }
    case .deferBlock(let b):
      // It runs when the block ends, seeing what the block declared after it.
      pushOpaque()
      resolveBlock(b)
      pop()
    case .source(let path):
      resolveExpr(path)
      scopes[scopes.count - 1].dynamic = true
    case .use(let path, _):
      resolveExpr(path)
      scopes[scopes.count - 1].dynamic = true
    }
  }

  private mutating func resolvePipeline(_ p: Pipeline) {
    for link in p.chain { resolvePipeline(link.pipeline) }
    for (i, e) in p.elements.enumerated() {
      switch e {
      case .expression(let x):
        // After `|`, the evaluator makes a scope for `$in` only when input came.
        if i > 0 { pushOpaque() }
        resolveExpr(x)
        if i > 0 { pop() }
      case .external(let x):
        x.arguments.forEach { resolveArgument($0, mayBeCondition: false) }
        for r in x.redirections { if let t = r.target { resolveExpr(t) } }
      case .call(let c):
        // Only a built-in takes a row condition (a function's parameters cannot be one); a
        // function of the same name in scope only makes this cautious.
        let condition = registry.command(c.name)?.signature.parameters.contains { $0.shape == .condition } ?? false
        for a in c.arguments { resolveArgument(a, mayBeCondition: condition) }
        for r in c.redirections { if let t = r.target { resolveExpr(t) } }
      }
    }
  }

  private mutating func resolveArgument(_ a: Argument, mayBeCondition: Bool) {
    switch a {
    case .positional(let e):
      // A row condition runs in a closure of its own (`$it`, `$in`); a written closure is the same either way.
      // Whether it does is known only when it is bound, so nothing in it is addressed from outside
      // (`$in` and `$it` are then looked up by name).
      if mayBeCondition, !e.isClosure {
        pushOpaque()
        resolveExpr(e)
        pop()
      } else {
        resolveExpr(e)
      }
    case .flag(_, _, _, let v): if let v { resolveExpr(v) }
    case .endOfFlags: break
    case .spread(let e, _): resolveExpr(e)
    }
  }

  private mutating func resolveClosure(_ decl: ClosureDecl) {
    push()
    for p in decl.parameters {
      if let d = p.defaultValue {
        // Evaluated in the captured scope at each call.
        pushOpaque()
        resolveExpr(d)
        pop()
      }
      declare(p.name)
      if p.kind == .rest { break }
    }
    declare("in")
    if decl.parameters.isEmpty { declare("it") }
    resolveBlock(decl.body, newScope: false)
    pop()
  }

  private mutating func resolveExpr(_ e: Expr) {
    resolveNode(e)
    // After its children: a compiled node runs its children's compiled forms.
    e.compiled = ExprCompiler.compile(e)
  }

  private mutating func resolveNode(_ e: Expr) {
    switch e.kind {
    case .literal, .field: break
    case .variable(let name):
      switch lookup(name) {
      case .slot(let depth, let index, _): e.address = VarAddress(depth: depth, index: index)
      case .named: break
      case .unknown:
        errors.append(ShellError.unknownVariable(name, at: e.span, visible: visibleNames, environment: environment))
      }
    case .path(let base, _): resolveExpr(base)
    case .interpolated(let parts):
      for p in parts { if case .expr(let x) = p { resolveExpr(x) } }
    case .list(let items): items.forEach { resolveExpr($0) }
    case .record(let fields):
      for (k, v) in fields {
        resolveExpr(k)
        resolveExpr(v)
      }
    case .closure(let decl): resolveClosure(decl)
    case .subexpression(let p): resolvePipeline(p)
    case .unary(_, let x): resolveExpr(x)
    case .binary(_, _, let l, let r):
      resolveExpr(l)
      resolveExpr(r)
    case .range(let a, let b, _):
      if let a { resolveExpr(a) }
      if let b { resolveExpr(b) }
    case .ifElse(let branches, let otherwise):
      for (c, b) in branches {
        resolveExpr(c)
        resolveBlock(b)
      }
      if let otherwise { resolveBlock(otherwise) }
    case .tryCatch(let body, let name, let handler):
      resolveBlock(body)
      if let handler {
        // The evaluator always makes the handler's scope.
        push()
        if let name { declare(name) }
        resolveBlock(handler, newScope: false)
        pop()
      }
    case .block(let b): resolveBlock(b)
    case .spread(let x): resolveExpr(x)
    case .match(let subject, let arms):
      resolveExpr(subject)
      for arm in arms {
        for case .value(let p) in arm.patterns { resolveExpr(p) }
        if let g = arm.guardExpr { resolveExpr(g) }
        resolveBlock(arm.body)
      }
    }
  }
}

extension Expr {
  var isClosure: Bool {
    if case .closure = kind { return true }
    return false
  }
}
