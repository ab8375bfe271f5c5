import Foundation
import XCShell

/// Tab completion: commands, sub-commands, flags with descriptions, `$variables` and record
/// fields, file paths, and (through `objectNames`) live daemon object names.
///
/// It is pure: given the text before the cursor it returns candidates, so it is tested without a
/// terminal, and no failure can reach the line being edited.
public struct Completer {
  public struct Candidate: Equatable, Sendable {
    /// The full word that replaces the one being typed.
    public var text: String
    /// Shown beside the candidate when several are listed (a flag's summary).
    public var description: String = ""
    /// Appended after a unique completion: a space, or nothing after a directory's `/`.
    public var suffix: String = " "
  }

  public struct Result: Equatable, Sendable {
    /// Where the word being completed starts (a Character offset into the text before the cursor).
    public var start: Int
    public var candidates: [Candidate]
  }

  let shell: Shell
  /// Names of live daemon objects for a parameter shape (`.object(.container)`) on a host (nil:
  /// the script's own daemon; inside `on web1 { … }`, `web1`), cached by the caller.
  var objectNames: (ObjectType, String?) -> [String]
  static let keywords = [
    "let", "var", "fn", "if", "else", "for", "while", "loop", "break", "continue", "return", "defer", "try", "catch",
    "source", "use", "match", "const",
  ]

  public init(shell: Shell, objectNames: @escaping (ObjectType) -> [String] = { _ in [] }) {
    self.shell = shell
    self.objectNames = { t, host in host == nil ? objectNames(t) : [] }
  }

  /// Completion whose object names come from the host of the enclosing `on HOST { … }`.
  public init(shell: Shell, hostObjectNames: @escaping (ObjectType, String?) -> [String]) {
    self.shell = shell
    self.objectNames = hostObjectNames
  }

  public func complete(_ before: String) -> Result {
    let chars = Array(before)
    var start = chars.count
    while start > 0, !" \t\n|;({[".contains(chars[start - 1]) { start -= 1 }
    let word = String(chars[start...])
    // Words of the current command, from the last pipeline boundary.
    var cmdStart = start
    while cmdStart > 0, !"|;({\n".contains(chars[cmdStart - 1]) { cmdStart -= 1 }
    let words = String(chars[cmdStart..<start]).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)

    if word.hasPrefix("$") { return Result(start: start, candidates: variables(word)) }
    if words.isEmpty {
      return Result(start: start, candidates: commands(word))
    }
    // A sub-command right after its group: `str up<Tab>`.
    if words.count == 1, shell.isGroup(words[0]) {
      let subs = subcommands(of: words[0], prefix: word)
      if !subs.isEmpty { return Result(start: start, candidates: subs) }
    }
    let (name, sig) = command(words)
    if word.hasPrefix("-"), let sig { return Result(start: start, candidates: flags(sig, word)) }
    if let sig, let shape = nextShape(sig, words: words, name: name) {
      switch shape {
      case .object(let t):
        let host = Self.enclosingHost(Array(chars[..<cmdStart]))
        return Result(start: start, candidates: objectNames(t, host).filter { $0.hasPrefix(word) }.sorted().map { Candidate(text: $0) })
      case .oneOf(let options):
        return Result(start: start, candidates: options.filter { $0.hasPrefix(word) }.map { Candidate(text: $0) })
      default: break
      }
    }
    return Result(start: start, candidates: paths(word))
  }

  /// The host of the innermost unclosed `on HOST {` block in `text` (a literal name or address,
  /// not a variable), nil when there is none. Quoted text is skipped; a `{` of anything else
  /// (a closure, a record) is a block too, so `on a { each {|x| kill <Tab>` finds `a`.
  static func enclosingHost(_ text: [Character]) -> String? {
    var open: [String?] = []  // per unclosed `{`: the host when it opens an `on` block
    var quote: Character? = nil
    var i = 0
    while i < text.count {
      let c = text[i]
      if let q = quote {
        if c == "\\", q == "\"" { i += 1 } else if c == q { quote = nil }
      } else if c == "\"" || c == "'" {
        quote = c
      } else if c == "{" {
        var head = i
        while head > 0, !"|;({\n".contains(text[head - 1]) { head -= 1 }
        let words = String(text[head..<i]).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        open.append(words.count == 2 && words[0] == "on" && !words[1].hasPrefix("$") ? words[1] : nil)
      } else if c == "}" {
        _ = open.popLast()
      }
      i += 1
    }
    return open.last { $0 != nil } ?? nil
  }

  /// The longest known command name among the first words (`image list` before `image`).
  func command(_ words: [String]) -> (String, Signature?) {
    for n in stride(from: min(3, words.count), through: 1, by: -1) {
      let name = words.prefix(n).joined(separator: " ")
      if let sig = shell.signature(of: name) { return (name, sig) }
    }
    return (words[0], nil)
  }

  /// The shape of the next positional parameter, counting the positional words already typed.
  func nextShape(_ sig: Signature, words: [String], name: String) -> Shape? {
    let nameWords = name.split(separator: " ").count
    var count = 0
    var skipValue = false
    for w in words.dropFirst(nameWords) {
      if skipValue { skipValue = false; continue }
      if w.hasPrefix("--") {
        let flag = String(w.dropFirst(2))
        if !flag.contains("="), sig.flag(named: flag)?.kind == .named { skipValue = true }
      } else if !w.hasPrefix("-") {
        count += 1
      }
    }
    let positional = sig.parameters.filter { !$0.isFlag }
    if count < positional.count { return positional[count].shape }
    return positional.last { $0.kind == .rest }?.shape
  }

  func commands(_ prefix: String) -> [Candidate] {
    var names = Set(shell.commandNames.map { String($0.split(separator: " ")[0]) })
    names.formUnion(Self.keywords)
    if !prefix.isEmpty, !prefix.contains("/") { names.formUnion(PathCommands.shared.names(environment: shell.environment)) }
    if prefix.hasPrefix("^") {
      return PathCommands.shared.names(environment: shell.environment).filter { $0.hasPrefix(prefix.dropFirst()) }
        .sorted().map { Candidate(text: "^" + $0) }
    }
    if prefix.contains("/") { return paths(prefix).filter { $0.suffix == "/" || isExecutable($0.text) } }
    return names.filter { $0.hasPrefix(prefix) }.sorted().map { n in
      Candidate(text: n, description: shell.signature(of: n)?.summary ?? "")
    }
  }

  func subcommands(of group: String, prefix: String) -> [Candidate] {
    shell.commandNames.filter { $0.hasPrefix(group + " ") }.map { String($0.dropFirst(group.count + 1)) }
      .filter { $0.hasPrefix(prefix) && !$0.contains(" ") }.sorted()
      .map { Candidate(text: $0, description: shell.signature(of: group + " " + $0)?.summary ?? "") }
  }

  func flags(_ sig: Signature, _ prefix: String) -> [Candidate] {
    var out: [Candidate] = []
    for p in sig.parameters where p.isFlag {
      let long = "--" + p.name
      if long.hasPrefix(prefix) {
        let value = p.kind == .named ? " <\(p.shape.name)>" : ""
        out.append(Candidate(text: long, description: p.summary + value))
      }
    }
    if "--help".hasPrefix(prefix) { out.append(Candidate(text: "--help", description: "Show help.")) }
    return out
  }

  func variables(_ word: String) -> [Candidate] {
    let body = word.dropFirst()
    if let dot = body.lastIndex(of: ".") {
      // `$x.fi<Tab>`: the fields of the value at the path so far.
      let path = body[..<dot].split(separator: ".").map(String.init)
      let prefix = String(body[body.index(after: dot)...])
      guard let first = path.first, var v = shell.variable(first) else { return [] }
      for member in path.dropFirst() {
        if let r = v.recordValue, let f = r[member] { v = f } else if case .list(let items) = v.kind, let i = Int(member), i >= 0, i < items.count {
          v = items[i]
        } else { return [] }
      }
      let keys = v.recordValue?.keys ?? []
      return keys.filter { $0.hasPrefix(prefix) }.map { Candidate(text: "$" + body[...dot] + $0, suffix: "") }
    }
    return shell.variableNames.filter { $0.hasPrefix(body) }.map { Candidate(text: "$" + $0, suffix: "") }
  }

  func paths(_ word: String) -> [Candidate] {
    var expanded = word
    if word.hasPrefix("~/") { expanded = NSHomeDirectory() + word.dropFirst() }
    let dirPart: String
    let namePrefix: String
    if let slash = expanded.lastIndex(of: "/") {
      dirPart = String(expanded[...slash])
      namePrefix = String(expanded[expanded.index(after: slash)...])
    } else {
      dirPart = ""
      namePrefix = expanded
    }
    let dir = dirPart.isEmpty ? "." : dirPart
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
    let shownDir = word.hasPrefix("~/") ? "~/" + dirPart.dropFirst(NSHomeDirectory().count + 1) : dirPart
    return entries.filter { $0.hasPrefix(namePrefix) && (namePrefix.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted()
      .map { name in
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(name), isDirectory: &isDir)
        return Candidate(text: shownDir + name + (isDir.boolValue ? "/" : ""), suffix: isDir.boolValue ? "" : " ")
      }
  }

  func isExecutable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

  /// The longest prefix every candidate shares.
  public static func commonPrefix(_ candidates: [Candidate]) -> String {
    guard var prefix = candidates.first?.text else { return "" }
    for c in candidates.dropFirst() {
      while !c.text.hasPrefix(prefix) { prefix.removeLast() }
    }
    return prefix
  }
}

/// Program names on PATH, scanned once per PATH value.
final class PathCommands: @unchecked Sendable {
  static let shared = PathCommands()
  private let lock = NSLock()
  private var cachedPath = ""
  private var cached: [String] = []

  func names(environment: [String: String]) -> [String] {
    let path = environment["PATH"] ?? ""
    lock.lock()
    defer { lock.unlock() }
    if path == cachedPath { return cached }
    var out = Set<String>()
    for dir in path.split(separator: ":") {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: String(dir))) ?? [] {
        if FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { out.insert(name) }
      }
    }
    cachedPath = path
    cached = Array(out)
    return cached
  }
}
