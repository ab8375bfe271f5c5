import CSupport
import Foundation

/// Runs syntax trees: statements, pipelines, command calls and expressions.
///
/// One evaluator per script or REPL session. Commands reach the session through `Call.evaluator`:
/// output, environment, interrupts and the command table.
public final class Evaluator: @unchecked Sendable {
  public let registry: CommandRegistry
  public let output: OutputSink
  public var options: ShellOptions
  /// Environment passed to external commands (`$env`).
  public var environment: [String: String]
  /// The script's top scope.
  public let globals: Frame
  /// The session's sources (scripts, lines, loaded files), for error locations.
  public let sources: SourceMap
  /// Directory of the file being run, for relative `source`/`use` paths.
  var currentDirectory: [String] = []
  /// Modules loaded by `use`, by path, so each loads once.
  private var modules: [String: Frame] = [:]
  /// Renders a value at the top level (set by `Shell`): what the left side of `a && b` returns
  /// is shown as if it were a statement of its own.
  var renderHook: ((Pipe) throws -> Void)? = nil
  /// Whether `> file`, `< file`, … may open files (the fuzzer turns them off: a generated script
  /// must not write files).
  public var allowsRedirections = true
  /// Runs on another thread beside others (a `par-each` or `fleet` worker): this process's
  /// standard output and error are shared, so a worker never points them elsewhere.
  var isWorker = false
  /// Counts closures created, so loops know when a reused scope may have been captured.
  var closuresMade = 0
  /// Whether calls may keep a scope for the next call of the same function or closure: not on a
  /// `par-each` worker, whose functions and closures other workers call at the same time.
  private(set) var reusesScopes = true
  /// Guards against runaway recursion with a clear error instead of a stack overflow.
  private var callDepth = 0
  static let maxCallDepth = 400

  public init(
    registry: CommandRegistry, options: ShellOptions, output: OutputSink, sources: SourceMap = SourceMap(),
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.registry = registry
    self.sources = sources
    self.options = options
    self.output = output
    self.environment = environment
    self.globals = Frame(parent: nil)
  }

  /// A new evaluator sharing this one's commands, output and environment, for another thread.
  func fork() -> Evaluator {
    let e = Evaluator(registry: registry, options: options, output: output, sources: sources, environment: environment)
    e.currentDirectory = currentDirectory
    e.allowsRedirections = allowsRedirections
    e.ambient = ambient
    e.isWorker = true
    e.reusesScopes = false
    return e
  }

  /// A parallel worker running `closure` on another thread: its own forked evaluator, stopped
  /// by `cancellation`, and its own copy of the closure's variables.
  func worker(running closure: Closure, cancellation: CancelFlag) -> (Evaluator, Closure) {
    let worker = self.fork()
    worker.cancellation = cancellation
    let copy = Closure(decl: closure.decl, captured: closure.captured.snapshot(), capturedCount: closure.capturedCount)
    return (worker, copy)
  }

  // MARK: - Ambient values

  /// Values set for the extent of a block and seen by every command called inside it, on this
  /// evaluator and on the workers it forks (`on HOST { … }` sets `host`). Commands read them;
  /// only `withAmbient` changes them, so a block's setting never outlives the block.
  public private(set) var ambient: [String: String] = [:]

  /// Runs `body` with the ambient `key` set to `value` (nil unsets it), restoring it afterwards
  /// however `body` ends.
  public func withAmbient<T>(_ key: String, _ value: String?, _ body: () throws -> T) rethrows -> T {
    let saved = ambient[key]
    ambient[key] = value
    defer { ambient[key] = saved }
    return try body()
  }

  /// A parser context over the command table (for sub-command names and row conditions).
  public var parserContext: any ParserContext { registry }

  // MARK: - Interrupts

  /// Set on a `par-each` worker's evaluator: another item failed, so this one stops too.
  var cancellation: CancelFlag? = nil
  /// The error's message when `cancellation` is set (a `fleet` worker says why it stopped).
  var cancellationReason = "cancelled: another `par-each` item failed"

  /// Throws if SIGINT or SIGTERM arrived (or this `par-each` worker was cancelled); long loops
  /// and waits call this.
  @inline(__always) public func checkInterrupt() throws {
    let sig = cs_signal_pending()
    if sig != 0 { throw interruption(sig) }
    if let c = cancellation, c.isSet { throw ShellError(.cancelled, cancellationReason) }
  }

  func interruption(_ sig: Int32) -> ShellError {
    cs_signal_clear()
    // The `timeout` command's alarm: it turns this into its own error.
    if sig == SIGALRM { return ShellError(.timeoutAlarm, "timed out") }
    let name = sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT"
    return ShellError(.interrupted, "interrupted by \(name)", exitCode: 128 + sig)
  }

  // MARK: - Blocks and statements

  /// Runs a block in a new scope (or `frame` itself when `reuse`), returning its last value.
  /// `sink` says whether the last statement's output goes to the terminal.
  func evalBlock(_ block: Block, in parent: Frame, sink: Bool, newScope: Bool = true) throws -> Pipe {
    // One expression: no scope, functions, defers or statements to walk.
    if let e = block.singleExpression { return .value(try eval(e, in: parent)) }
    let frame = newScope && block.declares ? Frame(parent: parent) : parent
    hoistFunctions(block, into: frame)
    if !block.hasDefer { return try evalStatements(block, in: frame, sink: sink) }
    var defers: [Block] = []
    var result: Pipe = .empty
    do {
      result = try evalStatements(block, in: frame, sink: sink, defers: &defers)
      // Defers run before the block's value is consumed, so collect it first.
      if case .stream = result { result = .value(try result.collect()) }
      if case .bytes = result { result = .value(try result.collect()) }
    } catch {
      try runDefers(defers, in: frame, after: error)
      throw error
    }
    try runDefers(defers, in: frame, after: nil)
    return result
  }

  func hoistFunctions(_ block: Block, into frame: Frame) {
    if block.functions.isEmpty { return }
    for decl in block.functions { frame.functions[decl.name] = UserFunction(decl: decl, scope: frame) }
  }

  private func evalStatements(_ block: Block, in frame: Frame, sink: Bool) throws -> Pipe {
    var defers: [Block] = []
    return try evalStatements(block, in: frame, sink: sink, defers: &defers)
  }

  private func evalStatements(_ block: Block, in frame: Frame, sink: Bool, defers: inout [Block]) throws -> Pipe {
    var last: Pipe = .empty
    let statements = block.statements
    let compiled = block.compiled
    let n = statements.count
    for i in 0..<n {
      // A compiled statement has no value (an assignment).
      if !compiled.isEmpty, let code = compiled[i] {
        try code.run(self, frame)
        last = .empty
        continue
      }
      let s = statements[i]
      if case .deferBlock(let b) = s.kind {
        defers.append(b)
        last = .empty
        continue
      }
      let isLast = i == n - 1
      let out = try evalStatement(s, in: frame, sink: isLast ? sink : true)
      if isLast { last = out } else { try drain(out) }
    }
    return last
  }

  /// Runs defers last-in first-out. A failing defer is reported and the others still run; if the
  /// block itself succeeded, the first defer failure becomes the block's error.
  func runDefers(_ defers: [Block], in frame: Frame, after error: (any Error)?) throws {
    // A worker cancelled because a sibling failed or the run was interrupted still cleans up
    // completely: the flag would otherwise stop each defer at its first check (a second Ctrl-C
    // still does).
    let cancellation = self.cancellation
    self.cancellation = nil
    defer { self.cancellation = cancellation }
    var firstFailure: (any Error)? = nil
    for d in defers.reversed() {
      do {
        try drain(try evalBlock(d, in: frame, sink: true))
      } catch let e as ShellError {
        if error != nil || firstFailure != nil {
          output.reportError(e, prefix: "in defer: ")
        } else {
          firstFailure = e
        }
      } catch {
        if firstFailure == nil { firstFailure = error }
      }
    }
    if let firstFailure { throw firstFailure }
  }

  /// Consumes a pipe whose value nobody uses: runs its stream to the end for side effects.
  func drain(_ pipe: Pipe) throws {
    switch pipe {
    case .empty, .value: return
    case .stream(let s): while try s.next() != nil { try checkInterrupt() }
    case .bytes(let b):
      while let chunk = try b.nextChunk() { output.write(chunk) }
    }
  }

  func evalStatement(_ s: Statement, in frame: Frame, sink: Bool) throws -> Pipe {
    switch s.kind {
    case .pipeline(let p):
      return try evalPipeline(p, in: frame, input: .empty, sink: sink)
    case .letDecl(let name, _, let mutable, let type, let value):
      var v = try evalValue(value, in: frame)
      if let type { v = try checkAnnotation(v, type) }
      frame.declare(name, v, mutable: mutable)
      return .empty
    case .assign(let target, let op, let value):
      try evalAssignment(target, op, value, in: frame)
      return .empty
    case .fnDecl(let decl):
      for p in decl.parameters {
        if let t = p.type, Shape.named(t.name) == nil {
          throw ShellError(.typeUnknown, "unknown type `\(t.name)`", at: t.span, help: Binder.typeNamesHelp)
        }
      }
      return .empty
    case .forLoop(let name, _, let index, let iterable, let body):
      let seq = try eval(iterable, in: frame)
      if case .range(let r) = seq.kind, r.end != nil {
        try forRange(r, name: name, index: index, body: body, in: frame, span: seq.span)
        return .empty
      }
      let stream = try ValueStream.iterate(seq)
      var i: Int64 = 0
      var bodyFrame = Frame(parent: frame)
      var fresh = true
      var mark = closuresMade
      while let item = try stream.next() {
        try checkInterrupt()
        // Reuse the scope unless the last iteration made a closure, which keeps its own `$name`.
        if closuresMade != mark {
          mark = closuresMade
          bodyFrame = Frame(parent: frame)
          fresh = true
        }
        bindLoopVariables(bodyFrame, fresh: fresh, index: index, i, name, item)
        fresh = false
        i += 1
        guard try runIteration(body, in: bodyFrame, newScope: false) else { break }
      }
      return .empty
    case .whileLoop(let condition, let body):
      while try eval(condition, in: frame).condition(at: condition.span) {
        try checkInterrupt()
        guard try runIteration(body, in: frame) else { break }
      }
      return .empty
    case .loop(let body):
      while true {
        try checkInterrupt()
        guard try runIteration(body, in: frame) else { break }
      }
      return .empty
    case .breakLoop: throw ControlFlow.breakLoop(s.span)
    case .continueLoop: throw ControlFlow.continueLoop(s.span)
    case .returnValue(let p):
      let v = try p.map { try evalPipeline($0, in: frame, input: .empty, sink: false).collect() } ?? .null
      throw ControlFlow.returnValue(v)
    case .deferBlock:
      return .empty  // collected by evalStatements
    case .source(let pathExpr):
      let path = try resolvePath(try eval(pathExpr, in: frame).asString(), at: pathExpr.span)
      let block = try load(path, at: pathExpr.span, as: .sourced)
      return try withDirectory(of: path) {
        hoistFunctions(block, into: frame)
        return try evalBlock(block, in: frame, sink: sink, newScope: false)
      }
    case .use(let pathExpr, let names):
      try use(pathExpr, names: names, into: frame)
      return .empty
    }
  }

  /// `for x in a..b`: counts directly instead of pulling a stream.
  private func forRange(_ r: RangeValue, name: String, index: (String, Span)?, body: Block, in frame: Frame, span: Span) throws {
    guard let count = r.count, count > 0 else { return }
    var bodyFrame = Frame(parent: frame)
    var fresh = true
    var mark = closuresMade
    var value = r.start
    for i in 0..<count {
      try checkInterrupt()
      if closuresMade != mark {
        mark = closuresMade
        bodyFrame = Frame(parent: frame)
        fresh = true
      }
      bindLoopVariables(bodyFrame, fresh: fresh, index: index, i, name, .int(value, span))
      fresh = false
      value &+= r.step
      if let statements = body.compiledWhole {
        // Every statement compiled (`s += $i`): run them, no block to walk.
        do {
          for s in statements { try s.run(self, bodyFrame) }
        } catch ControlFlow.breakLoop {
          return
        } catch ControlFlow.continueLoop {
          continue
        }
        continue
      }
      guard try runIteration(body, in: bodyFrame, newScope: false) else { return }
    }
  }

  /// Binds a loop's variables (`index` first) in a new scope, or again in the last iteration's
  /// (the same slots: the resolver addressed them once).
  @inline(__always) private func bindLoopVariables(
    _ frame: Frame, fresh: Bool, index: (String, Span)?, _ i: Int64, _ name: String, _ item: Value
  ) {
    if fresh {
      if let index { frame.declare(index.0, .int(i), mutable: false) }
      frame.declare(name, item, mutable: false)
      return
    }
    let k = index == nil ? 1 : 2
    frame.keep(k)
    if index != nil { frame.set(0, .int(i)) }
    frame.set(k - 1, item)
  }

  /// Runs one iteration of a loop body; false when it said `break`.
  private func runIteration(_ body: Block, in frame: Frame, newScope: Bool = true) throws -> Bool {
    do {
      try drain(try evalBlock(body, in: frame, sink: true, newScope: newScope))
      return true
    } catch ControlFlow.breakLoop {
      return false
    } catch ControlFlow.continueLoop {
      return true
    }
  }

  private func checkAnnotation(_ v: Value, _ type: TypeAnnotation) throws -> Value {
    guard let shape = Shape.named(type.name) else {
      throw ShellError(.typeUnknown, "unknown type `\(type.name)`", at: type.span, help: Binder.typeNamesHelp)
    }
    return try Binder.coerce(v, to: shape, at: v.span.isKnown ? v.span : type.span, sources: sources)
  }

  /// The value of a pipeline used as a value (`let`, assignment): an expression is evaluated
  /// directly, anything else runs as a pipeline and is collected.
  @inline(__always) func evalValue(_ p: Pipeline, in frame: Frame) throws -> Value {
    if let e = p.singleExpression { return try eval(e, in: frame) }
    return try evalPipeline(p, in: frame, input: .empty, sink: false).collect()
  }

  private func evalAssignment(_ target: AssignTarget, _ op: BinaryOp?, _ valuePipe: Pipeline, in frame: Frame) throws {
    try assign(target, op, try evalValue(valuePipe, in: frame), valueSpan: valuePipe.span, in: frame)
  }

  /// `target op= rhs` (or `target = rhs`), `rhs` evaluated from the text at `valueSpan`.
  func assign(_ target: AssignTarget, _ op: BinaryOp?, _ rhs: Value, valueSpan: Span, in frame: Frame) throws {
    // `s += $i`: integers changed in their slot.
    if let op, case .int(let y) = rhs.kind, target.path.isEmpty, let a = target.site.address,
      frame.applyIntFast(op, y, at: a, target.name, span: valueSpan)
    {
      return
    }
    if target.isEnvironment {
      guard case .name(let key, _, _)? = target.path.first, target.path.count == 1 else {
        throw ShellError(.envPath, "assign to one variable: `$env.NAME = value`", at: target.span)
      }
      var value = rhs
      if let op {
        let old = environment[key].map { Value.string($0) } ?? .null
        value = try Operators.binary(op, old, rhs, at: target.span)
      }
      if value.isNull { environment[key] = nil } else { environment[key] = try Self.envString(value, at: valueSpan) }
      return
    }
    let result = try frame.modify(target.name, at: target.site.address) { current in
      if target.path.isEmpty {
        if let op {
          if case .int(let x) = current.kind, case .int(let y) = rhs.kind, let k = Operators.intFast(op, x, y) {
            current = Value(k, valueSpan)
            return
          }
          if Operators.appendInPlace(op, &current, rhs, at: valueSpan) { return }
        }
        current = try op.map { try Operators.binary($0, current, rhs, at: valueSpan) } ?? rhs
      } else {
        try Self.update(&current, path: target.path[...], op: op, rhs, at: valueSpan)
      }
    }
    switch result {
    case .ok: return
    case .notFound:
      throw ShellError(
        .nameUnknownVariable, "no variable named `\(target.name)`", at: target.span,
        help: "declare it first with `var \(target.name) = ...`")
    case .immutable:
      throw Self.immutableError(target)
    }
  }

  static func immutableError(_ target: AssignTarget) -> ShellError {
    ShellError(
      .nameImmutable, "cannot assign to `\(target.name)`: it was declared with `let` or `const`", at: target.span,
      help: "declare it with `var \(target.name) = ...` to change it")
  }

  static func update(_ value: inout Value, path: ArraySlice<PathMember>, op: BinaryOp?, _ rhs: Value, at span: Span) throws {
    guard let member = path.first else {
      value = try op.map { try Operators.binary($0, value, rhs, at: span) } ?? rhs
      return
    }
    // A field or item that exists is changed in place: the record or list is moved out of
    // `value` while it changes, so its storage is not shared and not copied (a copy of every
    // field or item at each `x.f = …`). `value` gets it back however the change ends; on an
    // error nothing in it has changed (each level assigns only after the levels below it did).
    switch member {
    case .name(let key, _, _):
      if case .record(var r) = value.kind, let i = r.index(of: key) {
        let whole = value.span
        value.kind = .null
        defer { value = Value(.record(r), whole) }
        try r.updateValue(at: i) { try update(&$0, path: path.dropFirst(), op: op, rhs, at: span) }
        return
      }
    case .index(let i, let s, _):
      if case .list(var items) = value.kind {
        guard i >= 0, i < items.count else {
          throw ShellError(.pathIndex, "index \(i) is out of range (list has \(items.count) items)", at: s)
        }
        let whole = value.span
        value.kind = .null
        defer { value = Value(.list(items), whole) }
        try update(&items[i], path: path.dropFirst(), op: op, rhs, at: span)
        return
      }
    }
    // A new field of a record.
    if case .name(let key, _, _) = member, case .record(var r) = value.kind {
      var field = Value.null
      try update(&field, path: path.dropFirst(), op: op, rhs, at: span)
      r[key] = field
      value = Value(.record(r), value.span)
      return
    }
    throw ShellError(.pathAssign, "cannot set a field of \(value.typeNameWithArticle)", at: member.span)
  }

  static func envString(_ v: Value, at span: Span) throws -> String {
    switch v.kind {
    case .list(let items): return try items.map { try envString($0, at: span) }.joined(separator: ":")
    case .record, .closure: throw ShellError(.envType, "environment variables hold text, not \(v.typeName)", at: span)
    default: return v.plain
    }
  }

  // MARK: - Modules

  /// A path a user names to a command (`open`, `save`): relative to the working directory;
  /// `~` and `~/…` are in the home directory.
  func resolveUserPath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    if path == "~" || path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst() }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
  }

  /// A path in `source`/`use`: relative to the directory of the file that says it.
  func resolvePath(_ path: String, at span: Span) throws -> String {
    if path.hasPrefix("/") { return path }
    if path == "~" || path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst() }
    let base = currentDirectory.last ?? FileManager.default.currentDirectoryPath
    return (base as NSString).appendingPathComponent(path)
  }

  /// Reads, parses and resolves a file for `source` (run in the current scope) or `use` (a module).
  func load(_ path: String, at span: Span, as top: Resolver.Top) throws -> Block {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw ShellError(.ioNotFound, "cannot read `\(path)`", at: span)
    }
    let source = sources.add(name: path, text: text)
    do {
      let block = try Parser.parse(source, context: parserContext)
      resolve(block, top)
      return block
    } catch {
      var first = error.errors[0]
      first = first.with(span, "loaded here")
      throw first
    }
  }

  /// Runs the resolver pass over a parsed block (its name errors are `--check`'s; running reports
  /// a name when it is reached).
  func resolve(_ block: Block, _ top: Resolver.Top) {
    Resolver.resolve(block, top: top, registry: registry, environment: environment)
  }

  func withDirectory<T>(of path: String, _ body: () throws -> T) throws -> T {
    currentDirectory.append((path as NSString).deletingLastPathComponent)
    defer { currentDirectory.removeLast() }
    return try body()
  }

  /// `use file.xcs` makes its functions callable as `file NAME`; `use file.xcs *` or
  /// `use file.xcs [a b]` imports them by their own names.
  private func use(_ pathExpr: Expr, names: [String]?, into frame: Frame) throws {
    let path = try resolvePath(try eval(pathExpr, in: frame).asString(), at: pathExpr.span)
    let module: Frame
    if let m = modules[path] {
      module = m
    } else {
      let block = try load(path, at: pathExpr.span, as: .module)
      module = Frame(parent: globals)
      try withDirectory(of: path) {
        hoistFunctions(block, into: module)
        // A module's top level declares; it does not run commands.
        for s in block.statements {
          switch s.kind {
          case .letDecl, .fnDecl, .use: _ = try evalStatement(s, in: module, sink: false)
          default:
            throw ShellError(
              .moduleStatement, "a module used with `use` may only declare functions and constants",
              at: s.span, help: "use `source` to run a file's commands")
          }
        }
      }
      modules[path] = module
    }
    let moduleName = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    for (name, command) in module.functions {
      if let names {
        if names.isEmpty || names.contains(name) { frame.functions[name] = command }
      } else {
        frame.functions["\(moduleName) \(name)"] = command
      }
    }
    if let names {
      for n in names where module.functions[n] == nil {
        throw ShellError(.moduleName, "`\(moduleName)` has no function `\(n)`", at: pathExpr.span)
      }
    }
  }

  // MARK: - Pipelines

  func evalPipeline(_ p: Pipeline, in frame: Frame, input: Pipe, sink: Bool) throws -> Pipe {
    if !p.chain.isEmpty { return try evalChain(p, in: frame, input: input, sink: sink) }
    if p.elements.count == 1 { return try evalElement(p.elements[0], in: frame, input: input, sink: sink) }
    var pipe = input
    let last = p.elements.count - 1
    for (i, element) in p.elements.enumerated() {
      pipe = try evalElement(element, in: frame, input: pipe, sink: sink && i == last)
    }
    return pipe
  }

  func evalElement(_ element: PipelineElement, in frame: Frame, input: Pipe, sink: Bool) throws -> Pipe {
    switch element {
    case .expression(let e):
      if input.isEmpty { return .value(try eval(e, in: frame)) }
      let scope = Frame(parent: frame)
      scope.declare("in", try input.collect(), mutable: false)
      return .value(try eval(e, in: scope))
    case .call(let node):
      if !node.redirections.isEmpty {
        let external = resolve(node.name, in: frame) == nil
        return try withRedirections(node.redirections, in: frame, input: input, sink: sink, external: external) {
          input, sink in
          try evalCall(node, in: frame, input: input, sink: sink)
        }
      }
      return try evalCall(node, in: frame, input: input, sink: sink)
    case .external(let node):
      let args = try externalArguments(node.arguments, in: frame)
      return try withRedirections(
        node.redirections, in: frame, input: input, sink: sink, external: true,
        direct: { input, files in
          try External.run(
            name: node.name, args: args, at: node.nameSpan, span: node.span, input: input, sink: sink, evaluator: self,
            stderrToStdout: node.redirections.stderrFollowsStdout, files: files)
        }
      ) { input, sink in
        try External.run(
          name: node.name, args: args, at: node.nameSpan, span: node.span, input: input, sink: sink, evaluator: self,
          stderrToStdout: node.redirections.stderrFollowsStdout)
      }
    }
  }

  /// `a && b || c`, as in bash and fish: `&&` runs the next pipeline only if everything so far
  /// succeeded, `||` only if something failed. A failure that no `||` handles is the chain's
  /// error (the script stops, as for any failed command); the chain's value is the last run
  /// pipeline's. Each pipeline runs to the end before the next one starts.
  private func evalChain(_ p: Pipeline, in frame: Frame, input: Pipe, sink: Bool) throws -> Pipe {
    var head = p
    head.chain = []
    var result: Pipe = .empty
    var failure: ShellError? = nil
    func attempt(_ q: Pipeline, input: Pipe) throws {
      // What the previous pipeline printed or returned comes out before the next one runs.
      if sink, let renderHook { try renderHook(result) }
      result = .empty
      do {
        let out = try evalPipeline(q, in: frame, input: input, sink: sink)
        result = out.isEmpty ? .empty : .value(try out.collect())
        failure = nil
      } catch let e as ShellError where e.isCatchable {
        failure = e
      }
    }
    try attempt(head, input: input)
    for link in p.chain {
      switch link.op {
      case .and: if failure != nil { continue }
      case .or: if failure == nil { continue }
      }
      try attempt(link.pipeline, input: .empty)
    }
    if let failure { throw failure }
    return result
  }

  /// Finds what a command word means now: a function in scope, a built-in, or nil (external).
  public func resolve(_ name: String, in frame: Frame) -> (any Command)? {
    frame.function(name) ?? registry.command(name)
  }

  func evalCall(_ node: CallNode, in frame: Frame, input: Pipe, sink: Bool) throws -> Pipe {
    try evalCall(node, function: frame.function(node.name), in: frame, input: input, sink: sink)
  }

  /// `evalCall` when the caller has already looked the name up among functions in scope.
  func evalCall(_ node: CallNode, function: UserFunction?, in frame: Frame, input: Pipe, sink: Bool) throws -> Pipe {
    // A function called with one positional argument per parameter: no binder, no `Call`.
    if let f = function, f.bindsDirectly(node.arguments) {
      return try f.callDirectly(node, in: frame, self, sink: sink, input)
    }
    guard let command = function ?? registry.command(node.name) else {
      if node.name.contains(" ") {
        // `str nope`: the group exists but not the sub-command.
        let group = String(node.name.split(separator: " ")[0])
        throw ShellError.unknownCommand(node.name, at: node.nameSpan, candidates: registry.names.filter { $0.hasPrefix(group + " ") })
      }
      if registry.isGroup(node.name) {
        // `str upcse`: name the whole command and suggest the group's members.
        var name = node.name
        var span = node.nameSpan
        if case .positional(let e)? = node.arguments.first, case .literal(let v) = e.kind, case .string(let w) = v.kind {
          name += " " + w
          span = span.to(e.span)
        }
        var e = ShellError.unknownCommand(name, at: span, candidates: registry.names.filter { $0.hasPrefix(node.name + " ") })
        if let h = Habits.help(for: name, isCommand: { self.resolve($0, in: frame) != nil }) { e.help = h }
        throw e
      }
      guard External.which(node.name, environment: environment) != nil else {
        var e = ShellError(
          .nameUnknownCommand, "unknown command `\(node.name)`", at: node.nameSpan,
          note: "not a built-in, a function or a program on PATH")
        if let h = Habits.help(
          for: node.name, first: Habits.firstWord(node.arguments), second: Habits.word(node.arguments, 1),
          isCommand: { self.resolve($0, in: frame) != nil })
        {
          e.help = h
        } else if let s = Suggest.closest(node.name, in: registry.names + frame.visibleFunctions) {
          e.help = "did you mean `\(s)`?"
        }
        throw e
      }
      let args = try externalArguments(node.arguments, in: frame)
      return try External.run(
        name: node.name, args: args, at: node.nameSpan, span: node.span, input: input, sink: sink, evaluator: self,
        stderrToStdout: node.redirections.stderrFollowsStdout)
    }
    if Self.asksForHelp(node.arguments), command.signature.flag(named: "help") == nil {
      output.write(Help.text(command.signature))
      return .empty
    }
    let call = try Binder.bind(command.signature, node, in: frame, evaluator: self, sink: sink)
    do {
      return try command.run(call, input)
    } catch var e as ShellError {
      if e.labels.isEmpty { e = e.located(at: node.nameSpan) }
      if e.command == nil { e.command = node.name }
      throw e
    }
  }

  /// `CMD --help` or `CMD -h` (before any `--`) shows the command's help.
  static func asksForHelp(_ args: [Argument]) -> Bool {
    for a in args {
      switch a {
      case .endOfFlags: return false
      case .flag(let n, let short, _, _) where (n == "help" && !short) || (n == "h" && short): return true
      default: continue
      }
    }
    return false
  }

  /// Arguments of an external command: every value becomes one word (lists become several).
  func externalArguments(_ args: [Argument], in frame: Frame) throws -> [String] {
    var out: [String] = []
    for a in args {
      switch a {
      case .positional(let e):
        let v = try eval(e, in: frame)
        switch v.kind {
        case .list(let items): out.append(contentsOf: items.map(\.plain))
        case .range: out.append(contentsOf: try v.asList().map(\.plain))
        case .record, .closure:
          throw ShellError(.externalArgument, "cannot pass \(v.typeNameWithArticle) to an external command", at: e.span)
        default: out.append(v.plain)
        }
      case .flag(let name, let short, _, let value):
        let text = (short ? "-" : "--") + name
        if let value { out.append(text + "=" + (try eval(value, in: frame)).plain) } else { out.append(text) }
      case .spread(let e, _):
        for item in try Binder.spreadItems(try eval(e, in: frame), at: e.span) {
          if case .record = item.kind {
            throw ShellError(.externalArgument, "cannot pass a record to an external command", at: e.span)
          }
          out.append(item.plain)
        }
      case .endOfFlags:
        out.append("--")
      }
    }
    return out
  }

  // MARK: - Functions and closures

  func enterCall(at span: Span) throws {
    // Recursion with no loop in it must stay interruptible (Ctrl-C, SIGTERM, `timeout`).
    try checkInterrupt()
    callDepth += 1
    // The count is the rule users see; the stack check catches threads with smaller stacks
    // (par-each workers) and builds with bigger frames (sanitizers) before they overflow.
    if callDepth > Evaluator.maxCallDepth || cs_stack_remaining() < Evaluator.minStackLeft {
      let why =
        callDepth > Evaluator.maxCallDepth
        ? "more than \(Evaluator.maxCallDepth) nested calls"
        : "this thread's stack is nearly used up after \(callDepth) nested calls"
      // This call was not entered (its caller's `leaveCall` is not armed yet); the calls it is
      // nested in leave one by one as the error unwinds them.
      callDepth -= 1
      throw ShellError(
        .evalRecursion, "recursion is too deep (\(why))", at: span,
        help: "check the function's base case")
    }
  }

  /// Stack kept free below the deepest call: room for a built-in command's own frames.
  static let minStackLeft = 256 << 10

  func leaveCall() { callDepth -= 1 }

  /// Calls a closure with one argument (the row of `where`, `each`, …) without building an array.
  public func invoke(_ closure: Closure, one arg: Value, at span: Span) throws -> Value {
    guard closure.decl.takesOneValue else { return try invoke(closure, [arg], at: span) }
    try enterCall(at: span)
    defer { leaveCall() }
    let spare = reusesScopes ? closure.takeSpare() : nil
    let frame = spare ?? closure.newFrame()
    let mark = closuresMade
    // Keep the scope for the next call unless this call made a closure that may have captured it.
    defer { if reusesScopes, closuresMade == mark { closure.spareFrame = frame } }
    if spare != nil, frame.bindingCount >= 2 {
      // The last call's slots, bound again: `[name, in]` or `[in, it]`.
      frame.rebindFirstTwo(arg)
    } else {
      frame.reset()
      if let name = closure.decl.parameters.first?.name {
        frame.declare(name, arg, mutable: false)
        frame.declare("in", arg, mutable: false)
      } else {
        frame.declare("in", arg, mutable: false)
        frame.declare("it", arg, mutable: false)
      }
    }
    // The common `{|x| $x * 2}`: its one compiled expression, no block machinery.
    if let body = closure.decl.body.singleExpression?.compiled {
      do {
        return try body(self, frame)
      } catch let c as ControlFlow {
        return try c.valueAtEndOfBody()
      }
    }
    return try runClosureBody(closure.decl.body, in: frame)
  }

  /// Calls a closure with positional arguments; `$in` is bound to the input (or the first argument).
  public func invoke(_ closure: Closure, _ args: [Value], input: Pipe = .empty, at span: Span) throws -> Value {
    try enterCall(at: span)
    defer { leaveCall() }
    let frame = reusesScopes ? closure.takeFrame() : closure.newFrame()
    let mark = closuresMade
    // Keep the scope for the next call unless this call made a closure that may have captured it.
    defer { if reusesScopes, closuresMade == mark { closure.spareFrame = frame } }
    let decl = closure.decl
    let params = decl.parameters
    if let names = decl.simpleParameterNames {
      for i in 0..<names.count { frame.declare(names[i], i < args.count ? args[i] : .null, mutable: false) }
    } else {
      try bindParameters(params, args, closure, frame)
    }
    var inValue: Value
    switch input {
    case .empty: inValue = args.first ?? .null
    default: inValue = try input.collect()
    }
    frame.declare("in", inValue, mutable: false)
    if params.isEmpty { frame.declare("it", inValue, mutable: false) }
    return try runClosureBody(decl.body, in: frame)
  }

  private func runClosureBody(_ body: Block, in frame: Frame) throws -> Value {
    do {
      // The common `{|x| $x * 2}`: one expression, no block machinery.
      if let e = body.singleExpression { return try eval(e, in: frame) }
      return try evalBlock(body, in: frame, sink: false, newScope: false).collect()
    } catch let c as ControlFlow {
      return try c.valueAtEndOfBody()
    }
  }

  private func bindParameters(_ params: [ParameterDecl], _ args: [Value], _ closure: Closure, _ frame: Frame) throws {
    for (i, p) in params.enumerated() {
      if p.kind == .rest {
        frame.declare(p.name, .list(Array(args.dropFirst(i))), mutable: false)
        break
      }
      var v = i < args.count ? args[i] : .null
      if i >= args.count, let d = p.defaultValue { v = try eval(d, in: closure.captured) }
      if let t = p.type { v = try checkAnnotation(v, t) }
      frame.declare(p.name, v, mutable: false)
    }
  }

  // MARK: - Expressions

  public func eval(_ e: Expr, in frame: Frame) throws -> Value {
    if let compiled = e.compiled { return try compiled(self, frame) }
    return try evalNode(e, in: frame)
  }

  /// Evaluates a node by its kind (what a compiled expression does faster; see `ExprCompiler`).
  func evalNode(_ e: Expr, in frame: Frame) throws -> Value {
    switch e.kind {
    case .literal(let v):
      return v
    case .variable(let name):
      if let a = e.address, let v = frame.value(at: a, name) { return v }
      if let v = frame.lookup(name) { return v }
      return try specialVariable(name, at: e.span, in: frame)
    case .field(let name):
      // A bare name in a row condition: the row's field.
      guard let row = frame.lookup("it") ?? frame.lookup("in") else {
        throw ShellError(.nameField, "`\(name)` names a field, but there is no row here", at: e.span)
      }
      return try Paths.follow(row, [.name(name, e.span, optional: false)][...], at: e.span)
    case .path(let base, let members):
      let b = try eval(base, in: frame)
      return try Paths.follow(b, members[...], at: e.span)
    case .interpolated(let parts):
      var s = ""
      for p in parts {
        switch p {
        case .text(let t): s += t
        case .expr(let x):
          let v = try eval(x, in: frame)
          switch v.kind {
          case .closure: throw ShellError(.stringInterpolation, "cannot put a closure in a string", at: x.span)
          default: s += v.plain
          }
        }
      }
      return .string(s, e.span)
    case .list(let items):
      var out: [Value] = []
      out.reserveCapacity(items.count)
      for i in items {
        if case .spread(let x) = i.kind {
          out.append(contentsOf: try Binder.spreadItems(try eval(x, in: frame), at: x.span))
        } else {
          out.append(try eval(i, in: frame))
        }
      }
      return .list(out, e.span)
    case .record(let fields):
      var r = Record()
      for (k, v) in fields {
        let key = try eval(k, in: frame)
        guard case .string(let ks) = key.kind else {
          throw ShellError(.recordKey, "a record key must be a string, found \(key.typeName)", at: k.span)
        }
        r[ks] = try eval(v, in: frame)
      }
      return .record(r, e.span)
    case .closure(let decl):
      closuresMade &+= 1
      return Value(.closure(Closure(decl: decl, captured: frame)), e.span)
    case .subexpression(let p):
      return try evalPipeline(p, in: frame, input: .empty, sink: false).collect().with(span: e.span)
    case .unary(let op, let operand):
      let v = try eval(operand, in: frame)
      if op == "not" { return .bool(!(try v.condition(at: operand.span)), e.span) }
      return try Operators.negate(v, at: e.span)
    case .binary(let op, let opSpan, let lhs, let rhs):
      let l = try eval(lhs, in: frame)
      switch op {
      case .and:
        guard try l.condition(at: lhs.span) else { return .bool(false, e.span) }
        return .bool(try eval(rhs, in: frame).condition(at: rhs.span), e.span)
      case .or:
        if try l.condition(at: lhs.span) { return .bool(true, e.span) }
        return .bool(try eval(rhs, in: frame).condition(at: rhs.span), e.span)
      default:
        let r = try eval(rhs, in: frame)
        if case .int(let a) = l.kind, case .int(let b) = r.kind, let k = Operators.intFast(op, a, b) { return Value(k, e.span) }
        return try Self.binary(op, l, r, opSpan: opSpan, lhs: lhs, rhs: rhs, span: e.span)
      }
    case .range(let from, let to, let inclusive):
      func bound(_ x: Expr) throws -> Int64 {
        let v = try eval(x, in: frame)
        guard case .int(let i) = v.kind else { throw ShellError.typeMismatch(expected: "int", found: v, at: x.span) }
        return i
      }
      let a = try from.map(bound) ?? 0
      let b = try to.map(bound)
      let step: Int64 = b.map { $0 < a ? -1 : 1 } ?? 1
      return Value(.range(RangeValue(start: a, end: b, inclusive: inclusive, step: step)), e.span)
    case .ifElse(let branches, let otherwise):
      for (cond, body) in branches where try eval(cond, in: frame).condition(at: cond.span) {
        return try evalBlock(body, in: frame, sink: false).collect()
      }
      if let otherwise { return try evalBlock(otherwise, in: frame, sink: false).collect() }
      return .null
    case .tryCatch(let body, let name, let handler):
      do {
        return try evalBlock(body, in: frame, sink: false).collect()
      } catch let err as ShellError where err.isCatchable {
        guard let handler else { return .null }
        let scope = Frame(parent: frame)
        if let name { scope.declare(name, err.asValue(sources: sources), mutable: false) }
        return try evalBlock(handler, in: scope, sink: false, newScope: false).collect()
      }
    case .block(let b):
      return try evalBlock(b, in: frame, sink: false).collect()
    case .spread:
      // The parser makes spreads only as list items, which `.list` expands.
      throw ShellError(.argsSpread, "`...` spreads only into a list or a command's arguments", at: e.span)
    case .match(let subjectExpr, let arms):
      let subject = try eval(subjectExpr, in: frame)
      for arm in arms {
        var hit = false
        for pattern in arm.patterns where !hit {
          switch pattern {
          case .wildcard: hit = true
          case .value(let p): hit = try Self.matches(subject, try eval(p, in: frame))
          }
        }
        guard hit else { continue }
        if let g = arm.guardExpr, !(try eval(g, in: frame).condition(at: g.span)) { continue }
        return try evalBlock(arm.body, in: frame, sink: false).collect()
      }
      throw ShellError(
        .matchNone, "no arm of `match` matched \(subject.typeName) `\(subject.plain)`", at: subjectExpr.span,
        help: "add a last arm `_ => { … }` for every other value")
    }
  }

  /// A binary operator off the integer fast path; a type error labels both operands.
  static func binary(_ op: BinaryOp, _ l: Value, _ r: Value, opSpan: Span, lhs: Expr, rhs: Expr, span: Span) throws -> Value {
    do {
      var v = try Operators.binary(op, l, r, at: opSpan)
      v.span = span
      return v
    } catch var err as ShellError where err.code == .typeOperands {
      err.labels = [
        .init(opSpan, ""), .init(lhs.span, l.typeName), .init(rhs.span, r.typeName),
      ]
      throw err
    }
  }

  /// A `match` pattern against the subject: a range holds numbers in it; other values are equal
  /// (values of different types simply do not match).
  static func matches(_ subject: Value, _ pattern: Value) throws -> Bool {
    if case .range(let r) = pattern.kind {
      switch subject.kind {
      case .int(let i): return r.contains(i)
      case .float(let d):
        let lo = Double(min(r.start, r.end ?? r.start)), hi = r.end.map { Double(max(r.start, $0)) }
        guard d >= lo else { return false }
        if let hi { return r.inclusive ? d <= hi : d < hi }
        return true
      default: break
      }
    }
    switch (subject.kind, pattern.kind) {
    case (.int, .float), (.float, .int): return try Operators.equal(subject, pattern, "==", at: .unknown)
    default:
      guard subject.isNull || pattern.isNull || Operators.sameKind(subject, pattern) else { return false }
      return try Operators.equal(subject, pattern, "==", at: .unknown)
    }
  }

  private func specialVariable(_ name: String, at span: Span, in frame: Frame) throws -> Value {
    switch name {
    case "env":
      var r = Record()
      for k in environment.keys.sorted() { r[k] = .string(environment[k]!) }
      return .record(r, span)
    case "in", "it":
      return Value(.null, span)
    case "nu", "xcsh":
      return .record(Record([("version", .string(ShellOptions.version)), ("pid", .int(Int64(getpid())))]), span)
    default:
      throw ShellError.unknownVariable(name, at: span, visible: frame.visibleNames + ["env", "args"], environment: environment)
    }
  }
}

extension ShellError {
  /// Whether `try` (and `||`) may handle it: interrupts, timeouts, `exit` and cancellations pass.
  var isCatchable: Bool {
    code != .interrupted && code != .timeoutAlarm && code != .exit && code != .cancelled
  }

  /// The record `catch e` binds: `{message, code, exit_code, command, span}`.
  func asValue(sources: SourceMap) -> Value {
    var r = Record()
    r["message"] = .string(message)
    r["code"] = .string(code.rawValue)
    r["exit_code"] = exitCode.map { .int(Int64($0)) } ?? .null
    r["command"] = command.map { .string($0) } ?? .null
    r["span"] = span.map { .string($0.location(in: sources)) } ?? .null
    for (k, v) in payload.sorted(by: { $0.key < $1.key }) where r[k] == nil { r[k] = .string(v) }
    return .record(r)
  }

  /// `$name` that is not in scope; `$HOME` (an environment variable, as bash spells it) says
  /// `$env.HOME`.
  static func unknownVariable(_ name: String, at span: Span, visible: [String], environment: [String: String])
    -> ShellError
  {
    var err = ShellError(.nameUnknownVariable, "no variable named `$\(name)`", at: span)
    let looksLikeEnvironment = name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } && name.contains { $0.isLetter }
    if environment[name] != nil || looksLikeEnvironment {
      err.help = "environment variables are read as `$env.\(name)`"
    } else if let s = Suggest.closest(name, in: visible) {
      err.help = "did you mean `$\(s)`?"
    }
    return err
  }

  static func unknownCommand(_ name: String, at span: Span, candidates: [String]) -> ShellError {
    var e = ShellError(.nameUnknownCommand, "unknown command `\(name)`", at: span)
    if let s = Suggest.closest(name, in: candidates) { e.help = "did you mean `\(s)`?" }
    return e
  }
}
