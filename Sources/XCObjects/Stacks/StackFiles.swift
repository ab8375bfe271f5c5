import Foundation
import XCShell

/// A Compose file read from disk: its text, the project it is, and the variables its
/// interpolation sees (the environment over the project directory's `.env`, as Compose).
struct StackFile {
  var path: String
  var directory: String
  var project: String
  var compose: ComposeFile

  /// Reads and parses `path`; `project` (`-p`) overrides the file's `name:` and the directory.
  static func load(_ path: String, project: String?, environment: [String: String], at span: Span) throws -> StackFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ShellError(.fileRead, "cannot read the stack file `\(path)`", at: span)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ShellError(.stackInvalid, "the stack file `\(path)` is not UTF-8 text", at: span)
    }
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    let directory = (absolute as NSString).deletingLastPathComponent
    var variables = environment
    let dotenv = directory + "/.env"
    if let bytes = FileManager.default.contents(atPath: dotenv) {
      do {
        for (k, v) in try EnvFile.parse(String(decoding: bytes, as: UTF8.self), file: dotenv, environment: environment)
        where environment[k] == nil {
          variables[k] = v
        }
      } catch {
        throw ShellError(.stackInvalid, "\(error)", at: span)
      }
    }
    let parser = ComposeParser(file: path, variables: variables) { rel in
      let full = rel.hasPrefix("/") ? rel : directory + "/" + rel
      return FileManager.default.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) }
    }
    let compose = try located(at: span) { () throws(ComposeError) in try parser.parse(text) }
    guard let name = project ?? compose.name ?? StackPlan.projectName(fromDirectory: directory) else {
      throw ShellError(
        .stackInvalid, "no project name: the directory `\(directory)` makes none; give `-p NAME` or `name:` in the file", at: span)
    }
    guard StackPlan.isProjectName(name) else {
      throw ShellError(
        .stackInvalid, "project name `\(name)`: use 1-15 lowercase letters, digits and `_`", at: span,
        help: "`-p NAME` chooses another; `-` is not allowed (it separates the project from the service in names)")
    }
    return StackFile(path: path, directory: directory, project: name, compose: compose)
  }

  /// The stack's plan; `existingSubnets` as `StackPlan.make` takes them.
  func plan(existingSubnets: [String: String], at span: Span) throws -> StackPlan {
    try Self.located(at: span) { () throws(ComposeError) in
      try StackPlan.make(compose, project: project, projectDir: directory, existingSubnets: existingSubnets)
    }
  }

  /// `body`'s result, its `ComposeError` as a shell error located at the command.
  static func located<T>(at span: Span, _ body: () throws(ComposeError) -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw shellError(error, at: span)
    }
  }

  static func shellError(_ e: ComposeError, at span: Span) -> ShellError {
    ShellError(
      e.kind == .unsupported ? .stackUnsupported : .stackInvalid, e.description, at: span,
      help: e.kind == .unsupported ? "docs/stacks.md lists the Compose keys stacks support" : nil)
  }

  /// Whether a `stack down`/`ps` argument names a file rather than a project.
  static func isPath(_ text: String) -> Bool {
    text.contains("/") || text.contains(".") || FileManager.default.fileExists(atPath: text)
  }
}
