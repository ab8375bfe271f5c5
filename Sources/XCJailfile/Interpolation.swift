/// xc's interpolated strings (spec xc-cli.md §4.3): `$NAME`, `${NAME}`, `${NAME:-WORD}`,
/// `${NAME:=WORD}`, `${NAME:?WORD}`, `${NAME:+WORD}`.
///
/// WORD is text up to `}` (which may hold further `$…` expressions), or a `"quoted"` text
/// followed by `}`. There is no escape for a literal `$`: a `$` must start an expression.
public struct InterpolatedString: Sendable, Equatable {
  public enum Operator: String, Sendable, CaseIterable {
    /// `:-` the value, or WORD when unset.
    case orDefault = ":-"
    /// `:=` as `:-` (xc does not assign).
    case orAssign = ":="
    /// `:?` the value; unset is an error (WORD is the message).
    case orFail = ":?"
    /// `:+` WORD when set, else empty (POSIX; xc's daemon has it the other way round).
    case ifSet = ":+"
  }

  public indirect enum Part: Sendable, Equatable {
    case literal(String)
    /// A variable; `offset` is the character offset of its `$` in the source text.
    case variable(name: String, op: Operator?, word: InterpolatedString?, offset: Int)
  }

  public var parts: [Part]

  /// A failure to parse or expand, at a character offset of the text.
  public struct Failure: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
  }

  /// Parses `text`; a failure names the character offset.
  public static func parse(_ text: String) throws(Failure) -> InterpolatedString {
    var p = InterpolationParser(Array(text))
    let parts = try p.parts(until: nil)
    return InterpolatedString(parts: parts)
  }

  /// The names of the variables used, nested ones included, in order of first use.
  public var variables: [String] {
    var names: [String] = []
    for part in parts {
      guard case .variable(let name, _, let word, _) = part else { continue }
      for n in [name] + (word?.variables ?? []) where !names.contains(n) { names.append(n) }
    }
    return names
  }

  /// The text with each variable replaced by `lookup`'s value; an unset variable without a
  /// default fails at its `$`.
  public func expand(_ lookup: (String) -> String?) throws(Failure) -> String {
    var out = ""
    for part in parts {
      switch part {
      case .literal(let s):
        out += s
      case .variable(let name, let op, let word, let offset):
        let value = lookup(name)
        switch op {
        case nil:
          guard let value else { throw Failure(offset: offset, message: "the variable `\(name)` is not set") }
          out += value
        case .orDefault?, .orAssign?:
          if let value {
            out += value
          } else if let word {
            out += try word.expand(lookup)
          }
        case .orFail?:
          guard let value else {
            var why = ""
            if let word { why = try word.expand(lookup) }
            throw Failure(
              offset: offset, message: "the variable `\(name)` is not set" + (why.isEmpty ? "" : ": \(why)"))
          }
          out += value
        case .ifSet?:
          if value != nil, let word { out += try word.expand(lookup) }
        }
      }
    }
    return out
  }
}

private struct InterpolationParser {
  let chars: [Character]
  var i = 0
  init(_ chars: [Character]) { self.chars = chars }

  static func isNameStart(_ c: Character) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
  }
  static func isNameChar(_ c: Character) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }

  func fail(_ message: String, at offset: Int? = nil) -> InterpolatedString.Failure {
    .init(offset: offset ?? i, message: message)
  }

  /// Parts up to `terminator` (not consumed), or to the end when nil.
  mutating func parts(until terminator: Character?) throws(InterpolatedString.Failure) -> [InterpolatedString.Part] {
    var parts: [InterpolatedString.Part] = []
    var literal = ""
    while i < chars.count, chars[i] != terminator {
      if chars[i] == "$" {
        if !literal.isEmpty { parts.append(.literal(literal)) }
        literal = ""
        parts.append(try variable())
      } else {
        literal.append(chars[i])
        i += 1
      }
    }
    if !literal.isEmpty { parts.append(.literal(literal)) }
    return parts
  }

  mutating func name() -> String {
    var s = ""
    while i < chars.count, Self.isNameChar(chars[i]) {
      s.append(chars[i])
      i += 1
    }
    return s
  }

  mutating func variable() throws(InterpolatedString.Failure) -> InterpolatedString.Part {
    let dollar = i
    i += 1
    guard i < chars.count else {
      throw fail("expected a variable name or `{` after `$`, found the end of the text", at: dollar)
    }
    if Self.isNameStart(chars[i]) {
      return .variable(name: name(), op: nil, word: nil, offset: dollar)
    }
    guard chars[i] == "{" else {
      throw fail("expected a variable name or `{` after `$`, found `\(chars[i])`", at: dollar)
    }
    i += 1
    guard i < chars.count, Self.isNameStart(chars[i]) else {
      throw fail("expected a variable name after `${`")
    }
    let n = name()
    guard i < chars.count else { throw fail("expected `}` to close `${` here", at: dollar) }
    if chars[i] == "}" {
      i += 1
      return .variable(name: n, op: nil, word: nil, offset: dollar)
    }
    let ops = InterpolatedString.Operator.allCases
    guard i + 1 < chars.count, let op = ops.first(where: { Array($0.rawValue) == [chars[i], chars[i + 1]] }) else {
      throw fail(
        "expected `}` or one of `:-`, `:=`, `:?`, `:+` after `${\(n)`, found `\(chars[i])`",
      )
    }
    i += 2
    let word: InterpolatedString
    if i < chars.count, chars[i] == "\"" {
      let quote = i
      i += 1
      var text = ""
      while i < chars.count, chars[i] != "\"" {
        text.append(chars[i])
        i += 1
      }
      guard i < chars.count else { throw fail("this string is not closed: expected `\"`", at: quote) }
      i += 1
      word = InterpolatedString(parts: text.isEmpty ? [] : [.literal(text)])
    } else {
      word = InterpolatedString(parts: try parts(until: "}"))
    }
    guard i < chars.count, chars[i] == "}" else { throw fail("expected `}` to close `${` here", at: dollar) }
    i += 1
    return .variable(name: n, op: op, word: word, offset: dollar)
  }
}
