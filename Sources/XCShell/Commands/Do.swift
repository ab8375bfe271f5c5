/// `do CLOSURE ARGS…`: closures are values, and this is how a script calls one (Nushell's form).
enum DoCommand {
  static let all: [any Command] = [run]

  static let run = Builtin(
    Signature(
      "do", category: .core, summary: "Call a closure with arguments; the input becomes its `$in`.",
      parameters: [
        .required("closure", .closure, "The closure to call (`$f`, or a literal `{|x| …}`)."),
        .rest("arguments", .any, "Its arguments, bound to its parameters in order."),
      ],
      examples: [
        Example("Call a closure in a variable", "let f = {|y| $y + 1}; do $f 2", result: "3"),
        Example("A function taking a closure", "fn twice [f: closure, x] { do $f (do $f $x) }; twice {|n| $n * 3} 2", result: "18"),
        Example("Input becomes $in", "5 | do {|| $in * 2}", result: "10"),
      ],
      details: "The closure's parameters are checked like a function's: too many arguments, or too few for parameters without a default, is an error.")
  ) { call, input in
    let value = try call.require("closure")
    guard case .closure(let closure) = value.kind else { throw ShellError.typeMismatch(expected: "closure", found: value) }
    let args = call.restValues()
    try checkArity(closure, args.count, at: call.span)
    return .value(try call.invoke(closure, args, input: input))
  }

  /// A closure called with the wrong number of arguments is an error, never a silent null.
  static func checkArity(_ closure: Closure, _ count: Int, at span: Span) throws {
    if let e = arityError(closure.decl, count, at: span) { throw e }
  }

  /// The error for calling `decl` with `count` arguments, if that is wrong (`--check` asks too).
  static func arityError(_ decl: ClosureDecl, _ count: Int, at span: Span) -> ShellError? {
    let params = decl.parameters.filter { $0.kind != .flag }
    if params.contains(where: { $0.kind == .rest }) { return nil }
    let required = params.filter { $0.defaultValue == nil && !$0.optional }.count
    guard count > params.count || count < required else { return nil }
    let takes = required == params.count ? "\(params.count)" : "\(required) to \(params.count)"
    let names = params.map(\.name).joined(separator: ", ")
    return ShellError(
      .argsCount, "the closure takes \(takes) argument\(params.count == 1 ? "" : "s"), found \(count)", at: span,
      help: params.isEmpty ? "its parameters go between bars: `{|x| …}`" : "its parameters: |\(names)|")
  }
}
