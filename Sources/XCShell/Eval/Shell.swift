import CSupport
import Foundation

/// A shell session: runs scripts and lines, renders their results and reports their errors.
public final class Shell: @unchecked Sendable {
  public let evaluator: Evaluator
  public var options: ShellOptions { evaluator.options }

  /// The sources this session has run, for error locations; they live as long as the session.
  public var sources: SourceMap { evaluator.sources }

  /// `environment` is the process's unless given (the caller may have read it already: each
  /// read builds it anew).
  public init(
    options: ShellOptions, registry: CommandRegistry = Builtins.registry(),
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    let sources = SourceMap()
    let renderer = DiagnosticRenderer(color: options.color, sources: sources)
    let output = OutputSink(lineBuffered: options.stdoutIsTTY, renderer: renderer)
    evaluator = Evaluator(registry: registry, options: options, output: output, sources: sources, environment: environment)
    evaluator.globals.declare("args", .list(options.arguments.map { .string($0) }), mutable: false)
    evaluator.renderHook = { [unowned self] pipe in try self.render(pipe) }
  }

  /// Parses a source, printing every syntax error; nil when there were any.
  public func parse(_ source: Source) -> Block? {
    sources.register(source)
    var parser = Parser(source: source, context: evaluator.registry)
    let block = parser.parseProgram()
    if parser.errors.isEmpty {
      evaluator.resolve(block, .globals(evaluator.globals.bindingNames))
      return block
    }
    for e in parser.errors { evaluator.output.reportError(e) }
    return nil
  }

  /// Runs a whole script and returns the process exit status (0, 1, an external command's status,
  /// 130 after SIGINT, 143 after SIGTERM). `fn main`, if defined, gets the script's arguments.
  public func runScript(_ source: Source) -> Int32 {
    defer { evaluator.output.flush() }
    guard let block = parse(source) else { return 1 }
    if let name = options.scriptName, name != "-" {
      evaluator.currentDirectory = [((name as NSString).deletingLastPathComponent as NSString).standardizingPath.isEmpty ? "." : (name as NSString).deletingLastPathComponent]
    }
    let globals = evaluator.globals
    evaluator.hoistFunctions(block, into: globals)
    var defers: [Block] = []
    var status: Int32 = 0
    var failure: (any Error)? = nil
    do {
      for statement in block.statements {
        if case .deferBlock(let b) = statement.kind {
          defers.append(b)
          continue
        }
        try render(try evaluator.evalStatement(statement, in: globals, sink: true))
      }
      if let main = globals.functions["main"] {
        try render(try callMain(main))
      }
    } catch {
      // Report first, then clean up: the failure is what the user needs to see.
      failure = error
      status = report(error)
    }
    do {
      try evaluator.runDefers(defers, in: globals, after: failure)
    } catch {
      let s = report(error)
      if status == 0 { status = s }
    }
    return status
  }

  /// Runs one REPL entry in the session's scope; errors are reported and the session continues.
  @discardableResult
  public func runLine(_ source: Source) -> Int32 {
    defer { evaluator.output.flush() }
    guard let block = parse(source) else { return 1 }
    evaluator.hoistFunctions(block, into: evaluator.globals)
    do {
      var defers: [Block] = []
      do {
        for statement in block.statements {
          if case .deferBlock(let b) = statement.kind { defers.append(b); continue }
          try render(try evaluator.evalStatement(statement, in: evaluator.globals, sink: true))
        }
      } catch {
        try evaluator.runDefers(defers, in: evaluator.globals, after: error)
        throw error
      }
      try evaluator.runDefers(defers, in: evaluator.globals, after: nil)
      return 0
    } catch {
      return report(error)
    }
  }

  /// Evaluates a source in the session's scope and returns the last statement's value
  /// (tests and examples use this; nothing is rendered).
  public func evaluate(_ source: Source) throws -> Value {
    sources.register(source)
    let block = try Parser.parse(source, context: evaluator.registry)
    evaluator.resolve(block, .globals(evaluator.globals.bindingNames))
    evaluator.hoistFunctions(block, into: evaluator.globals)
    var last = Value.null
    for statement in block.statements {
      last = try evaluator.evalStatement(statement, in: evaluator.globals, sink: false).collect()
    }
    return last
  }

  /// Prints an uncaught error and returns the exit status it means.
  func report(_ error: any Error) -> Int32 {
    switch error {
    case let e as ShellError:
      if e.code == .exit { return e.exitCode ?? 0 }
      evaluator.output.reportError(e)
      return e.exitCode ?? 1
    case let e as ShellErrors:
      for x in e.errors { evaluator.output.reportError(x) }
      return 1
    case ControlFlow.returnValue:
      return 0
    case ControlFlow.breakLoop(let s), ControlFlow.continueLoop(let s):
      evaluator.output.reportError(ShellError(.evalLoop, "`break` or `continue` outside a loop", at: s))
      return 1
    default:
      evaluator.output.writeError("error: \(error)\n")
      return 1
    }
  }

  private func callMain(_ main: UserFunction) throws -> Pipe {
    var sig = main.signature
    sig.name = options.scriptName.map { ($0 as NSString).lastPathComponent } ?? "main"
    if options.arguments.contains("--help") || options.arguments.contains("-h"),
      sig.flag(named: "help") == nil
    {
      if sig.summary.isEmpty, !main.decl.doc.isEmpty { sig.summary = main.decl.doc }
      evaluator.output.write(Help.text(sig))
      return .empty
    }
    let call = try Binder.bindText(sig, options.arguments, at: main.decl.nameSpan, evaluator: evaluator, frame: evaluator.globals)
    return try main.run(call, .empty)
  }

  /// Writes a top-level result: tables and records rendered, streams as they come, bytes as is.
  func render(_ pipe: Pipe) throws {
    let out = evaluator.output
    let renderer = Renderer(options)
    switch pipe {
    case .empty: return
    case .bytes(let b):
      while let chunk = try b.nextChunk() { out.write(chunk) }
    case .value(let v):
      if v.isNull { return }
      out.write(options.json ? v.toJSON() + "\n" : renderer.render(v))
    case .stream(let s):
      if options.json {
        try render(.value(try pipe.collect()))
        return
      }
      guard let first = try s.next() else { return }
      if first.recordValue != nil {
        var rows = [first]
        while let v = try s.next() { rows.append(v) }
        out.write(renderer.render(.list(rows)))
        return
      }
      out.write(renderer.render(.list([first])))
      while let v = try s.next() {
        try evaluator.checkInterrupt()
        out.write(renderer.render(.list([v])))
      }
    }
  }
}
