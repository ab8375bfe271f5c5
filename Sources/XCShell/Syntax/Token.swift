/// One piece of a double-quoted string: literal text or an interpolated expression.
public enum StringPart: Sendable, Equatable {
  case text(String)
  /// `$name.path` inside a string: the byte range of the variable and its path.
  case variable(start: Int, end: Int)
  /// `$(pipeline)` inside a string: the byte range between the parentheses.
  case subexpression(start: Int, end: Int)
}

/// A lexical token with its span.
public struct Token: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case int(Int64)
    case float(Double)
    /// Nanoseconds.
    case duration(Int64)
    /// Bytes.
    case size(Int64)
    /// A double-quoted string, possibly interpolated.
    case string([StringPart])
    /// A single-quoted string: no escapes, no interpolation.
    case rawString(String)
    /// `$name`, without any path that follows.
    case variable(String)
    /// A bare word: an identifier in expressions, any run of word characters in commands.
    case word(String)
    /// `--name`, `--name=` (value follows), `-abc` (short flags); command mode only.
    case flag(name: String, short: Bool, inlineValue: Bool)
    /// A lone `--`: what follows is positional.
    case endOfFlags
    /// `^name`: run the external command `name`.
    case external(String)
    /// Operators and punctuation: `| ( ) [ ] { } , : . ? .. ..< == != < <= > >= =~ !~ + - * / // % ++ = += -= *= /= ++=`.
    case punct(String)
    /// A newline or `;`: ends a statement.
    case terminator
    case eof
  }

  public var kind: Kind
  public var span: Span
  /// Whether whitespace (or a comment) came right before the token.
  public var spaceBefore: Bool

  public init(_ kind: Kind, _ span: Span, spaceBefore: Bool = true) {
    self.kind = kind
    self.span = span
    self.spaceBefore = spaceBefore
  }

  public func isPunct(_ p: String) -> Bool { kind == .punct(p) }
  public var isWord: Bool { if case .word = kind { true } else { false } }
  public func isWord(_ w: String) -> Bool { kind == .word(w) }
}
