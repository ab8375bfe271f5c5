/// An error the shell reports to its user: a stable code, a one-line message and labelled spans.
///
/// Errors are values built by the factory functions in `ShellError+*.swift`; the code, exit code
/// and primary span become the `e` record in `catch e`.
public struct ShellError: Error, Sendable, CustomStringConvertible {
  /// A stable, dotted identifier scripts can match on (`"type.mismatch"`, `"external.failed"`).
  public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
  }

  /// A span with a note; the first label of an error is its primary location.
  public struct Label: Sendable {
    public var span: Span
    public var note: String
    public init(_ span: Span, _ note: String = "") {
      self.span = span
      self.note = note
    }
  }

  public var code: Code
  /// One line, lowercase, no trailing period.
  public var message: String
  public var labels: [Label]
  public var help: String?
  /// Set for failed external commands and container processes, and for interrupts (130, 143).
  public var exitCode: Int32?
  /// The command that failed, when one did.
  public var command: String?
  /// Parse errors only: more input could fix it (the REPL continues the line).
  public var partial = false
  /// A payload for errors made by `error make` (its extra fields).
  public var payload: [String: String] = [:]

  public init(
    _ code: Code, _ message: String, at span: Span? = nil, note: String = "",
    help: String? = nil, exitCode: Int32? = nil, command: String? = nil, partial: Bool = false
  ) {
    self.code = code
    self.message = message
    self.labels = span.map { [Label($0, note)] } ?? []
    self.help = help
    self.exitCode = exitCode
    self.command = command
    self.partial = partial
  }

  /// The primary span, if the error has one.
  public var span: Span? { labels.first?.span }

  /// Adds a secondary label.
  public func with(_ span: Span, _ note: String) -> ShellError {
    var e = self
    e.labels.append(Label(span, note))
    return e
  }

  /// Gives the error a location if it has none yet (errors from deep inside values).
  public func located(at span: Span, note: String = "") -> ShellError {
    var e = self
    if e.labels.isEmpty || !e.labels[0].span.isKnown {
      e.labels.insert(Label(span, note), at: 0)
    }
    return e
  }

  public var description: String { "error: \(message)" }
}

/// Several errors found in one pass (parse and `--check`), reported together.
public struct ShellErrors: Error, Sendable {
  public var errors: [ShellError]
  public init(_ errors: [ShellError]) { self.errors = errors }
}
