/// What the parser needs to know about commands, without knowing the commands themselves.
public protocol ParserContext {
  /// Whether `name` (possibly several words, `"str upcase"`) names a command.
  func isCommand(_ name: String) -> Bool
  /// Whether the command's arguments are a row condition (`where status == running`).
  func takesCondition(_ name: String) -> Bool
}

/// A context that knows no commands: every word is a single-word command.
public struct EmptyParserContext: ParserContext {
  public init() {}
  public func isCommand(_ name: String) -> Bool { false }
  public func takesCondition(_ name: String) -> Bool { name == "where" }
}
