/// Turns source bytes into tokens on demand.
///
/// Shells read the same characters differently in expressions (`1 + 2`, `$a == b`) and in
/// command arguments (`run alpine:3.18 --name=web -d`), so the parser asks for the next token in
/// a `Mode`. The lexer keeps only a byte offset, which makes lookahead a cheap save and restore.
public struct Lexer: Sendable {
  public enum Mode: Sendable {
    /// Operators, identifiers and literals.
    case expression
    /// Shell words: anything up to whitespace or `| ; ) ] }` is one word; flags are recognised.
    case command
    /// Like `command`, but a comma also ends a word (list literals).
    case listItem
  }

  public let source: Source
  let bytes: [UInt8]
  public private(set) var offset: Int
  let end: Int

  public init(source: Source, start: Int = 0, end: Int? = nil) {
    self.source = source
    self.bytes = source.bytes
    self.offset = start
    self.end = end ?? source.bytes.count
  }

  public var position: Int {
    get { offset }
    set { offset = newValue }
  }
  public var atEnd: Bool { offset >= end }

  func span(_ start: Int, _ stop: Int) -> Span { Span(source: source.id, start: start, end: stop) }

  @inline(__always) func peekByte(_ ahead: Int = 0) -> UInt8? {
    let i = offset + ahead
    return i < end ? bytes[i] : nil
  }

  // MARK: - Whitespace and comments

  /// Skips spaces, tabs, `\`-newline continuations and comments; newlines too when asked.
  /// Returns whether anything was skipped.
  @discardableResult
  public mutating func skipTrivia(newlines: Bool = false) -> Bool {
    let start = offset
    while let b = peekByte() {
      if b == 0x20 || b == 0x09 || b == 0x0D {
        offset += 1
      } else if b == 0x5C, peekByte(1) == 0x0A {  // \ newline
        offset += 2
      } else if b == 0x5C, peekByte(1) == 0x0D, peekByte(2) == 0x0A {
        offset += 3
      } else if b == 0x23 {  // # comment to end of line
        while let c = peekByte(), c != 0x0A { offset += 1 }
      } else if newlines, b == 0x0A {
        offset += 1
      } else {
        break
      }
    }
    return offset > start
  }

  // MARK: - Tokens

  /// Returns the token at the current offset without consuming it.
  public func peek(_ mode: Mode) throws -> Token {
    var copy = self
    return try copy.next(mode)
  }

  /// Consumes and returns the next token (callers that peeked already may drop it).
  @discardableResult
  public mutating func next(_ mode: Mode) throws -> Token {
    let spaced = skipTrivia() || offset == 0 || (offset > 0 && isSpaceLike(bytes[offset - 1]))
    let start = offset
    guard let b = peekByte() else { return Token(.eof, span(start, start), spaceBefore: spaced) }
    func tok(_ kind: Token.Kind, _ len: Int) -> Token {
      offset += len
      return Token(kind, span(start, offset), spaceBefore: spaced)
    }
    switch b {
    case 0x0A, 0x3B: return tok(.terminator, 1)  // \n ;
    case 0x60:  // `
      // bash's `date` would otherwise be the word "`date`", passed on silently as text.
      throw ShellError(
        .parseBacktick, "a backtick starts bash's command substitution, which xcsh writes `(COMMAND)`",
        at: span(start, start + 1),
        help: "`print (date)`, or in a string \"today: $(date)\"; a literal backtick is quoted: '`'")
    case 0x22: return try lexDoubleQuoted(spaced: spaced)
    case 0x27: return try lexSingleQuoted(spaced: spaced)
    case 0x24:  // $
      if peekByte(1) == 0x22 || peekByte(1) == 0x27 {  // $"…" $'…'
        throw ShellError(
          .parseNushellString, "`$\"…\"` is Nushell's interpolation; xcsh strings need no `$`",
          at: span(start, start + 1),
          help: "double-quoted strings interpolate: \"hi $name\", \"sum: $(1 + $n)\"; single quotes are raw")
      }
      if mode != .expression, let t = try lexCompoundWord(start: start, spaced: spaced, list: mode == .listItem) {
        return t
      }
      if let n = peekByte(1), isIdentStart(n) {
        offset += 1
        let name = takeVariableName()
        return Token(.variable(name), span(start, offset), spaceBefore: spaced)
      }
      if peekByte(1) == 0x28 { return tok(.punct("$("), 2) }
      if mode == .expression {
        throw ShellError(
          .parseVariable, "`$` must be followed by a variable name", at: span(start, start + 1),
          help: "write `\\$` for a literal dollar sign in strings")
      }
    case 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D: return tok(.punct(String(UnicodeScalar(b))), 1)
    case 0x7C:
      // `||` is `or` in expressions and chains statements in commands (`a || b`).
      if peekByte(1) == 0x7C, mode != .listItem { return tok(.punct("||"), 2) }
      return tok(.punct("|"), 1)
    default: break
    }
    if mode == .expression { return try lexExpressionToken(start: start, spaced: spaced) }
    return try lexCommandWord(start: start, spaced: spaced, mode: mode)
  }

  // MARK: - Expression mode

  private mutating func lexExpressionToken(start: Int, spaced: Bool) throws -> Token {
    let b = bytes[offset]
    func tok(_ p: String) -> Token {
      offset += p.utf8.count
      return Token(.punct(p), span(start, offset), spaceBefore: spaced)
    }
    if isDigit(b) { return try lexNumber(start: start, spaced: spaced, strict: true)! }
    if b == 0x5E, let n = peekByte(1), !isSpaceLike(n) {  // ^name
      offset += 1
      let w = takeWhile { !isWordEnd($0, list: false) }
      return Token(.external(w), span(start, offset), spaceBefore: spaced)
    }
    if isIdentStart(b) {
      let name = takeIdentifier()
      return Token(.word(name), span(start, offset), spaceBefore: spaced)
    }
    // Longest operators first.
    let two = offset + 1 < end ? String(decoding: bytes[offset...offset + 1], as: UTF8.self) : ""
    if offset + 2 < end {
      let three = String(decoding: bytes[offset...offset + 2], as: UTF8.self)
      if three == "..<" || three == "++=" || three == "//=" { return tok(three) }
    }
    switch two {
    case "..", "==", "!=", "<=", ">=", "=~", "!~", "++", "+=", "-=", "*=", "/=", "//", "**", "&&", "=>":
      return tok(two)
    default: break
    }
    switch b {
    case 0x2C: return tok(",")
    case 0x3A: return tok(":")
    case 0x2E: return tok(".")
    case 0x3F: return tok("?")
    case 0x3C: return tok("<")
    case 0x3E: return tok(">")
    case 0x3D: return tok("=")
    case 0x2B: return tok("+")
    case 0x2D: return tok("-")
    case 0x2A: return tok("*")
    case 0x2F: return tok("/")
    case 0x25: return tok("%")
    case 0x21: return tok("!")
    default:
      let scalarEnd = offset + utf8Length(b)
      offset = min(scalarEnd, end)
      let text = String(decoding: bytes[start..<offset], as: UTF8.self)
      throw ShellError(.parseCharacter, "unexpected character `\(text)`", at: span(start, offset))
    }
  }

  /// Lexes a number, duration or size. With `strict`, trailing letters that are not a unit are
  /// an error; without, `nil` is returned so the caller can read a bare word instead.
  private mutating func lexNumber(start: Int, spaced: Bool, strict: Bool, list: Bool = false) throws -> Token? {
    let save = offset
    var digits = ""
    var isFloat = false
    var radix = 10
    if bytes[offset] == 0x2D { digits.append("-"); offset += 1 }
    if peekByte() == 0x30, let x = peekByte(1), x == 0x78 || x == 0x58 || x == 0x62 || x == 0x6F {
      radix = x == 0x78 || x == 0x58 ? 16 : (x == 0x62 ? 2 : 8)
      offset += 2
      while let c = peekByte(), isHexDigit(c) || c == 0x5F {
        if c != 0x5F { digits.append(Character(UnicodeScalar(c))) }
        offset += 1
      }
    } else {
      while let c = peekByte(), isDigit(c) || c == 0x5F {
        if c != 0x5F { digits.append(Character(UnicodeScalar(c))) }
        offset += 1
      }
      // A fraction needs a digit after the dot, so `1..5` stays a range.
      if peekByte() == 0x2E, let d = peekByte(1), isDigit(d) {
        isFloat = true
        digits.append(".")
        offset += 1
        while let c = peekByte(), isDigit(c) || c == 0x5F {
          if c != 0x5F { digits.append(Character(UnicodeScalar(c))) }
          offset += 1
        }
      }
      if let e = peekByte(), e == 0x65 || e == 0x45,
        let n = peekByte(1), isDigit(n) || ((n == 0x2B || n == 0x2D) && (peekByte(2).map(isDigit) ?? false))
      {
        isFloat = true
        digits.append("e")
        offset += 1
        if let s = peekByte(), s == 0x2B || s == 0x2D { digits.append(Character(UnicodeScalar(s))); offset += 1 }
        while let c = peekByte(), isDigit(c) { digits.append(Character(UnicodeScalar(c))); offset += 1 }
      }
    }
    // A unit suffix makes a duration or a size.
    let unitStart = offset
    while let c = peekByte(), isAlpha(c) || c == 0xC2 || c == 0xB5 { offset += 1 }
    let unit = String(decoding: bytes[unitStart..<offset], as: UTF8.self)
    let text = String(decoding: bytes[start..<offset], as: UTF8.self)
    let sp = span(start, offset)
    // In commands a number glued to other word characters is a word (`3.18-alpine`).
    if !strict, let c = peekByte(), !isWordEnd(c, list: list) {
      offset = save
      return nil
    }
    if unit.isEmpty {
      if radix != 10 {
        let neg = digits.hasPrefix("-")
        guard let v = Int64(neg ? String(digits.dropFirst()) : digits, radix: radix) else {
          throw ShellError.badLiteral(text, "out of range or malformed", at: sp)
        }
        return Token(.int(neg ? -v : v), sp, spaceBefore: spaced)
      }
      if isFloat {
        guard let v = Double(digits) else { throw ShellError.badLiteral(text, "malformed float", at: sp) }
        return Token(.float(v), sp, spaceBefore: spaced)
      }
      guard let v = Int64(digits) else {
        throw ShellError.badLiteral(text, "integer out of 64-bit range", at: sp)
      }
      return Token(.int(v), sp, spaceBefore: spaced)
    }
    guard radix == 10, let magnitude = Double(digits) else {
      if !strict { offset = save; return nil }
      throw ShellError.badLiteral(text, "malformed number", at: sp)
    }
    if let ns = Units.duration(unit) {
      let v = magnitude * Double(ns)
      guard v.magnitude < 9.2e18 else { throw ShellError.badLiteral(text, "duration out of range", at: sp) }
      return Token(.duration(Int64(v.rounded())), sp, spaceBefore: spaced)
    }
    if let bytesPer = Units.size(unit) {
      let v = magnitude * Double(bytesPer)
      guard v.magnitude < 9.2e18 else { throw ShellError.badLiteral(text, "size out of range", at: sp) }
      return Token(.size(Int64(v.rounded())), sp, spaceBefore: spaced)
    }
    if !strict { offset = save; return nil }
    throw ShellError(
      .parseLiteral, "unknown unit `\(unit)` in `\(text)`", at: sp,
      help: "durations: ns us ms s m h d; sizes: B KB MB GB TB KiB MiB GiB TiB")
  }

  // MARK: - Command mode

  private mutating func lexCommandWord(start: Int, spaced: Bool, mode: Mode) throws -> Token {
    let list = mode == .listItem
    let b = bytes[offset]
    // `...$xs`, `...(cmd)`, `...[a b]`: spread a list into arguments (a word like `...` or
    // `...foo` stays a word).
    if b == 0x2E, peekByte(1) == 0x2E, peekByte(2) == 0x2E, let n = peekByte(3),
      n == 0x24 || n == 0x28 || n == 0x5B || n == 0x22 || n == 0x27 || isDigit(n)
    {
      offset += 3
      return Token(.punct("..."), span(start, offset), spaceBefore: spaced)
    }
    if b == 0x2C, list { offset += 1; return Token(.punct(","), span(start, offset), spaceBefore: spaced) }
    if b == 0x2D {  // -
      let n = peekByte(1)
      if n == 0x2D {
        let after = peekByte(2)
        if after == nil || isWordEnd(after!, list: list) {
          offset += 2
          return Token(.endOfFlags, span(start, offset), spaceBefore: spaced)
        }
        if let a = after, isIdentStart(a) {
          offset += 2
          let name = takeWhile { isIdentChar($0) || $0 == 0x2D }
          if peekByte() == 0x3D {
            let sp = span(start, offset)
            offset += 1
            return Token(.flag(name: name, short: false, inlineValue: true), sp, spaceBefore: spaced)
          }
          if let c = peekByte(), !isWordEnd(c, list: list) {
            offset = start  // `--a.b`: not a flag; read the whole word below
          } else {
            return Token(.flag(name: name, short: false, inlineValue: false), span(start, offset), spaceBefore: spaced)
          }
        }
      } else if let n, isAlpha(n) {
        offset += 1
        let name = takeWhile { isAlpha($0) || isDigit($0) }
        if let c = peekByte(), !isWordEnd(c, list: list), c != 0x3D {
          offset = start
        } else {
          if peekByte() == 0x3D {
            let sp = span(start, offset)
            offset += 1
            return Token(.flag(name: name, short: true, inlineValue: true), sp, spaceBefore: spaced)
          }
          return Token(.flag(name: name, short: true, inlineValue: false), span(start, offset), spaceBefore: spaced)
        }
      } else if let n, isDigit(n) || n == 0x2E {
        if let t = try lexNumber(start: start, spaced: spaced, strict: false, list: list) { return t }
      }
    }
    if isDigit(b), let t = try lexNumber(start: start, spaced: spaced, strict: false, list: list) { return t }
    if b == 0x5E, let n = peekByte(1), !isWordEnd(n, list: list) {
      offset += 1
      let w = takeWhile { !isWordEnd($0, list: list) }
      return Token(.external(w), span(start, offset), spaceBefore: spaced)
    }
    if let t = try lexCompoundWord(start: start, spaced: spaced, list: list) { return t }
    let w = takeWhile { !isWordEnd($0, list: list) }
    if w.isEmpty {
      offset += utf8Length(b)
      let text = String(decoding: bytes[start..<min(offset, end)], as: UTF8.self)
      throw ShellError(.parseCharacter, "unexpected character `\(text)`", at: span(start, offset))
    }
    return Token(.word(w), span(start, offset), spaceBefore: spaced)
  }

  // MARK: - Compound words

  /// A bare word with `$name`, `$name.path` or `$(…)` inside (`http://$ip:8080/`, `web-$i`,
  /// `$(pwd)/bin`) interpolates as a double-quoted string does, as in bash and fish. Returns nil
  /// (offset unchanged) for a word without interpolation, or one that is only a variable path or
  /// only `$(…)`, which the parser reads as that value.
  private mutating func lexCompoundWord(start: Int, spaced: Bool, list: Bool) throws -> Token? {
    var parts: [StringPart] = []
    var text: [UInt8] = []
    func flush() {
      if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))); text = [] }
    }
    while let c = peekByte(), !isWordEnd(c, list: list) {
      if c == 0x24, let n = peekByte(1), n == 0x28 || isIdentStart(n) {
        flush()
        let partStart = offset
        if n == 0x28 {
          offset += 2
          try skipBalanced(from: partStart)
          // `$(…).field` at the start of a word is a cell path on the value, read by the parser.
          if partStart == start, peekByte() == 0x2E, let a = peekByte(1), isIdentChar(a) {
            offset = start
            return nil
          }
          parts.append(.subexpression(start: partStart + 2, end: offset - 1))
        } else {
          offset += 1
          _ = takeVariableName()
          while peekByte() == 0x2E, let a = peekByte(1), isIdentChar(a) {
            offset += 1
            _ = takeWhile { isIdentChar($0) || $0 == 0x2D }
          }
          if peekByte() == 0x3F { offset += 1 }  // `$x.field?`
          parts.append(.variable(start: partStart, end: offset))
        }
        continue
      }
      text.append(c)
      offset += 1
    }
    flush()
    let interpolates = parts.contains { if case .text = $0 { false } else { true } }
    if !interpolates || parts.count == 1 {
      offset = start
      return nil
    }
    return Token(.string(parts), span(start, offset), spaceBefore: spaced)
  }

  // MARK: - Strings

  private mutating func lexSingleQuoted(spaced: Bool) throws -> Token {
    let start = offset
    offset += 1
    while let c = peekByte(), c != 0x27 { offset += 1 }
    guard peekByte() == 0x27 else {
      throw ShellError.unterminated("string", at: span(start, start + 1), closer: "'")
    }
    let text = String(decoding: bytes[(start + 1)..<offset], as: UTF8.self)
    offset += 1
    return Token(.rawString(text), span(start, offset), spaceBefore: spaced)
  }

  private mutating func lexDoubleQuoted(spaced: Bool) throws -> Token {
    let start = offset
    offset += 1
    var parts: [StringPart] = []
    var text: [UInt8] = []
    func flush() {
      if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))); text = [] }
    }
    while true {
      guard let c = peekByte() else {
        throw ShellError.unterminated("string", at: span(start, start + 1), closer: "\"")
      }
      if c == 0x22 { offset += 1; break }
      if c == 0x5C {
        guard let e = peekByte(1) else {
          throw ShellError.unterminated("string", at: span(start, start + 1), closer: "\"")
        }
        let escStart = offset
        offset += 2
        switch e {
        case 0x6E: text.append(0x0A)
        case 0x74: text.append(0x09)
        case 0x72: text.append(0x0D)
        case 0x30: text.append(0x00)
        case 0x65: text.append(0x1B)
        case 0x22, 0x5C, 0x24, 0x27, 0x28: text.append(e)
        case 0x0A: break  // backslash-newline joins lines
        case 0x75:  // \u{XXXX}
          guard peekByte() == 0x7B else {
            throw ShellError.badLiteral("\\u", "expected `{` after `\\u`", at: span(escStart, offset))
          }
          offset += 1
          let hex = takeWhile { isHexDigit($0) }
          guard peekByte() == 0x7D, let v = UInt32(hex, radix: 16), let scalar = UnicodeScalar(v) else {
            throw ShellError.badLiteral("\\u{\(hex)", "not a Unicode scalar", at: span(escStart, offset))
          }
          offset += 1
          text.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
          let sp = span(escStart, min(end, escStart + 1 + utf8Length(e)))
          throw ShellError(
            .parseEscape, "unknown escape `\(source.text(of: sp))` in string", at: sp,
            help: "valid escapes: \\n \\t \\r \\0 \\e \\\" \\\\ \\$ \\u{HEX}; use '...' for raw text")
        }
        continue
      }
      if c == 0x24, let n = peekByte(1) {
        if n == 0x28 {  // $( ... )
          flush()
          let open = offset
          offset += 2
          let inner = offset
          try skipBalanced(from: open)
          parts.append(.subexpression(start: inner, end: offset - 1))
          continue
        }
        if isIdentStart(n) {
          flush()
          let varStart = offset
          offset += 1
          _ = takeVariableName()
          // A path: `.name` or `.0`, only when a word character follows the dot.
          while peekByte() == 0x2E, let a = peekByte(1), isIdentChar(a) {
            offset += 1
            _ = takeWhile { isIdentChar($0) || $0 == 0x2D }
          }
          parts.append(.variable(start: varStart, end: offset))
          continue
        }
      }
      text.append(c)
      offset += 1
    }
    flush()
    return Token(.string(parts), span(start, offset), spaceBefore: spaced)
  }

  /// Skips to just past the `)` matching the `(` one byte after `open`, minding nested strings.
  private mutating func skipBalanced(from open: Int) throws {
    var depth = 1
    while depth > 0 {
      guard let c = peekByte() else {
        throw ShellError.unterminated("`$(` in string", at: span(open, open + 2), closer: ")")
      }
      switch c {
      case 0x28: depth += 1; offset += 1
      case 0x29: depth -= 1; offset += 1
      case 0x22: _ = try lexDoubleQuoted(spaced: false)
      case 0x27: _ = try lexSingleQuoted(spaced: false)
      default: offset += 1
      }
    }
  }

  // MARK: - Character classes

  private mutating func takeIdentifier() -> String {
    takeWhile { isIdentChar($0) }
  }

  /// Variable names are identifiers without `-`, so `$n-1` reads as `$n - 1`.
  private mutating func takeVariableName() -> String {
    takeWhile { isIdentChar($0) && $0 != 0x2D }
  }

  /// Reads one member of a cell path after a `.`: a name or a row index (`$x.items.0.name`).
  public mutating func nextPathMember() -> Token? {
    let start = offset
    let text = takeWhile { isIdentChar($0) }
    guard !text.isEmpty else { return nil }
    let kind: Token.Kind = text.allSatisfy({ $0.isASCII && $0.isNumber }) ? .int(Int64(text) ?? -1) : .word(text)
    return Token(kind, span(start, offset), spaceBefore: false)
  }

  private mutating func takeWhile(_ pred: (UInt8) -> Bool) -> String {
    let s = offset
    while let c = peekByte(), pred(c) { offset += 1 }
    return String(decoding: bytes[s..<offset], as: UTF8.self)
  }
}

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
@inline(__always) func isHexDigit(_ b: UInt8) -> Bool {
  isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
}
@inline(__always) func isIdentStart(_ b: UInt8) -> Bool { isAlpha(b) || b == 0x5F || b >= 0x80 }
@inline(__always) func isIdentChar(_ b: UInt8) -> Bool {
  isAlpha(b) || isDigit(b) || b == 0x5F || b >= 0x80 || b == 0x2D
}
@inline(__always) func isSpaceLike(_ b: UInt8) -> Bool {
  b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
}
/// Bytes that end a shell word: whitespace and `| ; ) ] }`, plus `,` in list literals.
@inline(__always) func isWordEnd(_ b: UInt8, list: Bool) -> Bool {
  switch b {
  case 0x20, 0x09, 0x0A, 0x0D, 0x7C, 0x3B, 0x29, 0x5D, 0x7D: return true
  case 0x2C: return list
  default: return false
  }
}
@inline(__always) func utf8Length(_ lead: UInt8) -> Int {
  lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}
