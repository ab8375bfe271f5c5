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
    let parser = ComposeParser(file: path, variables: variables, readFile: Self.reader(directory))
    let compose = try located(at: span) { () throws(ComposeError) in try parser.parse(text) }
    guard let name = project ?? compose.name ?? StackPlan.projectName(fromDirectory: directory) else {
      throw ShellError(
        .stackInvalid, "no project name: the directory `\(directory)` makes none; give `-p NAME` or `name:` in the file", at: span)
    }
    return try StackFile(path: path, directory: directory, project: checked(name, at: span), compose: compose)
  }

  /// A stack given as a record (`stack up {name: demo, services: {…}}`): the same keys and
  /// checks as a file, errors naming the key path (`stack record at `services.web.build``);
  /// relative paths (`./site`, `env_file`) from the current directory; the project is `-p`,
  /// else the record's `name`.
  static func record(_ value: Value, project: String?, environment: [String: String], at span: Span) throws -> StackFile {
    let converted: StackRecord
    do {
      converted = try StackRecord(value)
    } catch {
      throw shellError(
        ComposeError(kind: .invalid, at: ComposePosition(file: recordName, line: 1, column: 1, keyPath: error.keyPath), message: error.message),
        at: span)
    }
    let directory = FileManager.default.currentDirectoryPath
    var parser = ComposeParser(file: recordName, variables: environment, readFile: reader(directory))
    parser.keyPaths = converted.keyPaths
    let compose = try located(at: span) { () throws(ComposeError) in try parser.parse(converted.yaml) }
    guard let name = project ?? compose.name else {
      throw ShellError(.stackInvalid, "no project name: a stack record needs a `name` key or `-p NAME`", at: span)
    }
    return try StackFile(path: recordName, directory: directory, project: checked(name, at: span), compose: compose)
  }

  /// What errors in a stack record call it.
  static let recordName = "stack record"

  /// A stack argument: a record, else a file's path.
  /// `environment` is the shell's (`$env`), which Compose's `${VAR}` reads.
  static func load(_ argument: Value, project: String?, environment: [String: String], at span: Span) throws -> StackFile {
    if argument.recordValue != nil { return try record(argument, project: project, environment: environment, at: span) }
    guard case .string(let path) = argument.kind else {
      throw ShellError(.stackInvalid, "a stack is a Compose file's path or a record, not \(argument.typeNameWithArticle)", at: span)
    }
    return try load(path, project: project, environment: environment, at: span)
  }

  private static func reader(_ directory: String) -> (String) -> String? {
    { rel in
      let full = rel.hasPrefix("/") ? rel : directory + "/" + rel
      return FileManager.default.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) }
    }
  }

  private static func checked(_ name: String, at span: Span) throws -> String {
    guard StackPlan.isProjectName(name) else {
      throw ShellError(
        .stackInvalid, "project name `\(name)`: use 1-15 lowercase letters, digits and `_`", at: span,
        help: "`-p NAME` chooses another; `-` is not allowed (it separates the project from the service in names)")
    }
    return name
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
