import Foundation
import Yams

/// Conversions between values and text formats, and files.
enum FormatCommands {
  static let all: [any Command] = [toJSON, fromJSON, toCSV, fromCSV, toYAML, fromYAML, toTable, toText, open, save]

  static func text(_ input: Pipe) throws -> String {
    switch input {
    case .bytes(let b): return String(decoding: try b.readAll(), as: UTF8.self)
    default: return try input.collect().asString()
    }
  }

  static let toJSON = Builtin(
    Signature(
      "to json", category: .formats, summary: "JSON text: compact, or indented with --indent.",
      parameters: [.named("indent", .int, short: "i", "Pretty-print with this many spaces.")],
      examples: [Example("", "{a: [1, 2]} | to json", result: #"{"a":[1,2]}"#)])
  ) { call, input in
    let v = try input.collectItems()
    return .value(.string(v.toJSON(indent: try call.int("indent").map { Int($0) }), call.head))
  }

  static let fromJSON = Builtin(
    Signature(
      "from json", category: .formats, summary: "Parse JSON text.",
      examples: [Example("", #"'{"a": 1}' | from json | get a"#, result: "1")])
  ) { call, input in
    .value(try JSONReader.parse(try text(input), span: call.head))
  }

  static func csvField(_ s: String, _ sep: Character) -> String {
    if s.contains(sep) || s.contains("\"") || s.contains("\n") || s.contains("\r") {
      return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
  }

  static let toCSV = Builtin(
    Signature(
      "to csv", category: .formats, summary: "CSV text from a table (a header row, then one row per record).",
      parameters: [
        .named("separator", .string, short: "s", "Field separator.", default: .string(",")),
        .switch("noheaders", short: "n", "Leave out the header row."),
      ],
      examples: [Example("", "[{a: 1, b: x}] | to csv | lines | get 1", result: "1,x")])
  ) { call, input in
    let sep = try call.string("separator")?.first ?? ","
    let v = try input.collect()
    let rows = v.recordValue != nil ? [v] : try v.asList()
    var cols: [String] = []
    for r in rows {
      guard let rec = r.recordValue else { throw ShellError.typeMismatch(expected: "table", found: v).located(at: call.head) }
      for k in rec.keys where !cols.contains(k) { cols.append(k) }
    }
    var out = call.has("noheaders") ? "" : cols.map { csvField($0, sep) }.joined(separator: String(sep)) + "\n"
    for r in rows {
      let rec = r.recordValue!
      out += cols.map { c in csvField(rec[c].map { $0.recordValue != nil || $0.kindName == "list" ? $0.toJSON() : $0.plain } ?? "", sep) }
        .joined(separator: String(sep)) + "\n"
    }
    return .value(.string(out, call.head))
  }

  /// Parses CSV (RFC 4180 quoting) into rows of fields.
  static func parseCSV(_ text: String, _ sep: Character) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var chars = Array(text)[...]
    var atFieldStart = true
    while let c = chars.popFirst() {
      if quoted {
        if c == "\"" {
          if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
        } else {
          field.append(c)
        }
        continue
      }
      switch c {
      case "\"" where atFieldStart: quoted = true; atFieldStart = false
      case sep: row.append(field); field = ""; atFieldStart = true
      case "\n", "\r\n":
        row.append(field)
        rows.append(row)
        row = []
        field = ""
        atFieldStart = true
      case "\r": continue
      default: field.append(c); atFieldStart = false
      }
    }
    if !field.isEmpty || !row.isEmpty {
      row.append(field)
      rows.append(row)
    }
    return rows
  }

  /// A CSV cell as a value: numbers become numbers, the rest stays text.
  static func cell(_ s: String) -> Value {
    if let i = Int64(s) { return .int(i) }
    if let d = Double(s), s.contains(".") { return .float(d) }
    return .string(s)
  }

  static let fromCSV = Builtin(
    Signature(
      "from csv", category: .formats, summary: "Parse CSV text into a table (the first row names the columns).",
      parameters: [
        .named("separator", .string, short: "s", "Field separator.", default: .string(",")),
        .switch("noheaders", short: "n", "No header row: columns are named column0, column1, ..."),
      ],
      examples: [Example("", "\"a,b\\n1,x\" | from csv | get 0.b", result: "x")])
  ) { call, input in
    let sep = try call.string("separator")?.first ?? ","
    var rows = parseCSV(try text(input), sep)[...]
    guard !rows.isEmpty else { return .value(.list([], call.head)) }
    let header = call.has("noheaders") ? (0..<rows.first!.count).map { "column\($0)" } : rows.removeFirst()
    let table = rows.map { r -> Value in
      var rec = Record()
      for (i, h) in header.enumerated() { rec[h] = i < r.count ? cell(r[i]) : .null }
      return .record(rec)
    }
    return .value(.list(Array(table), call.head))
  }

  static func yamlNode(_ v: Value) -> Node {
    switch v.kind {
    case .null: return Node("null", Tag(.null))
    case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
    case .int(let i): return Node(String(i), Tag(.int))
    case .float(let d): return Node(Value.formatFloat(d), Tag(.float))
    case .duration, .size, .datetime, .range, .closure: return Node(v.plain, Tag(.str))
    case .string(let s):
      // Text that would read back as another type ("true", "1", "") must be quoted.
      if case .string = value(Node(s, Tag(.str), .plain), .unknown).kind {
        return Node(s, Tag(.str), s.contains("\n") ? .literal : .any)
      }
      return Node(s, Tag(.str), .doubleQuoted)
    case .bytes: return Node(v.plain, Tag(.str))
    case .list(let items): return Node(items.map(yamlNode))
    case .record(let r): return Node(r.map { (Node($0.0, Tag(.str)), yamlNode($0.1)) })
    case .object(let o): return yamlNode(.record(o.fields))
    }
  }

  static func value(_ node: Node, _ span: Span) -> Value {
    switch node {
    case .scalar(let s):
      // Plain scalars get YAML's core-schema types; quoted ones stay strings.
      guard s.style == .plain else { return .string(s.string, span) }
      let text = s.string
      switch text {
      case "", "~", "null", "Null", "NULL": return Value(.null, span)
      case "true", "True", "TRUE": return .bool(true, span)
      case "false", "False", "FALSE": return .bool(false, span)
      default: break
      }
      if let i = Int64(text) { return .int(i, span) }
      if text.hasPrefix("0x"), let i = Int64(text.dropFirst(2), radix: 16) { return .int(i, span) }
      if let d = Double(text), text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .float(d, span) }
      return .string(text, span)
    case .sequence(let seq): return .list(seq.map { value($0, span) }, span)
    case .mapping(let m):
      var r = Record()
      for (k, v) in m { r[k.string ?? "\(k)"] = value(v, span) }
      return .record(r, span)
    case .alias: return Value(.null, span)
    }
  }

  static let toYAML = Builtin(
    Signature(
      "to yaml", category: .formats, summary: "YAML text.",
      examples: [Example("", "{a: 1} | to yaml", result: "a: 1\n")])
  ) { call, input in
    let v = try input.collectItems()
    do {
      return .value(.string(try Yams.serialize(node: yamlNode(v)), call.head))
    } catch {
      throw ShellError(.formatYaml, "cannot write YAML: \(error)", at: call.head)
    }
  }

  static let fromYAML = Builtin(
    Signature(
      "from yaml", category: .formats, summary: "Parse YAML text (the first document).",
      examples: [Example("", "'a: [1, 2]' | from yaml | get a.1", result: "2")])
  ) { call, input in
    do {
      guard let node = try Yams.compose(yaml: try text(input)) else { return .value(Value(.null, call.head)) }
      return .value(value(node, call.head))
    } catch let e as ShellError {
      throw e
    } catch {
      let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
      throw ShellError(.formatYaml, "invalid YAML: \(first)", at: call.head)
    }
  }

  static let toTable = Builtin(
    Signature("to table", category: .formats, summary: "The input rendered as plain table text.")
  ) { call, input in
    .value(.string(Renderer(call.evaluator.options).render(try input.collect(), plainTable: true), call.head))
  }

  static let toText = Builtin(
    Signature(
      "to text", category: .formats, summary: "The plain form of the input (lists one item per line).",
      examples: [Example("", "[1 2] | to text", result: "1\n2\n")])
  ) { call, input in
    .value(.string(Value.textForPipe(try input.collect()), call.head))
  }

  static func format(for path: String) -> String {
    switch (path as NSString).pathExtension.lowercased() {
    case "json": "json"
    case "csv": "csv"
    case "yaml", "yml": "yaml"
    default: "text"
    }
  }

  static let open = Builtin(
    Signature(
      "open", category: .files, summary: "Read a file, parsing .json, .csv and .yaml files.",
      parameters: [
        .required("path", .string, "The file."),
        .switch("raw", short: "r", "Return the text without parsing."),
      ])
  ) { call, _ in
    let rel = try call.require("path").asString()
    let path = call.evaluator.resolveUserPath(rel)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ShellError(.ioNotFound, "cannot read `\(rel)`: no such file or not readable", at: call.value("path")!.span)
    }
    let text = String(decoding: data, as: UTF8.self)
    let input = Pipe.value(.string(text, call.head))
    if call.has("raw") { return input }
    switch format(for: path) {
    case "json": return try fromJSON.run(call, input)
    case "csv": return try fromCSV.run(call, input)
    case "yaml": return try fromYAML.run(call, input)
    default: return input
    }
  }

  static let save = Builtin(
    Signature(
      "save", category: .files, summary: "Write the input to a file (.json, .csv, .yaml converted; text as is).",
      parameters: [
        .required("path", .string, "The file."),
        .switch("force", short: "f", "Overwrite an existing file."),
        .switch("append", short: "a", "Append to the file."),
      ])
  ) { call, input in
    let rel = try call.require("path").asString()
    let path = call.evaluator.resolveUserPath(rel)
    let v: Value
    if case .bytes(let b) = input { v = .string(String(decoding: try b.readAll(), as: UTF8.self)) } else { v = try input.collect() }
    let text: String
    switch (format(for: path), v.kind) {
    case (_, .string(let s)): text = s
    case ("json", _): text = v.toJSON(indent: 2) + "\n"
    case ("csv", _): text = try toCSV.run(call, .value(v)).collect().asString()
    case ("yaml", _): text = try toYAML.run(call, .value(v)).collect().asString()
    default: text = Value.textForPipe(v)
    }
    let exists = FileManager.default.fileExists(atPath: path)
    if exists && !call.has("force") && !call.has("append") {
      throw ShellError(.ioExists, "`\(rel)` already exists", at: call.value("path")!.span, help: "use --force to overwrite or --append")
    }
    if call.has("append"), exists, let h = FileHandle(forWritingAtPath: path) {
      h.seekToEndOfFile()
      h.write(Data(text.utf8))
      h.closeFile()
    } else if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
      throw ShellError(.ioWrite, "cannot write `\(rel)`", at: call.value("path")!.span)
    }
    return .empty
  }
}
