import Foundation

/// Text commands: `lines`, `split`, `str …` and `into …` conversions.
enum StringCommands {
  static let all: [any Command] = [
    lines, split, splitRow, splitChars, splitWords, upcase, downcase, capitalize, trim, contains, startsWith, endsWith,
    replace, strLength, join, substring, strReverse, indexOf, intoInt, intoFloat, intoString, intoBool, intoDuration,
    intoSize, parse, fill,
  ]

  static let lines = Builtin(
    Signature(
      "lines", category: .strings, summary: "Split text (or a program's output) into lines, lazily.",
      examples: [Example("", "\"a\\nb\" | lines", result: #"["a","b"]"#)])
  ) { call, input in
    switch input {
    case .bytes(let b): return .stream(b.lines())
    default:
      let s = try input.values()
      var pending: [Value] = []
      return .stream(
        ValueStream(span: call.head) {
          while pending.isEmpty {
            guard let v = try s.next() else { return nil }
            let text = try v.asString()
            // "\r\n" is one Character in Swift, so split on both.
            var parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
              .map { Value.string(String($0), call.head) }
            if text.hasSuffix("\n") || text.hasSuffix("\r\n") || text.isEmpty { parts.removeLast() }
            pending = parts.reversed()
          }
          return pending.removeLast()
        })
    }
  }

  /// Applies `f` to the input string, or to each string of a list.
  static func mapStrings(_ call: Call, _ input: Pipe, _ f: @escaping (String) throws -> Value) throws -> Pipe {
    switch input {
    case .value(let v):
      if case .string(let s) = v.kind { return .value(try f(s).with(span: call.head)) }
      if case .list = v.kind { break }
      throw ShellError.typeMismatch(expected: "string", found: v).located(at: call.head, note: "needs a string")
    case .bytes(let b): return .value(try f(try b.readAllString()))
    default: break
    }
    return .stream(
      try input.values().map { v in
        guard case .string(let s) = v.kind else {
          throw ShellError.typeMismatch(expected: "string", found: v).located(at: call.head)
        }
        return try f(s)
      })
  }

  static func simple(_ name: String, _ summary: String, _ example: Example, _ f: @escaping @Sendable (String) -> Value)
    -> Builtin
  {
    Builtin(Signature(name, category: .strings, summary: summary, examples: [example])) { call, input in
      try mapStrings(call, input) { f($0) }
    }
  }

  /// `split SEP` is `split row SEP`, the split users mean when they name none (`split ","`).
  static let split = Builtin(
    Signature(
      "split", category: .strings, summary: "Split text at a separator into a list (the same as `split row`).",
      parameters: splitRow.signature.parameters,
      examples: [Example("", "'a,b,c' | split \",\"", result: #"["a","b","c"]"#)])
  ) { call, input in
    try splitRow.run(call, input)
  }

  static let splitRow = Builtin(
    Signature(
      "split row", category: .strings, summary: "Split text at a separator into a list.",
      parameters: [
        .required("separator", .string, "Where to split."),
        .switch("regex", short: "r", "The separator is a regular expression."),
      ],
      examples: [Example("", "'a,b,c' | split row ,", result: #"["a","b","c"]"#)])
  ) { call, input in
    let sep = try call.require("separator").asString()
    let regex = call.has("regex")
    return try mapStrings(call, input) { s in
      if regex {
        let re = try Regex.compile(sep, at: call.span)
        var parts: [Value] = []
        var last = s.startIndex
        for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
          guard let r = Range(m.range, in: s) else { continue }
          parts.append(.string(String(s[last..<r.lowerBound])))
          last = r.upperBound
        }
        parts.append(.string(String(s[last...])))
        return .list(parts)
      }
      guard !sep.isEmpty else { return .list(s.map { .string(String($0)) }) }
      return .list(s.components(separatedBy: sep).map { .string($0) })
    }
  }

  static let splitChars = simple("split chars", "Split text into characters.", Example("", "'ab' | split chars", result: #"["a","b"]"#)) {
    .list($0.map { .string(String($0)) })
  }
  static let splitWords = simple("split words", "Split text at whitespace.", Example("", "' a  b ' | split words", result: #"["a","b"]"#)) {
    .list($0.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
  }
  static let upcase = simple("str upcase", "Upper-case text.", Example("", "'web' | str upcase", result: "WEB")) { .string($0.uppercased()) }
  static let downcase = simple("str downcase", "Lower-case text.", Example("", "'WeB' | str downcase", result: "web")) { .string($0.lowercased()) }
  static let capitalize = simple("str capitalize", "Upper-case the first letter.", Example("", "'web' | str capitalize", result: "Web")) {
    .string($0.prefix(1).uppercased() + $0.dropFirst())
  }
  static let strLength = simple("str length", "The number of characters.", Example("", "'héllo' | str length", result: "5")) { .int($0.count) }
  static let strReverse = simple("str reverse", "Reverse text.", Example("", "'abc' | str reverse", result: "cba")) { .string(String($0.reversed())) }

  static let trim = Builtin(
    Signature(
      "str trim", category: .strings, summary: "Remove whitespace (or a character) at both ends.",
      parameters: [
        .named("char", .string, short: "c", "Trim this character instead."),
        .switch("left", short: "l", "Only the start."),
        .switch("right", short: "r", "Only the end."),
      ],
      examples: [Example("", "'  hi  ' | str trim", result: "hi")])
  ) { call, input in
    let ch = try call.string("char").flatMap(\.first)
    let left = call.has("left") || !call.has("right")
    let right = call.has("right") || !call.has("left")
    return try mapStrings(call, input) { s in
      var sub = Substring(s)
      let drop: (Character) -> Bool = { c in ch.map { $0 == c } ?? c.isWhitespace }
      if left { while let f = sub.first, drop(f) { sub.removeFirst() } }
      if right { while let l = sub.last, drop(l) { sub.removeLast() } }
      return .string(String(sub))
    }
  }

  static func predicate(_ name: String, _ summary: String, _ example: Example, _ f: @escaping @Sendable (String, String) -> Bool)
    -> Builtin
  {
    Builtin(
      Signature(
        name, category: .strings, summary: summary,
        parameters: [
          .required("text", .string, "What to look for."),
          .switch("ignore-case", short: "i", "Ignore case."),
        ], examples: [example])
    ) { call, input in
      let needle = try call.require("text").asString()
      let ic = call.has("ignore-case")
      return try mapStrings(call, input) { s in
        .bool(ic ? f(s.lowercased(), needle.lowercased()) : f(s, needle))
      }
    }
  }

  static let contains = predicate("str contains", "Whether text contains a substring.", Example("", "'nginx:1' | str contains nginx", result: "true")) {
    $1.isEmpty || $0.contains($1)
  }
  static let startsWith = predicate("str starts-with", "Whether text starts with a prefix.", Example("", "'web-1' | str starts-with web", result: "true")) {
    $0.hasPrefix($1)
  }
  static let endsWith = predicate("str ends-with", "Whether text ends with a suffix.", Example("", "'a.xcs' | str ends-with .xcs", result: "true")) {
    $0.hasSuffix($1)
  }

  static let replace = Builtin(
    Signature(
      "str replace", category: .strings, summary: "Replace the first (or every) occurrence of a pattern.",
      parameters: [
        .required("find", .string, "Text (or a regex with --regex)."),
        .required("replacement", .string, "The new text ($1 for groups with --regex)."),
        .switch("all", short: "a", "Replace every occurrence."),
        .switch("regex", short: "r", "`find` is a regular expression."),
      ],
      examples: [Example("", "'a-b-c' | str replace -a - _", result: "a_b_c")])
  ) { call, input in
    let find = try call.require("find").asString()
    let repl = try call.require("replacement").asString()
    let all = call.has("all")
    if call.has("regex") {
      let re = try Regex.compile(find, at: call.span)
      return try mapStrings(call, input) { s in
        let range = NSRange(s.startIndex..., in: s)
        if all { return .string(re.stringByReplacingMatches(in: s, range: range, withTemplate: repl)) }
        guard let m = re.firstMatch(in: s, range: range) else { return .string(s) }
        let ns = NSMutableString(string: s)
        let r = re.replacementString(for: m, in: s, offset: 0, template: repl)
        ns.replaceCharacters(in: m.range, with: r)
        return .string(String(ns))
      }
    }
    return try mapStrings(call, input) { s in
      if all { return .string(s.replacingOccurrences(of: find, with: repl)) }
      guard let r = s.range(of: find) else { return .string(s) }
      return .string(s.replacingCharacters(in: r, with: repl))
    }
  }

  static let join = Builtin(
    Signature(
      "str join", category: .strings, summary: "Join a list of values into text.",
      parameters: [.optional("separator", .string, "Between items.", default: .string(""))],
      examples: [Example("", "[a b c] | str join ,", result: "a,b,c")])
  ) { call, input in
    let sep = try call.string("separator") ?? ""
    let s = try input.values()
    var parts: [String] = []
    while let v = try s.next() { parts.append(v.plain) }
    return .value(.string(parts.joined(separator: sep), call.head))
  }

  static let substring = Builtin(
    Signature(
      "str substring", category: .strings, summary: "The characters at a range of indexes.",
      parameters: [.required("range", .range, "e.g. 0..2 or 1..")],
      examples: [Example("", "'hello' | str substring 1..3", result: "ell")])
  ) { call, input in
    guard case .range(let r) = try call.require("range").kind else { throw ShellError(.argsValue, "expected a range", at: call.span) }
    return try mapStrings(call, input) { s in
      let chars = Array(s)
      let start = max(0, Int(r.start))
      // Clamp before converting: a huge end means "to the end".
      let end = r.end.map { min(Int64(chars.count), $0) }.map { Int($0) + (r.inclusive ? 1 : 0) }.map { min($0, chars.count) }
        ?? chars.count
      guard start < end else { return .string("") }
      return .string(String(chars[start..<end]))
    }
  }

  static let indexOf = Builtin(
    Signature(
      "str index-of", category: .strings, summary: "The character index of a substring, or -1.",
      parameters: [.required("text", .string, "What to find.")],
      examples: [Example("", "'hello' | str index-of ll", result: "2")])
  ) { call, input in
    let needle = try call.require("text").asString()
    return try mapStrings(call, input) { s in
      if needle.isEmpty { return .int(0) }
      guard let r = s.range(of: needle) else { return .int(-1) }
      return .int(s.distance(from: s.startIndex, to: r.lowerBound))
    }
  }

  static let fill = Builtin(
    Signature(
      "fill", category: .strings, summary: "Pad text to a width.",
      parameters: [
        .named("width", .int, short: "w", "The width.", default: .int(0)),
        .named("character", .string, short: "c", "The padding character.", default: .string(" ")),
        .named("alignment", .oneOf(["left", "right", "center"]), short: "a", "Where the text goes.", default: .string("left")),
      ],
      examples: [Example("", "'7' | fill -w 3 -c 0 -a right", result: "007")])
  ) { call, input in
    let width = try call.int("width") ?? 0
    guard width <= 1_000_000 else {
      throw ShellError(.argsValue, "width \(width) is too large (at most 1000000)", at: call.span)
    }
    let w = Int(width)
    let c = try call.string("character") ?? " "
    let align = try call.string("alignment") ?? "left"
    let pad = { (v: Value) -> Value in
        let s = v.plain
        let n = max(0, w - s.count)
        let fill = String(repeating: c, count: n)
        switch align {
        case "right": return .string(fill + s)
        case "center": return .string(String(fill.prefix(n / 2)) + s + String(fill.prefix(n - n / 2)))
        default: return .string(s + fill)
        }
      }
    if case .value(let v) = input, !(v.kindName == "list") { return .value(pad(v)) }
    return .stream(try input.values().map(pad))
  }

  static let parse = Builtin(
    Signature(
      "parse", category: .strings, summary: "Extract fields from text with a pattern like '{name}:{port}'.",
      parameters: [.required("pattern", .string, "Literal text with {field} placeholders.")],
      examples: [Example("", "'web:80' | parse '{name}:{port}' | get 0.port", result: "80")])
  ) { call, input in
    let pattern = try call.require("pattern").asString()
    var regex = "^"
    var fields: [String] = []
    var i = pattern.startIndex
    while i < pattern.endIndex {
      if pattern[i] == "{", let close = pattern[i...].firstIndex(of: "}") {
        fields.append(String(pattern[pattern.index(after: i)..<close]))
        regex += "(.*?)"
        i = pattern.index(after: close)
      } else {
        regex += NSRegularExpression.escapedPattern(for: String(pattern[i]))
        i = pattern.index(after: i)
      }
    }
    regex += "$"
    let re = try Regex.compile(regex, at: call.span)
    let s = try input.values()
    return .stream(
      ValueStream(span: call.head) {
        while let v = try s.next() {
          let text = try v.asString()
          guard let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { continue }
          var r = Record()
          for (k, name) in fields.enumerated() {
            let range = Range(m.range(at: k + 1), in: text).map { String(text[$0]) } ?? ""
            r[name] = .string(range)
          }
          return .record(r)
        }
        return nil
      })
  }

  static func conversion(_ name: String, _ summary: String, _ example: Example, _ f: @escaping @Sendable (Value, Span) throws -> Value)
    -> Builtin
  {
    Builtin(Signature(name, category: .strings, summary: summary, examples: [example])) { call, input in
      switch input {
      case .value(let v):
        if case .list(let items) = v.kind { return .value(.list(try items.map { try f($0, call.head) }, call.head)) }
        return .value(try f(v, call.head))
      case .bytes(let b): return .value(try f(.string(try b.readAllString()), call.head))
      default: return .stream(try input.values().map { try f($0, call.head) })
      }
    }
  }

  static func cannot(_ v: Value, _ to: String, _ span: Span) -> ShellError {
    ShellError(.convertFailed, "cannot convert \(v.typeName) `\(v.plain)` to \(to)", at: v.span.isKnown ? v.span : span)
  }

  static let intoInt = conversion("into int", "Convert to an integer.", Example("", "'42' | into int", result: "42")) { v, span in
    switch v.kind {
    case .int: return v
    case .float(let d):
      let t = d.rounded(.towardZero)
      guard t.isFinite, t >= -9.2e18, t <= 9.2e18 else { throw cannot(v, "int", span) }
      return .int(Int64(t), v.span)
    case .bool(let b): return .int(b ? 1 : 0, v.span)
    case .duration(let d), .size(let d), .datetime(let d): return .int(d, v.span)
    case .string(let s):
      let t = s.trimmingSpaces()
      if let i = Int64(t) { return .int(i, v.span) }
      if t.hasPrefix("0x"), let i = Int64(t.dropFirst(2), radix: 16) { return .int(i, v.span) }
      throw cannot(v, "int", span)
    default: throw cannot(v, "int", span)
    }
  }
  static let intoFloat = conversion("into float", "Convert to a float.", Example("", "'2.5' | into float", result: "2.5")) { v, span in
    switch v.kind {
    case .float: return v
    case .int(let i): return .float(Double(i), v.span)
    case .string(let s):
      guard let d = Double(s.trimmingSpaces()) else { throw cannot(v, "float", span) }
      return .float(d, v.span)
    default: throw cannot(v, "float", span)
    }
  }
  static let intoString = conversion("into string", "Convert to text (the plain form).", Example("", "42 | into string", result: "42")) { v, _ in
    .string(v.plain, v.span)
  }
  static let intoBool = conversion("into bool", "Convert to a bool.", Example("", "'true' | into bool", result: "true")) { v, span in
    switch v.kind {
    case .bool: return v
    case .int(let i): return .bool(i != 0, v.span)
    case .string(let s):
      switch s.lowercased().trimmingSpaces() {
      case "true", "yes", "1", "on": return .bool(true, v.span)
      case "false", "no", "0", "off", "": return .bool(false, v.span)
      default: throw cannot(v, "bool", span)
      }
    default: throw cannot(v, "bool", span)
    }
  }
  static let intoDuration = conversion("into duration", "Convert text like '2s' or nanoseconds to a duration.", Example("", "'1500ms' | into duration", result: "1.5s")) { v, span in
    switch v.kind {
    case .duration: return v
    case .int(let i): return Value(.duration(i), v.span)
    case .string(let s):
      let src = Source.transient(s.trimmingSpaces())
      var lx = Lexer(source: src)
      guard let t = try? lx.next(.expression), case .duration(let d) = t.kind, lx.atEnd else { throw cannot(v, "duration", span) }
      return Value(.duration(d), v.span)
    default: throw cannot(v, "duration", span)
    }
  }
  static let intoSize = conversion("into size", "Convert text like '10MB' or a byte count to a size.", Example("", "'2KiB' | into size | into int", result: "2048")) { v, span in
    switch v.kind {
    case .size: return v
    case .int(let i): return Value(.size(i), v.span)
    case .string(let s):
      let t = s.trimmingSpaces()
      if let i = Int64(t) { return Value(.size(i), v.span) }
      let src = Source.transient(t)
      var lx = Lexer(source: src)
      guard let tok = try? lx.next(.expression), case .size(let n) = tok.kind, lx.atEnd else { throw cannot(v, "size", span) }
      return Value(.size(n), v.span)
    default: throw cannot(v, "size", span)
    }
  }
}
