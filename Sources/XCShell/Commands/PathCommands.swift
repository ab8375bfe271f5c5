import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// File paths as text (`path join|basename|dirname|exists|expand|parse`) and `glob`.
///
/// The `path` commands take a path (or a list of them, mapped) as input; only `exists` and
/// `expand` look at the file system.
enum PathCommands {
  static let all: [any Command] = [join, basename, dirname, exists, expand, parse, glob]

  static let join = Builtin(
    Signature(
      "path join", category: .files, summary: "Join path parts with `/` (an absolute part starts over).",
      parameters: [.rest("parts", .string, "Parts to append to the input path.")],
      examples: [
        Example("", "'/etc' | path join nginx conf.d", result: "/etc/nginx/conf.d"),
        Example("A list of parts", "[a b c] | path join", result: "a/b/c"),
      ])
  ) { call, input in
    let base = try input.collect()
    var parts: [String]
    switch base.kind {
    case .list(let items): parts = try items.map { try $0.asString() }
    case .null: parts = []
    default: parts = [try base.asString()]
    }
    parts += try call.restValues().map { try $0.asString() }
    guard !parts.isEmpty else { throw ShellError(.argsMissing, "`path join` needs a path: pipe one in or give parts", at: call.head) }
    return .value(.string(joined(parts), call.head))
  }

  static func joined(_ parts: [String]) -> String {
    var out = ""
    for p in parts where !p.isEmpty {
      if p.hasPrefix("/") || out.isEmpty {
        out = p
      } else {
        out += (out.hasSuffix("/") ? "" : "/") + p
      }
    }
    return out
  }

  static let basename = Builtin(
    Signature(
      "path basename", category: .files, summary: "The last part of a path.",
      examples: [Example("", "'/etc/nginx/nginx.conf' | path basename", result: "nginx.conf")])
  ) { call, input in
    try StringCommands.mapStrings(call, input) { .string(split($0).base) }
  }

  static let dirname = Builtin(
    Signature(
      "path dirname", category: .files, summary: "A path without its last part.",
      examples: [Example("", "'/etc/nginx/nginx.conf' | path dirname", result: "/etc/nginx")])
  ) { call, input in
    try StringCommands.mapStrings(call, input) { .string(split($0).parent) }
  }

  /// A path's parent and last part, ignoring trailing slashes (`/a/b/` is `/a` and `b`).
  static func split(_ path: String) -> (parent: String, base: String) {
    var p = Substring(path)
    while p.count > 1, p.hasSuffix("/") { p.removeLast() }
    guard let slash = p.lastIndex(of: "/") else { return ("", String(p)) }
    let parent = p[..<slash]
    return (parent.isEmpty ? "/" : String(parent), String(p[p.index(after: slash)...]))
  }

  static let exists = Builtin(
    Signature(
      "path exists", category: .files, summary: "Whether a file or directory exists at the path.",
      examples: [Example("", "'/' | path exists", result: "true")])
  ) { call, input in
    try StringCommands.mapStrings(call, input) { s in
      .bool(FileManager.default.fileExists(atPath: call.evaluator.resolveUserPath(s)))
    }
  }

  static let expand = Builtin(
    Signature(
      "path expand", category: .files,
      summary: "An absolute path: `~` and relative paths resolved, `.` and `..` removed, symbolic links followed.",
      examples: [Example("", "'/usr/./lib/../bin' | path expand", result: "/usr/bin")])
  ) { call, input in
    try StringCommands.mapStrings(call, input) { s in
      let absolute = call.evaluator.resolveUserPath(s)
      return .string(URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path)
    }
  }

  static let parse = Builtin(
    Signature(
      "path parse", category: .files, summary: "A path as a record {parent, stem, extension}.",
      examples: [
        Example("", "'/srv/app.tar.gz' | path parse | get extension", result: "gz"),
        Example("", "'/srv/app.tar.gz' | path parse | get stem", result: "app.tar"),
      ])
  ) { call, input in
    try StringCommands.mapStrings(call, input) { s in
      let (parent, base) = split(s)
      var stem = base
      var ext = ""
      // A leading dot names a hidden file, not an extension (`.bashrc`).
      if let dot = base.lastIndex(of: "."), dot != base.startIndex {
        stem = String(base[..<dot])
        ext = String(base[base.index(after: dot)...])
      }
      return .record(Record([("parent", .string(parent)), ("stem", .string(stem)), ("extension", .string(ext))]))
    }
  }

  static let glob = Builtin(
    Signature(
      "glob", category: .files,
      summary: "The paths matching a pattern (`*`, `?`, `[…]` within one path segment), sorted; none is an empty list.",
      parameters: [.required("pattern", .string, "A pattern, relative to the working directory or absolute.")],
      examples: [Example("Jailfiles under the current directory's subdirectories", "glob '*/Jailfile'")],
      details: "Relative patterns give relative paths. Hidden files match only a pattern that starts the segment with `.`.")
  ) { call, _ in
    let pattern = try call.require("pattern").asString()
    let relative = !pattern.hasPrefix("/") && !pattern.hasPrefix("~")
    let full = relative ? pattern : call.evaluator.resolveUserPath(pattern)
    let cwd = FileManager.default.currentDirectoryPath
    var g = glob_t()
    defer { globfree(&g) }
    // Relative patterns match relative to the working directory (glob(3) does that already).
    let rc = Glibc.glob(full, 0, nil, &g)
    if rc == GLOB_NOMATCH { return .value(.list([], call.head)) }
    guard rc == 0 else {
      throw ShellError(.ioGlob, "cannot expand `\(pattern)` in \(cwd)", at: call.head)
    }
    var paths: [Value] = []
    for i in 0..<Int(g.gl_pathc) {
      if let p = g.gl_pathv[i] { paths.append(.string(String(cString: p))) }
    }
    return .value(.list(paths, call.head))
  }
}
