/// A place in a Jailfile: 1-based line and column (columns count characters).
public struct JailfileLocation: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
  public var line: Int
  public var column: Int
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
  public var description: String { "\(line):\(column)" }
  public static func < (a: Self, b: Self) -> Bool { (a.line, a.column) < (b.line, b.column) }

  /// The location `n` characters to the right on the same line.
  public func advanced(by n: Int) -> Self { Self(line: line, column: column + n) }
}

/// A range of a Jailfile: `start` up to (not including) `end`.
public struct JailfileSpan: Sendable, Equatable, Hashable {
  public var start: JailfileLocation
  public var end: JailfileLocation
  public init(_ start: JailfileLocation, _ end: JailfileLocation) {
    self.start = start
    self.end = end
  }
}

/// One value of a directive: a run of touching bare text and quoted strings.
public struct JailfileWord: Sendable, Equatable {
  /// The value as the directive sees it: when the value starts with a quoted part, that part's
  /// quotes are removed; nothing is unescaped (as in xc).
  public var text: String
  /// The value exactly as written.
  public var raw: String
  public var span: JailfileSpan
  /// Whether the value starts with a quote.
  public var quoted: Bool { raw.first == "\"" || raw.first == "'" }

  public init(text: String, raw: String, span: JailfileSpan) {
    self.text = text
    self.raw = raw
    self.span = span
  }

  /// Where character `offset` of `text` was written (exact for one-line values).
  public func location(ofTextOffset offset: Int) -> JailfileLocation {
    span.start.advanced(by: offset + (quoted ? 1 : 0))
  }
}

/// `[key:value]` right after a directive's name (`WORKDIR[entry_point:web] /srv`).
public struct DirectiveArgument: Sendable, Equatable {
  public var key: String
  public var value: JailfileWord
  public var span: JailfileSpan
}

/// `<<TAG … TAG` at the end of a directive.
public struct Heredoc: Sendable, Equatable {
  public var tag: String
  /// Everything after the opening tag (its newline included) up to the closing tag.
  public var body: String
  public var span: JailfileSpan
}

/// One directive as written: upper-case name, optional `[arguments]`, values, optional heredoc.
public struct Directive: Sendable, Equatable {
  public var name: String
  public var nameSpan: JailfileSpan
  public var arguments: [DirectiveArgument]
  public var words: [JailfileWord]
  public var heredoc: Heredoc?
  /// From the name to the end of the last value or heredoc.
  public var span: JailfileSpan

  /// The value of argument `key`, if given.
  public func argument(_ key: String) -> DirectiveArgument? { arguments.first { $0.key == key } }
}

/// A parsed Jailfile: its directives in order.
public struct Jailfile: Sendable, Equatable {
  /// The file's name as shown in messages.
  public var file: String
  public var directives: [Directive]

  /// Parses `text`; syntax errors name `file`, the line and column, and what was expected.
  public static func parse(_ text: String, file: String = "Jailfile") throws(JailfileError) -> Jailfile {
    var parser = JailfileParser(text, file: file)
    return Jailfile(file: file, directives: try parser.parseAll())
  }
}

/// A syntax or meaning error in a Jailfile, located.
public struct JailfileError: Error, Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var location: JailfileLocation
  /// One line, lowercase, no trailing period.
  public var message: String
  public var help: String?

  public init(file: String, _ location: JailfileLocation, _ message: String, help: String? = nil) {
    self.file = file
    self.location = location
    self.message = message
    self.help = help
  }

  /// `Jailfile:3:7: expected …`
  public var description: String { "\(file):\(location): \(message)" }
}
