import Foundation

/// Maps a call's words to a command's parameters and checks their types.
///
/// Flags may come anywhere (`--flag`, `--flag=value`, `--flag value`, `-f`, `-abc`); `--` ends
/// them. Errors point at the offending word and say what the command takes.
enum Binder {
  static let typeNamesHelp =
    "types: any int float number string bool duration size datetime list record table closure range container image network volume"

  static func bind(
    _ sig: Signature, _ node: CallNode, in frame: Frame, evaluator ev: Evaluator, sink: Bool, fromText: Bool = false
  ) throws -> Call {
    do {
      return try bindArguments(sig, node, in: frame, evaluator: ev, sink: sink, fromText: fromText)
    } catch let e as ShellError {
      throw withProgramHint(e, sig)
    }
  }

  /// `rm -rf`, `kill -9 PID`, `ps aux`: a program's arguments given to the object command of
  /// the same name, which means something else entirely. A binding error then also says which
  /// one ran, and how to reach the program.
  static func withProgramHint(_ error: ShellError, _ sig: Signature) -> ShellError {
    let code = error.code.rawValue
    guard sig.category == .objects, code.hasPrefix("args.") || code.hasPrefix("type."), !sig.name.contains(" "),
      External.which(sig.name, environment: ProcessInfo.processInfo.environment) != nil
    else { return error }
    var e = error
    let what = sig.summary.prefix { $0 != "." && $0 != ":" && $0 != "(" }.trimmingCharacters(in: .whitespaces)
    let hint = "`\(sig.name)` here is xcsh's command (\(what.prefix(1).lowercased() + what.dropFirst())); the program is `^\(sig.name)`"
    e.help = e.help.map { "\($0); \(hint)" } ?? hint
    return e
  }

  private static func bindArguments(
    _ sig: Signature, _ node: CallNode, in frame: Frame, evaluator ev: Evaluator, sink: Bool, fromText: Bool
  ) throws -> Call {
    /// Arguments from a command line are text; convert them to the parameter's type.
    func coerce(_ v: Value, to shape: Shape, at span: Span) throws -> Value {
      if fromText, case .string(let s) = v.kind { return try Binder.coerce(try parseText(s, as: shape, at: span), to: shape, at: span, sources: ev.sources) }
      return try Binder.coerce(v, to: shape, at: span, sources: ev.sources)
    }
    var call = Call(name: sig.name, head: node.nameSpan, span: node.span, evaluator: ev, frame: frame, sink: sink)
    var positionals: [Value] = []
    /// Where each positional was written: type errors point there, not at the value's origin.
    var positionalSpans: [Span] = []
    // One allocation each rather than growing (a spread may still add more).
    positionals.reserveCapacity(node.arguments.count)
    positionalSpans.reserveCapacity(node.arguments.count)
    var args = node.arguments[...]
    while let arg = args.popFirst() {
      switch arg {
      case .positional(let e):
        if Binder.positionalParameter(sig, positionals.count)?.shape == .condition {
          // It captures the scope like a written closure: the scope may not be reused while it lives.
          ev.closuresMade &+= 1
          positionals.append(conditionClosure(e, in: frame))
        } else {
          positionals.append(try ev.eval(e, in: frame))
        }
        positionalSpans.append(e.span)
      case .spread(let e, _):
        for item in try Binder.spreadItems(try ev.eval(e, in: frame), at: e.span) {
          positionals.append(item)
          positionalSpans.append(e.span)
        }
      case .endOfFlags:
        continue
      case .flag(let name, let short, let span, let inline):
        // `-abc` is three short switches; only the last may take a value.
        let names: [(String, Parameter?)] =
          short
          ? name.map { c in (String(c), sig.flag(short: c)) }
          : [(name, sig.flag(named: name))]
        for (i, (flagName, param)) in names.enumerated() {
          guard let param else {
            if sig.acceptsAnyFlag {
              positionals.append(.string((short ? "-" : "--") + name, span))
              positionalSpans.append(span)
              break
            }
            throw unknownFlag(flagName, short: short, at: span, sig)
          }
          let isLast = i == names.count - 1
          switch param.kind {
          case .switch:
            if let inline, isLast {
              call.flags[param.name] = try coerce(try ev.eval(inline, in: frame), to: .bool, at: inline.span)
            } else {
              call.flags[param.name] = .bool(true, span)
            }
          default:
            guard isLast else {
              throw ShellError(
                .argsFlagValue, "flag `-\(flagName)` needs a value, so it must come last in `-\(name)`", at: span)
            }
            var given: Value
            if let inline {
              given = try coerce(try ev.eval(inline, in: frame), to: param.shape, at: inline.span)
            } else if case .positional(let e)? = args.first {
              args.removeFirst()
              given = try coerce(try ev.eval(e, in: frame), to: param.shape, at: e.span)
            } else {
              throw ShellError(
                .argsFlagValue, "flag `--\(param.name)` needs a value (\(param.shape.name))", at: span,
                help: "write `--\(param.name) VALUE` or `--\(param.name)=VALUE`")
            }
            // A flag given again collects its values (`-e A=1 -e B=2`).
            if let earlier = call.flags[param.name] {
              let items = (try? earlier.asList()) ?? [earlier]
              given = .list(items + [given], span)
            }
            call.flags[param.name] = given
          }
        }
      }
    }
    // Positionals in order, the surplus to the rest parameter.
    var next = 0
    func popFirst() -> (Value, Span)? {
      guard next < positionals.count else { return nil }
      defer { next += 1 }
      return (positionals[next], positionalSpans[next])
    }
    for p in sig.parameters where !p.isFlag {
      switch p.kind {
      case .required:
        guard let (v, at) = popFirst() else {
          throw ShellError(
            .argsMissing, "`\(sig.name)` needs the `\(p.name)` argument (\(p.shape.name))",
            at: node.span, help: "usage: \(Help.usage(sig))")
        }
        call.positional[p.name] = try coerce(v, to: p.shape, at: at)
      case .optional:
        if let (v, at) = popFirst() {
          call.positional[p.name] = try coerce(v, to: p.shape, at: at)
        } else if let d = p.defaultValue {
          call.positional[p.name] = d.with(span: .unknown)
        }
      case .rest:
        call.rest = try zip(positionals[next...], positionalSpans[next...]).map { v, at in
          do {
            return try coerce(v, to: p.shape, at: at)
          } catch var e as ShellError where Binder.isList(v) && p.shape != .list && p.shape != .table {
            e.help = "to pass a list's items as separate arguments, spread it: `...$list`"
            throw e
          }
        }
        next = positionals.count
      default: break
      }
    }
    if next < positionals.count {
      let (extra, extraSpan) = (positionals[next], positionalSpans[next])
      let n = sig.positionals.count
      throw ShellError(
        .argsExtra, "`\(sig.name)` takes \(n) positional argument\(n == 1 ? "" : "s"), found \(positionals.count)",
        at: extraSpan.isKnown ? extraSpan : (extra.span.isKnown ? extra.span : node.span), note: "unexpected",
        help: Habits.help(for: sig.name, first: Habits.firstWord(node.arguments), isCommand: { ev.resolve($0, in: frame) != nil })
          ?? "usage: \(Help.usage(sig))")
    }
    for p in sig.parameters where p.kind == .named && call.flags[p.name] == nil {
      if let d = p.defaultValue { call.flags[p.name] = d.with(span: .unknown) }
    }
    return call
  }

  static func isList(_ v: Value) -> Bool { if case .list = v.kind { true } else { false } }

  /// The items `...value` spreads: a list's or a range's; anything else is an error.
  static func spreadItems(_ v: Value, at span: Span) throws -> [Value] {
    switch v.kind {
    case .list(let items): return items
    case .range: return try v.asList()
    default:
      throw ShellError(
        .argsSpread, "`...` spreads a list into arguments, found \(v.typeName)", at: span,
        help: "write the value without `...` to pass it as one argument")
    }
  }

  /// Binds command-line words (`fn main`'s arguments): `--name=v`, `--name v`, `-n`, `--`, positionals.
  static func bindText(_ sig: Signature, _ words: [String], at span: Span, evaluator: Evaluator, frame: Frame) throws
    -> Call
  {
    var args: [Argument] = []
    var ended = false
    func literal(_ s: String) -> Expr { Expr(.literal(.string(s, span)), span) }
    for w in words {
      if !ended, w == "--" {
        ended = true
        args.append(.endOfFlags(span))
      } else if !ended, w.hasPrefix("--"), w.count > 2 {
        let body = w.dropFirst(2)
        if let eq = body.firstIndex(of: "=") {
          args.append(.flag(name: String(body[..<eq]), short: false, span: span, value: literal(String(body[body.index(after: eq)...]))))
        } else {
          args.append(.flag(name: String(body), short: false, span: span, value: nil))
        }
      } else if !ended, w.hasPrefix("-"), w.count > 1, Double(w) == nil {
        args.append(.flag(name: String(w.dropFirst()), short: true, span: span, value: nil))
      } else {
        args.append(.positional(literal(w)))
      }
    }
    let node = CallNode(name: sig.name, nameSpan: span, arguments: args, span: span)
    return try bind(sig, node, in: frame, evaluator: evaluator, sink: true, fromText: true)
  }

  /// Reads a command-line word as a value of the shape.
  static func parseText(_ s: String, as shape: Shape, at span: Span) throws -> Value {
    func bad() -> ShellError {
      ShellError(.argsValue, "invalid \(shape.name) `\(s)`", at: span, help: "expected a value of type \(shape.name)")
    }
    switch shape {
    case .int:
      guard let i = Int64(s) else { throw bad() }
      return .int(i, span)
    case .float, .number:
      if let i = Int64(s), shape == .number { return .int(i, span) }
      guard let d = Double(s) else { throw bad() }
      return .float(d, span)
    case .bool:
      switch s { case "true": return .bool(true, span); case "false": return .bool(false, span); default: throw bad() }
    case .duration, .size:
      let src = Source.transient(s)
      var lx = Lexer(source: src)
      guard let t = try? lx.next(.expression), lx.atEnd else { throw bad() }
      switch (t.kind, shape) {
      case (.duration(let d), .duration): return Value(.duration(d), span)
      case (.size(let n), .size): return Value(.size(n), span)
      case (.int(let n), .size): return Value(.size(n), span)
      default: throw bad()
      }
    case .list, .record, .table:
      return try JSONReader.parse(s, span: span)
    default:
      return .string(s, span)
    }
  }

  /// The `index`th positional (non-flag) parameter, without building a filtered array per call.
  static func positionalParameter(_ sig: Signature, _ index: Int) -> Parameter? {
    var seen = 0
    for p in sig.parameters where !p.isFlag {
      if seen == index { return p }
      seen += 1
    }
    return nil
  }

  /// A row condition becomes a closure over the row (`$it`), evaluated once per row.
  static func conditionClosure(_ e: Expr, in frame: Frame) -> Value {
    if case .closure(let decl) = e.kind { return Value(.closure(Closure(decl: decl, captured: frame)), e.span) }
    let statement = Statement(kind: .pipeline(Pipeline(elements: [.expression(e)], span: e.span)), span: e.span)
    let decl = ClosureDecl(parameters: [], body: Block(statements: [statement], span: e.span), span: e.span)
    return Value(.closure(Closure(decl: decl, captured: frame)), e.span)
  }

  static func unknownFlag(_ name: String, short: Bool, at span: Span, _ sig: Signature) -> ShellError {
    let written = (short ? "-" : "--") + name
    var e = ShellError(.argsUnknownFlag, "`\(sig.name)` has no flag `\(written)`", at: span)
    let flags = sig.parameters.filter(\.isFlag).map(\.name)
    if let s = Suggest.closest(name, in: flags) {
      e.help = "did you mean `--\(s)`?"
    } else if flags.isEmpty {
      e.help = "`\(sig.name)` takes no flags"
    } else {
      e.help = "flags: " + sig.parameters.filter(\.isFlag).map { "--\($0.name)" }.joined(separator: " ")
    }
    return e
  }

  /// The source text of a value written as one bare word of letters and digits, if it was.
  static func writtenWord(_ v: Value, in sources: SourceMap) -> String? {
    guard v.span.isKnown, let source = sources.source(v.span.source) ?? SourceMap.shared.source(v.span.source) else { return nil }
    let text = source.text(of: v.span)
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
    return text
  }

  /// Checks a value against a shape, converting where a shell user would expect it
  /// (an int where a float is wanted, a number written where text is wanted).
  static func coerce(_ v: Value, to shape: Shape, at span: Span, sources: SourceMap) throws -> Value {
    let ok: Bool
    switch (shape, v.kind) {
    case (.any, _): return v
    case (_, .null) where !v.span.isKnown: return v
    case (.condition, .closure), (.int, .int), (.bool, .bool), (.duration, .duration), (.size, .size), (.datetime, .datetime), (.closure, .closure),
      (.range, .range), (.record, .record), (.record, .object), (.number, .int), (.number, .float), (.float, .float),
      (.list, .list), (.table, .list), (.string, .string):
      ok = true
    case (.float, .int(let i)): return Value(.float(Double(i)), v.span)
    case (.size, .int(let i)): return Value(.size(i), v.span)
    case (.list, .range): return .list(try v.asList(), v.span)
    case (.string, .int), (.string, .float), (.string, .bool): return .string(v.plain, v.span)
    case (.cellPath, .string), (.cellPath, .int): ok = true
    case (.oneOf(let words), .string(let s)):
      guard words.contains(s) else {
        throw ShellError(
          .argsValue, "`\(s)` is not one of: \(words.joined(separator: ", "))", at: span,
          help: Suggest.closest(s, in: words).map { "did you mean `\($0)`?" })
      }
      ok = true
    case (.object(let t), .object(let o)): ok = o.type == t
    case (.object, .string): ok = true  // a name or id, resolved by the command
    case (.object, .int), (.object, .float), (.object, .size), (.object, .duration):
      // An id (prefix) written bare can read as a number or a unit (`12345`, `608e6`, `1d`):
      // take the word.
      if let word = writtenWord(v, in: sources) { return .string(word, v.span) }
      ok = false
    default: ok = false
    }
    guard ok else {
      var e = ShellError.typeMismatch(expected: shape.name, found: v, at: span)
      switch (shape, v.kind) {
      case (.duration, .int), (.duration, .float): e.help = "a duration has a unit: `\(v.plain)s`, `\(v.plain)ms`, `\(v.plain)m`"
      case (.int, .string(let s)) where Int64(s) != nil: e.help = "an int is written without quotes: `\(s)`"
      case (.datetime, .string(let s)): e.help = "convert it first: `(\"\(s)\" | into datetime)`"
      default: break
      }
      throw e
    }
    return v
  }
}
