import Foundation

/// Turns one directive into an `Instruction`, checking its words, options and `[arguments]`;
/// each error points at the word at fault.
struct DirectiveChecker {
  let file: String

  func fail(_ at: JailfileLocation, _ message: String, help: String? = nil) -> JailfileError {
    JailfileError(file: file, at, message, help: help)
  }

  mutating func check(_ d: Directive) throws(JailfileError) -> Instruction {
    try checkArguments(d)
    if d.heredoc != nil, d.name != "RUN" {
      throw fail(d.heredoc!.span.start, "only RUN takes a heredoc, not \(d.name)")
    }
    switch d.name {
    case "FROM": return try from(d)
    case "RUN":
      // The words as written: the shell in the container reads the quotes (as Docker's RUN;
      // xc strips a leading quote, so `printf 'a b\n'` lost its quotes).
      let command = d.words.isEmpty ? nil : d.words.map(\.raw).joined(separator: " ")
      guard command != nil || d.heredoc != nil else {
        throw fail(d.span.end, "RUN needs a command or a heredoc (`RUN sh <<EOF … EOF`)")
      }
      return .run(command: command, stdin: d.heredoc?.body)
    case "COPY": return try copy(d)
    case "ARG":
      let w = try exactly(1, d, "ARG NAME[=DEFAULT]")[0]
      let (name, value) = try assignment(w, optionalValue: true)
      return .arg(name: name, defaultValue: try value.map { v throws(JailfileError) in try template(v, of: w, name: name) })
    case "ENV": return try env(d)
    case "WORKDIR":
      let w = try exactly(1, d, "WORKDIR DIR")[0]
      return .config(.workdir(entryPoint: entryPoint(d), directory: w.text))
    case "ENTRYPOINT": return try entryPointDirective(d)
    case "CMD": return try cmd(d)
    case "VOLUME": return try volume(d)
    case "ADDENV": return try addEnv(d)
    case "ALLOW":
      guard !d.words.isEmpty else { throw fail(d.span.end, "ALLOW needs at least one parameter name") }
      return .config(.allow(d.words.map(\.text), replace: d.argument("replace")?.value.text == "true"))
    case "NOINIT":
      _ = try exactly(0, d, "NOINIT")
      return .config(.noInit)
    case "NODEINIT":
      _ = try exactly(0, d, "NODEINIT")
      return .config(.noDeinit)
    case "SYSVIPC":
      let known: Set = ["shm", "-shm", "msg", "-msg", "sem", "-sem"]
      for w in d.words where !known.contains(w.text) {
        throw fail(w.span.start, "expected one of shm, -shm, msg, -msg, sem, -sem, found `\(w.text)`")
      }
      return .config(.sysvipc(d.words.map(\.text)))
    case "MOUNT":
      let w = try exactly(2, d, "MOUNT FSTYPE MOUNTPOINT")
      return .config(.mount(fsType: w[0].text, mountPoint: w[1].text))
    case "DEVICE":
      guard !d.words.isEmpty else { throw fail(d.span.end, "DEVICE needs a devfs rule") }
      for w in d.words { try validateInterpolation(w) }
      return .config(.device(rule: d.words.map(\.text).joined(separator: " ")))
    default:
      let close = BuildPlan.directives.min { distance($0, d.name) < distance($1, d.name) }
      throw fail(
        d.nameSpan.start, "unknown directive `\(d.name)`",
        help: (close.map { distance($0, d.name) <= 2 ? "did you mean `\($0)`? " : "" } ?? "")
          + "known: " + BuildPlan.directives.joined(separator: ", "))
    }
  }

  // MARK: - Directives with structure

  private func from(_ d: Directive) throws(JailfileError) -> Instruction {
    guard let image = d.words.first else { throw fail(d.span.end, "FROM needs an image (`FROM busybox:latest`)") }
    if d.words.count == 1 { return .from(image: try BuildTemplate(image, file: file), alias: nil) }
    guard d.words[1].text == "as" || d.words[1].text == "AS" else {
      throw fail(d.words[1].span.start, "expected `as NAME` after the image, found `\(d.words[1].raw)`")
    }
    guard d.words.count == 3 else {
      throw fail(
        d.words.count == 2 ? d.words[1].span.end : d.words[3].span.start,
        d.words.count == 2 ? "expected a stage name after `as`" : "expected the end of the line after the stage name")
    }
    return .from(image: try BuildTemplate(image, file: file), alias: d.words[2].text)
  }

  private func copy(_ d: Directive) throws(JailfileError) -> Instruction {
    var options = OptionScanner(d.words, file: file, directive: "COPY")
    var from: String?
    var to: String?
    var positional: [JailfileWord] = []
    while let item = try options.next(valued: ["--from", "--to"], switches: []) {
      switch item {
      case .option("--from", let v, _): from = v
      case .option(_, let v, _): to = v
      case .positional(let w): positional.append(w)
      }
    }
    guard positional.count == 2 else {
      throw fail(
        positional.count > 2 ? positional[2].span.start : d.span.end,
        "COPY takes a source and a destination (`COPY [--from NAME] [--to NAME] SRC DEST`), found \(positional.count) path\(positional.count == 1 ? "" : "s")")
    }
    let dest = try BuildTemplate(positional[1], file: file)
    guard positional[1].text.hasPrefix("/") || positional[1].text.hasPrefix("$") else {
      throw fail(positional[1].span.start, "COPY's destination must be an absolute path, found `\(positional[1].text)`")
    }
    return .copy(source: try BuildTemplate(positional[0], file: file), destination: dest, from: from, to: to)
  }

  /// `ENTRYPOINT ["PROGRAM", "ARG"…]` (Docker's exec form), `ENTRYPOINT [VAR=VALUE]… PROGRAM`
  /// (xc's), or `ENTRYPOINT COMMAND WORDS…` (Docker's shell form: `/bin/sh -c "COMMAND WORDS…"`).
  private func entryPointDirective(_ d: Directive) throws(JailfileError) -> Instruction {
    if let argv = try execForm(d) {
      return .config(.entryPoint(name: entryPoint(d), program: argv[0], arguments: Array(argv.dropFirst()), environment: [:]))
    }
    var environment: [String: String] = [:]
    for (i, w) in d.words.enumerated() {
      if let eq = w.text.firstIndex(of: "="), isName(w.text[..<eq]) {
        try validateInterpolation(w)
        environment[String(w.text[..<eq])] = String(w.text[w.text.index(after: eq)...])
        continue
      }
      if i == d.words.count - 1 {
        return .config(.entryPoint(name: entryPoint(d), program: w.text, arguments: [], environment: environment))
      }
      let command = d.words[i...].map(\.raw).joined(separator: " ")
      return .config(.entryPoint(name: entryPoint(d), program: "/bin/sh", arguments: ["-c", command], environment: environment))
    }
    throw fail(d.span.end, "ENTRYPOINT needs a program (`ENTRYPOINT [\"PROGRAM\", \"ARG\"…]` or `ENTRYPOINT [VAR=VALUE]… PROGRAM`)")
  }

  /// `CMD ["PROGRAM", "ARG"…]` (exec form) or `CMD WORDS…`: the entry point's default
  /// arguments, or — with no program set — the command itself, as in Docker (see `ConfigEdit.cmd`).
  private func cmd(_ d: Directive) throws(JailfileError) -> Instruction {
    if let argv = try execForm(d) {
      return .config(.cmd(entryPoint: entryPoint(d), arguments: argv, shell: nil))
    }
    guard !d.words.isEmpty else {
      throw fail(d.span.end, "CMD needs a command (`CMD [\"PROGRAM\", \"ARG\"…]` or `CMD COMMAND ARGS…`)")
    }
    for w in d.words { try validateInterpolation(w) }
    return .config(
      .cmd(entryPoint: entryPoint(d), arguments: d.words.map(\.text), shell: d.words.map(\.raw).joined(separator: " ")))
  }

  /// Docker's exec form: the values, when they start with `[`, as a JSON array of strings.
  private func execForm(_ d: Directive) throws(JailfileError) -> [String]? {
    guard let first = d.words.first, first.raw.hasPrefix("[") else { return nil }
    let text = d.words.map(\.raw).joined(separator: " ")
    guard let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
      throw fail(
        first.span.start, "\(d.name) starting with `[` must be a JSON array of strings, found `\(text)`",
        help: "write `\(d.name) [\"/bin/sh\", \"-c\", \"echo hi\"]` (double quotes, commas), or the shell form without brackets")
    }
    guard let program = array.first, !program.isEmpty else {
      throw fail(first.span.start, "\(d.name)'s array needs a program as its first element")
    }
    return array
  }

  /// `ENV NAME=VALUE…` (values quoted as in Docker: `"…"` with `\` escapes, `'…'` literal)
  /// or Docker's older `ENV NAME VALUE WORDS…`.
  private func env(_ d: Directive) throws(JailfileError) -> Instruction {
    guard let first = d.words.first else { throw fail(d.span.end, "ENV needs NAME=VALUE") }
    if !first.raw.contains("="), d.words.count > 1 {
      guard isName(first.raw) else {
        throw fail(first.span.start, "expected a variable name (letters, digits, `_`), found `\(first.raw)`")
      }
      let rest = d.words.dropFirst()
      let value = try unquote(rest.map(\.raw).joined(separator: " "), at: rest.first!.span.start)
      let word = JailfileWord(text: value, raw: value, span: JailfileSpan(rest.first!.span.start, d.span.end))
      return .env([(first.raw, try BuildTemplate(word, file: file))])
    }
    var pairs: [(name: String, value: BuildTemplate)] = []
    for w in Self.joiningEscapedBlanks(d.words) {
      guard let eq = w.raw.firstIndex(of: "=") else {
        throw fail(w.span.start, "expected NAME=VALUE, found `\(w.raw)`")
      }
      let name = String(w.raw[..<eq])
      guard isName(name) else {
        throw fail(w.span.start, "expected a variable name before `=` (letters, digits, `_`), found `\(name)`")
      }
      let start = w.span.start.advanced(by: name.count + 1)
      let value = try unquote(String(w.raw[w.raw.index(after: eq)...]), at: start)
      pairs.append((name, try BuildTemplate(JailfileWord(text: value, raw: value, span: JailfileSpan(start, w.span.end)), file: file)))
    }
    return .env(pairs)
  }

  /// Words split at a blank that a `\` escapes (`A=x\ y`) joined back, as Docker reads them.
  private static func joiningEscapedBlanks(_ words: [JailfileWord]) -> [JailfileWord] {
    var out: [JailfileWord] = []
    for w in words {
      if let last = out.last, last.raw.reversed().prefix(while: { $0 == "\\" }).count % 2 == 1 {
        let raw = last.raw + " " + w.raw
        out[out.count - 1] = JailfileWord(text: raw, raw: raw, span: JailfileSpan(last.span.start, w.span.end))
      } else {
        out.append(w)
      }
    }
    return out
  }

  /// Removes Docker's quoting: `"…"` (where `\` escapes `"`, `\` and `$`), `'…'` (literal),
  /// and `\` before any other character outside quotes.
  private func unquote(_ text: String, at start: JailfileLocation) throws(JailfileError) -> String {
    var out = ""
    var quote: Character?
    var escaped = false
    for c in text {
      if escaped {
        if quote == "\"", !"\"\\$".contains(c) { out.append("\\") }
        out.append(c)
        escaped = false
      } else if c == "\\", quote != "'" {
        escaped = true
      } else if let q = quote, c == q {
        quote = nil
      } else if quote == nil, c == "\"" || c == "'" {
        quote = c
      } else {
        out.append(c)
      }
    }
    if let quote { throw fail(start, "unterminated \(quote)…\(quote) in ENV's value `\(text)`") }
    if escaped { out.append("\\") }
    return out
  }

  private func volume(_ d: Directive) throws(JailfileError) -> Instruction {
    var options = OptionScanner(d.words, file: file, directive: "VOLUME")
    var v = ConfigEdit.Volume(name: "", destination: "", hints: [:], required: false, readOnly: false)
    var positional: [JailfileWord] = []
    while let item = try options.next(
      valued: ["--hint", "-d", "--description"], switches: ["--required", "--ro"])
    {
      switch item {
      case .option("--hint", let text, let w):
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
          throw fail(w.span.start, "--hint takes KEY=VALUE, found `\(text)`")
        }
        v.hints[String(text[..<eq])] = String(text[text.index(after: eq)...])
      case .option("--required", _, _): v.required = true
      case .option("--ro", _, _): v.readOnly = true
      case .option(_, let text, _): v.description = text
      case .positional(let w): positional.append(w)
      }
    }
    guard (1...2).contains(positional.count) else {
      throw fail(
        positional.isEmpty ? d.span.end : positional[2].span.start,
        "VOLUME takes a mount point and an optional name (`VOLUME [options] DEST [NAME]`)")
    }
    v.destination = positional[0].text
    v.name = positional.count == 2 ? positional[1].text : positional[0].text
    return .config(.volume(v))
  }

  private func addEnv(_ d: Directive) throws(JailfileError) -> Instruction {
    var options = OptionScanner(d.words, file: file, directive: "ADDENV")
    var required = false
    var description: String?
    var positional: [JailfileWord] = []
    while let item = try options.next(valued: ["-d", "--description"], switches: ["--require"]) {
      switch item {
      case .option("--require", _, _): required = true
      case .option(_, let text, _): description = text
      case .positional(let w): positional.append(w)
      }
    }
    guard positional.count == 1 else {
      throw fail(
        positional.isEmpty ? d.span.end : positional[1].span.start,
        "ADDENV takes one VAR[=DEFAULT] (`ADDENV [--require] [-d TEXT] VAR[=DEFAULT]`)")
    }
    let (name, value) = try assignment(positional[0], optionalValue: true)
    return .config(.addEnv(name: name, defaultValue: value, required: required, description: description))
  }

  // MARK: - Helpers

  /// `[key:value]` only where xc reads them: `entry_point` (WORKDIR, ENTRYPOINT, CMD) and
  /// `replace` (ALLOW).
  private func checkArguments(_ d: Directive) throws(JailfileError) {
    let allowed: [String: String] = [
      "WORKDIR": "entry_point", "ENTRYPOINT": "entry_point", "CMD": "entry_point", "ALLOW": "replace",
    ]
    for a in d.arguments where allowed[d.name] != a.key {
      throw fail(
        a.span.start,
        allowed[d.name].map { "\(d.name) takes the argument `\($0)`, not `\(a.key)`" }
          ?? "\(d.name) takes no [arguments]")
    }
  }

  private func entryPoint(_ d: Directive) -> String { d.argument("entry_point")?.value.text ?? "main" }

  private func exactly(_ n: Int, _ d: Directive, _ usage: String) throws(JailfileError) -> [JailfileWord] {
    guard d.words.count == n else {
      let at = d.words.count > n ? d.words[n].span.start : d.span.end
      let what = d.words.count > n ? "expected the end of the line" : "missing a value"
      throw fail(at, "\(what): \(d.name) is written `\(usage)`")
    }
    return d.words
  }

  private func isName<S: StringProtocol>(_ s: S) -> Bool {
    guard let f = s.first, JailfileLexer.isIdentStart(f) else { return false }
    return s.allSatisfy { JailfileLexer.isIdentChar($0) }
  }

  /// `NAME=VALUE` (or just `NAME` when the value is optional).
  private func assignment(_ w: JailfileWord, optionalValue: Bool) throws(JailfileError) -> (String, String?) {
    let text = w.text
    guard let eq = text.firstIndex(of: "=") else {
      guard optionalValue, isName(text) else {
        throw fail(w.span.start, "expected NAME=VALUE, found `\(w.raw)`")
      }
      return (text, nil)
    }
    guard isName(text[..<eq]) else {
      throw fail(w.span.start, "expected a variable name before `=` (letters, digits, `_`), found `\(text[..<eq])`")
    }
    return (String(text[..<eq]), String(text[text.index(after: eq)...]))
  }

  /// The VALUE of `NAME=VALUE` in `w` as a build-time template located at its `=`.
  private func template(_ value: String, of w: JailfileWord, name: String) throws(JailfileError) -> BuildTemplate {
    let offset = name.count + 1 + (w.quoted ? 1 : 0)
    let start = w.span.start.advanced(by: offset)
    return try BuildTemplate(
      JailfileWord(text: value, raw: value, span: JailfileSpan(start, w.span.end)), file: file)
  }

  /// Values the daemon expands later: their syntax is checked now.
  private func validateInterpolation(_ w: JailfileWord) throws(JailfileError) {
    _ = try BuildTemplate(w, file: file)
  }

  private func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
      var next = [i] + Array(repeating: 0, count: b.count)
      for j in 1...max(b.count, 1) where !b.isEmpty {
        next[j] = min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      row = next
    }
    return row[b.count]
  }
}

/// GNU-style options in a directive's words (`--from NAME`, `--from=NAME`, `-d TEXT`), as xc
/// parses COPY, VOLUME and ADDENV; `--` ends the options.
struct OptionScanner {
  enum Item {
    /// An option and its value (empty for switches) and the word it came from.
    case option(String, String, JailfileWord)
    case positional(JailfileWord)
  }
  private var words: ArraySlice<JailfileWord>
  private var optionsEnded = false
  let file: String
  let directive: String

  init(_ words: [JailfileWord], file: String, directive: String) {
    self.words = words[...]
    self.file = file
    self.directive = directive
  }

  mutating func next(valued: Set<String>, switches: Set<String>) throws(JailfileError) -> Item? {
    guard let w = words.popFirst() else { return nil }
    let text = w.text
    if optionsEnded || !text.hasPrefix("-") || text == "-" || w.quoted { return .positional(w) }
    if text == "--" {
      optionsEnded = true
      return try next(valued: valued, switches: switches)
    }
    var name = text
    var inline: String?
    if let eq = text.firstIndex(of: "="), text.hasPrefix("--") {
      name = String(text[..<eq])
      inline = String(text[text.index(after: eq)...])
    }
    let canonical = name == "--description" ? "-d" : name
    if switches.contains(name) {
      guard inline == nil else {
        throw JailfileError(file: file, w.span.start, "\(directive)'s `\(name)` takes no value")
      }
      return .option(canonical, "", w)
    }
    guard valued.contains(name) else {
      let known = (valued.union(switches)).sorted().joined(separator: ", ")
      throw JailfileError(
        file: file, w.span.start, "\(directive) has no option `\(name)`", help: "its options: \(known)")
    }
    if let inline { return .option(canonical, inline, w) }
    guard let v = words.popFirst() else {
      throw JailfileError(file: file, w.span.end, "\(directive)'s `\(name)` needs a value")
    }
    return .option(canonical, v.text, w)
  }
}
