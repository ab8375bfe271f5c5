/// `date now`, `date format` and `into datetime`: the `datetime` type's commands
/// (docs/language.md, "Dates and times").
enum DateCommands {
  static var all: [any Command] { [now, format, intoDatetime] }

  static let now = Builtin(
    Signature(
      "date now", category: .core, summary: "The current time, as a datetime (UTC).",
      examples: [Example("A deadline in five minutes", "(date now) + 5min")])
  ) { call, _ in
    .value(Value(.datetime(DateTime.now()), call.head))
  }

  static let format = Builtin(
    Signature(
      "date format", category: .core,
      summary: "Format a datetime (piped in) in UTC with a strftime-style pattern.",
      parameters: [.optional("pattern", .string, "`%Y %m %d %H %M %S %f %3f %s %j %F %T %z %%` (default: ISO 8601).")],
      examples: [
        Example("The day of an instant", "'2026-12-06T17:34:31Z' | into datetime | date format '%F'", result: "2026-12-06")
      ])
  ) { call, input in
    let pattern = try call.value("pattern").map { try $0.asString() }
    let head = call.head
    let patternSpan = call.value("pattern")?.span ?? call.head
    let formatted: @Sendable (Value) throws -> Value = { v in
      let t = try datetime(v, head)
      guard let pattern else { return .string(DateTime.iso(t), head) }
      var bad = ""
      guard let text = DateTime.format(t, pattern, bad: &bad) else {
        throw ShellError(
          .argsValue, "`date format`: unknown directive `\(bad)` in `\(pattern)`", at: patternSpan,
          help: "known: %Y %m %d %H %M %S %f %3f %s %j %F %T %z %Z %%")
      }
      return .string(text, head)
    }
    // One value in, one out; a list or a stream item by item.
    if case .value(let v) = input, !isList(v) { return .value(try formatted(v)) }
    return .stream(try input.values().map(formatted))
  }

  static let intoDatetime = StringCommands.conversion(
    "into datetime", "Convert ISO 8601 text (`2026-12-06T17:34:31Z`, `2026-12-06`) or epoch nanoseconds to a datetime.",
    Example("", "'2026-12-06 17:34:31+01:00' | into datetime", result: "2026-12-06T16:34:31Z")
  ) { v, span in Value(.datetime(try datetime(v, span)), v.span) }

  static func isList(_ v: Value) -> Bool { if case .list = v.kind { true } else { false } }

  /// The instant a value stands for: a datetime, ISO 8601 text, or epoch nanoseconds.
  static func datetime(_ v: Value, _ span: Span) throws -> Int64 {
    switch v.kind {
    case .datetime(let t): return t
    case .int(let ns): return ns
    case .string(let s):
      if let t = DateTime.parse(s.trimmingSpaces()) { return t }
      throw ShellError(
        .convertFailed, "cannot convert string `\(s)` to datetime", at: v.span.isKnown ? v.span : span,
        help: "write ISO 8601: `2026-12-06`, `2026-12-06T17:34:31Z`, `2026-12-06 17:34:31.5+01:00`")
    default: throw StringCommands.cannot(v, "datetime", span)
    }
  }
}
