/// What the interactive front end reads from a session: names, signatures and variables.
extension Shell {
  /// Built-ins and functions defined in the session, by name.
  public var commandNames: [String] { evaluator.registry.names + evaluator.globals.visibleFunctions }

  public func signature(of name: String) -> Signature? {
    evaluator.resolve(name, in: evaluator.globals)?.signature
  }

  /// Whether `name` groups sub-commands (`str`, `math`, `image`).
  public func isGroup(_ name: String) -> Bool { evaluator.registry.isGroup(name) }

  public var variableNames: [String] {
    Array(Set(evaluator.globals.visibleNames + ["env", "args"])).sorted()
  }

  /// A variable's value (`env` included), or nil.
  public func variable(_ name: String) -> Value? {
    if let v = evaluator.globals.lookup(name) { return v }
    if name == "env" {
      var r = Record()
      for k in evaluator.environment.keys.sorted() { r[k] = .string(evaluator.environment[k]!) }
      return .record(r)
    }
    return nil
  }

  /// Whether more input could complete the text (an open bracket, string or trailing `|`):
  /// the REPL then asks for a continuation line instead of reporting an error.
  public func isIncomplete(_ text: String) -> Bool {
    let source = Source.transient(text)
    var parser = Parser(source: source, context: evaluator.registry)
    _ = parser.parseProgram()
    return !parser.errors.isEmpty && parser.errors.contains { $0.partial }
  }

  /// The environment commands see (`$env`), e.g. for PATH lookups.
  public var environment: [String: String] {
    get { evaluator.environment }
    set { evaluator.environment = newValue }
  }

  /// Calls a function defined in the session (the `prompt` function) and returns its plain text.
  public func callFunction(_ name: String) -> String? {
    guard evaluator.globals.function(name) != nil else { return nil }
    // Errors are dropped, so the text needs no place in the session's sources.
    return (try? evaluate(Source.transient(name)))?.plain
  }
}
