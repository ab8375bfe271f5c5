/// `--check`: parses a script and resolves its names without running it, reporting every error.
///
/// It finds syntax errors, unknown variables and assignments to unknown or `let` variables (the
/// resolver's pass, the one running a script makes), unknown commands (not built-in, not a
/// function in scope, not on PATH), unknown flags, flags missing their values and wrong argument
/// counts.
public struct Checker {
  let shell: Shell
  private var errors: [ShellError] = []
  /// Innermost scope last: function signatures declared there, and whether a `source`/`use`
  /// there may have declared anything.
  private var scopes: [(fns: [String: Signature], dynamic: Bool)] = []

  public init(shell: Shell) { self.shell = shell }

  private var registry: CommandRegistry { shell.evaluator.registry }

  public mutating func check(_ source: Source) -> [ShellError] {
    shell.sources.register(source)
    var parser = Parser(source: source, context: registry)
    let block = parser.parseProgram()
    errors = parser.errors
    // Variables: the resolver's name errors, from the scope a script starts in.
    let globals = shell.evaluator.globals.bindingNames
    errors += Resolver.resolve(block, top: .globals(globals), registry: registry, environment: shell.evaluator.environment)
    scopes = [([:], false)]
    bindings = [[:]]
    checkBlock(block, newScope: false)
    return errors.sorted { ($0.span?.start ?? 0) < ($1.span?.start ?? 0) }
  }

  // MARK: - Scopes

  /// Per scope, what `do $name ARGS…` is checked against: a name `let` binds to a literal
  /// closure maps to it; any other declaration of a name maps to nil (it hides an outer one).
  /// Names only; which binding a `$name` means at run time is the resolver's.
  private var bindings: [[String: ClosureDecl?]] = [[:]]

  private mutating func push() {
    scopes.append(([:], false))
    bindings.append([:])
  }
  private mutating func pop() {
    scopes.removeLast()
    bindings.removeLast()
  }
  /// Records a declaration of `name` in the innermost scope, with the literal closure `let`
  /// bound it to, if any.
  private mutating func bind(_ name: String, closure: ClosureDecl? = nil) {
    bindings[bindings.count - 1][name] = .some(closure)
  }
  /// The literal closure the innermost declaration of `name` is bound to.
  private func literalClosure(_ name: String) -> ClosureDecl? {
    for scope in bindings.reversed() { if let found = scope[name] { return found } }
    return nil
  }

  private func function(_ name: String) -> Signature? {
    for s in scopes.reversed() { if let f = s.fns[name] { return f } }
    return nil
  }

  // MARK: - Walk

  private mutating func checkBlock(_ block: Block, newScope: Bool = true) {
    if newScope { push() }
    for s in block.statements {
      if case .fnDecl(let d) = s.kind {
        scopes[scopes.count - 1].fns[d.name] = UserFunction(decl: d, scope: Frame(parent: nil)).signature
      }
    }
    for s in block.statements { checkStatement(s) }
    if newScope { pop() }
  }

  private mutating func checkStatement(_ s: Statement) {
    switch s.kind {
    case .pipeline(let p): checkPipeline(p)
    case .letDecl(let name, _, let mutable, let type, let value):
      checkPipeline(value)
      defer {
        var closure: ClosureDecl? = nil
        if !mutable, value.chain.isEmpty, value.elements.count == 1, case .expression(let e) = value.elements[0],
          case .closure(let decl) = e.kind
        {
          closure = decl
        }
        bind(name, closure: closure)
      }
      if let type, Shape.named(type.name) == nil {
        errors.append(ShellError(.typeUnknown, "unknown type `\(type.name)`", at: type.span, help: Binder.typeNamesHelp))
      } else if let type, let shape = Shape.named(type.name), value.chain.isEmpty, value.elements.count == 1,
        case .expression(let e) = value.elements[0]
      {
        checkLiteral(e, shape)
      }
    case .assign(_, _, let value):
      checkPipeline(value)
    case .fnDecl(let d):
      push()
      for p in d.parameters {
        bind(p.variableName)
        if let t = p.type, Shape.named(t.name) == nil {
          errors.append(ShellError(.typeUnknown, "unknown type `\(t.name)`", at: t.span, help: Binder.typeNamesHelp))
        }
        if let dv = p.defaultValue {
          checkExpr(dv)
          if let t = p.type, let shape = Shape.named(t.name) { checkLiteral(dv, shape) }
        }
      }
      checkBlock(d.body, newScope: false)
      pop()
    case .forLoop(let name, _, let index, let iterable, let body):
      checkExpr(iterable)
      push()
      bind(name)
      if let index { bind(index.0) }
      checkBlock(body, newScope: false)
      pop()
    case .whileLoop(let c, let body):
      checkExpr(c)
      checkBlock(body)
    case .loop(let body): checkBlock(body)
    case .breakLoop, .continueLoop: break
    case .returnValue(let p): if let p { checkPipeline(p) }
    case .deferBlock(let b): checkBlock(b)
    case .source(let path):
      checkExpr(path)
      // A sourced file may declare anything; stop reporting unknown names here.
      scopes[scopes.count - 1].dynamic = true
    case .use(let path, _):
      checkExpr(path)
      scopes[scopes.count - 1].dynamic = true
    }
  }

  private mutating func checkPipeline(_ p: Pipeline) {
    for link in p.chain { checkPipeline(link.pipeline) }
    for e in p.elements {
      switch e {
      case .expression(let x): checkExpr(x)
      case .external(let x):
        x.arguments.forEach { checkArgument($0) }
        for r in x.redirections { if let t = r.target { checkExpr(t) } }
      case .call(let c):
        checkCall(c)
        for r in c.redirections { if let t = r.target { checkExpr(t) } }
      }
    }
  }

  private mutating func checkArgument(_ a: Argument) {
    switch a {
    case .positional(let e): checkExpr(e)
    case .flag(_, _, _, let v): if let v { checkExpr(v) }
    case .endOfFlags: break
    case .spread(let e, _):
      checkExpr(e)
      if case .literal(let v) = e.kind, (try? Binder.spreadItems(v, at: e.span)) == nil {
        errors.append(
          ShellError(.argsSpread, "`...` spreads a list into arguments, found \(v.typeName)", at: e.span))
      }
    }
  }

  private mutating func checkCall(_ c: CallNode) {
    let sig = function(c.name) ?? registry.command(c.name)?.signature
    let condition = sig.flatMap { $0.parameters.first { !$0.isFlag } }?.shape == .condition
    for (i, a) in c.arguments.enumerated() {
      if condition, i == 0, case .positional(let e) = a {
        push()
        bind("it")
        checkExpr(e, condition: true)
        pop()
      } else {
        checkArgument(a)
      }
    }
    guard let sig else {
      let dynamic = scopes.contains { $0.dynamic }
      if !dynamic, External.which(c.name, environment: shell.evaluator.environment) == nil {
        let isCommand = { (n: String) in registry.command(n) != nil || function(n) != nil }
        if registry.isGroup(c.name), case .positional(let first)? = c.arguments.first, let w = Habits.firstWord(c.arguments) {
          // `image ls`: name the whole command, as running it does, and suggest the group's members.
          let name = c.name + " " + w
          var e = ShellError.unknownCommand(
            name, at: c.nameSpan.to(first.span), candidates: registry.names.filter { $0.hasPrefix(c.name + " ") })
          if let h = Habits.help(for: name, isCommand: isCommand) { e.help = h }
          errors.append(e)
          return
        }
        let candidates = registry.names + scopes.flatMap { $0.fns.keys }
        var e = ShellError(
          .nameUnknownCommand, "unknown command `\(c.name)`", at: c.nameSpan,
          note: "not a built-in, a function or a program on PATH")
        if let h = Habits.help(
          for: c.name, first: Habits.firstWord(c.arguments), second: Habits.word(c.arguments, 1), isCommand: isCommand)
        {
          e.help = h
        } else if let s = Suggest.closest(c.name, in: candidates) {
          e.help = "did you mean `\(s)`?"
        }
        errors.append(e)
      }
      return
    }
    let before = errors.count
    checkBinding(sig, c)
    for i in before..<errors.count { errors[i] = Binder.withProgramHint(errors[i], sig) }
    if c.name == "do", function("do") == nil, errors.count == before { checkDo(c) }
  }

  /// `do CLOSURE ARGS…` with a literal closure, or a name `let` bound to one: the argument
  /// count, and literal arguments against typed parameters, as calling it would check them.
  private mutating func checkDo(_ c: CallNode) {
    var positionals: [Expr] = []
    for a in c.arguments {
      switch a {
      case .positional(let e): positionals.append(e)
      case .endOfFlags: continue
      // A spread's length, or a flag's meaning, is known only when it runs.
      case .spread, .flag: return
      }
    }
    guard let target = positionals.first else { return }
    let decl: ClosureDecl
    switch target.kind {
    case .closure(let d): decl = d
    case .variable(let name):
      guard let d = literalClosure(name) else { return }
      decl = d
    default: return
    }
    let args = positionals.dropFirst()
    if let e = DoCommand.arityError(decl, args.count, at: c.span) {
      errors.append(e)
      return
    }
    let params = decl.parameters.filter { $0.kind == .positional }
    for (p, e) in zip(params, args) {
      if let t = p.type, let shape = Shape.named(t.name) { checkLiteral(e, shape) }
    }
  }

  /// The binder's static half: flags exist, valued flags have values, positional counts fit.
  private mutating func checkBinding(_ sig: Signature, _ c: CallNode) {
    var positionals = 0
    var positionalSpans: [Span] = []
    var positionalExprs: [Expr] = []
    var spread = false
    var passedFlags = false
    var args = c.arguments[...]
    if c.arguments.contains(where: {
      if case .flag(let n, let short, _, _) = $0 { return (n == "help" && !short) || (n == "h" && short) }
      return false
    }) {
      return
    }
    while let a = args.popFirst() {
      switch a {
      case .positional(let e):
        positionals += 1
        positionalSpans.append(e.span)
        if !spread { positionalExprs.append(e) }
      case .endOfFlags: continue
      case .spread:
        // How many arguments a spread gives is known only when it runs.
        spread = true
      case .flag(let name, let short, let span, let inline):
        let params = short ? name.map { sig.flag(short: $0) } : [sig.flag(named: name)]
        for (i, p) in params.enumerated() {
          guard let p else {
            if !sig.acceptsAnyFlag {
              let shown = short ? String(Array(name)[i]) : name
              errors.append(Binder.unknownFlag(shown, short: short, at: span, sig))
            } else {
              passedFlags = true  // it becomes a positional when the command runs
            }
            break
          }
          if let inline, i == params.count - 1 { checkLiteral(inline, p.kind == .switch ? .bool : p.shape) }
          if p.kind == .named, inline == nil, i == params.count - 1 {
            if case .positional(let e)? = args.first {
              args.removeFirst()
              checkLiteral(e, p.shape)
            } else {
              errors.append(ShellError(.argsFlagValue, "flag `--\(p.name)` needs a value (\(p.shape.name))", at: span))
            }
          }
        }
      }
    }
    let required = sig.parameters.filter { $0.kind == .required }.count
    let optional = sig.parameters.filter { $0.kind == .optional }.count
    if !passedFlags {
      // Literal positionals against their parameters, in the binder's order (surplus to the rest).
      let params = sig.parameters.filter { !$0.isFlag }
      let ordered = params.filter { $0.kind != .rest } + params.filter { $0.kind == .rest }
      for (i, e) in positionalExprs.enumerated() {
        guard let p = i < ordered.count ? ordered[i] : ordered.last.flatMap({ $0.kind == .rest ? $0 : nil }) else { break }
        checkLiteral(e, p.shape)
      }
    }
    if spread { return }
    if positionals < required {
      let missing = sig.parameters.filter { $0.kind == .required }[positionals]
      errors.append(
        ShellError(
          .argsMissing, "`\(sig.name)` needs the `\(missing.name)` argument (\(missing.shape.name))", at: c.span,
          help: "usage: \(Help.usage(sig))"))
    } else if sig.restParameter == nil, positionals > required + optional {
      errors.append(
        ShellError(
          .argsExtra, "`\(sig.name)` takes \(required + optional) positional argument\(required + optional == 1 ? "" : "s"), found \(positionals)",
          at: positionalSpans[required + optional], note: "unexpected",
          help: Habits.help(for: sig.name, first: Habits.firstWord(c.arguments), isCommand: { registry.command($0) != nil })
            ?? "usage: \(Help.usage(sig))"))
    }
  }

  /// A literal argument is checked against its parameter's type now, as binding it would be.
  private mutating func checkLiteral(_ e: Expr, _ shape: Shape) {
    guard case .literal(let v) = e.kind, shape != .condition else { return }
    do {
      _ = try Binder.coerce(v, to: shape, at: e.span, sources: shell.evaluator.sources)
    } catch let err as ShellError {
      errors.append(err)
    } catch {}
  }

  private mutating func checkExpr(_ e: Expr, condition: Bool = false) {
    switch e.kind {
    case .literal, .field, .variable: break
    case .path(let base, _): checkExpr(base, condition: condition)
    case .interpolated(let parts):
      for p in parts { if case .expr(let x) = p { checkExpr(x) } }
    case .list(let items): items.forEach { checkExpr($0) }
    case .record(let fields):
      for (k, v) in fields {
        checkExpr(k)
        checkExpr(v)
      }
    case .closure(let decl):
      push()
      bind("in")
      bind("it")
      for p in decl.parameters {
        if let d = p.defaultValue { checkExpr(d) }
        bind(p.name)
      }
      checkBlock(decl.body, newScope: false)
      pop()
    case .subexpression(let p): checkPipeline(p)
    case .unary(_, let x): checkExpr(x, condition: condition)
    case .binary(_, _, let l, let r):
      checkExpr(l, condition: condition)
      checkExpr(r, condition: condition)
    case .range(let a, let b, _):
      if let a { checkExpr(a) }
      if let b { checkExpr(b) }
    case .ifElse(let branches, let otherwise):
      for (c, b) in branches {
        checkExpr(c)
        checkBlock(b)
      }
      if let otherwise { checkBlock(otherwise) }
    case .tryCatch(let body, let name, let handler):
      checkBlock(body)
      if let handler {
        push()
        if let name { bind(name) }
        checkBlock(handler, newScope: false)
        pop()
      }
    case .block(let b): checkBlock(b)
    case .spread(let x):
      checkExpr(x)
      if case .literal(let v) = x.kind {
        do { _ = try Binder.spreadItems(v, at: x.span) } catch let err as ShellError { errors.append(err) } catch {}
      }
    case .match(let subject, let arms):
      checkExpr(subject)
      for arm in arms {
        for case .value(let p) in arm.patterns { checkExpr(p) }
        if let g = arm.guardExpr { checkExpr(g) }
        checkBlock(arm.body)
      }
    }
  }
}
