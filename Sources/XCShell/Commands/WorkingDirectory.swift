import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `cd`: the working directory of the whole process, which relative paths (`open`, `save`,
/// redirections, `-v ./dir:/d`) and external commands start from.
enum WorkingDirectoryCommands {
  static let all: [any Command] = [cd]

  static let cd = Builtin(
    Signature(
      "cd", category: .files,
      summary: "Change the working directory (no path: `$env.HOME`; `-`: the previous one); sets `$env.PWD` and `$env.OLDPWD`.",
      parameters: [.optional("path", .string, "The directory: absolute, relative to the current one, `~`, or `-`.")],
      examples: [Example("Into a project", "cd ~/src/app"), Example("Back", "cd -")],
      details: "The working directory belongs to the process: `cd` inside `par-each` or `fleet` workers is an error (they run at the same time). Paths of `source`/`use` stay relative to the file that names them.")
  ) { call, _ in
    let ev = call.evaluator
    let at = call.value("path").map(\.span).flatMap { $0.isKnown ? $0 : nil } ?? call.head
    guard !ev.isWorker else {
      throw ShellError(
        .ioDirectory, "`cd` changes the working directory of the whole process: not inside `par-each` or `fleet`",
        at: call.head, help: "give the commands in the worker absolute paths, or `cd` before the parallel part")
    }
    let given = try call.string("path")
    let target: String
    switch given {
    case nil:
      guard let home = ev.environment["HOME"], !home.isEmpty else {
        throw ShellError(.ioDirectory, "`cd` with no path goes to `$env.HOME`, which is not set", at: call.head)
      }
      target = home
    case "-"?:
      guard let previous = ev.environment["OLDPWD"], !previous.isEmpty else {
        throw ShellError(.ioDirectory, "`cd -` goes to `$env.OLDPWD`, which is not set (no `cd` before)", at: at)
      }
      target = previous
    case let path?:
      target = path
    }
    let absolute = (ev.resolveUserPath(target) as NSString).standardizingPath
    var st = stat()
    guard stat(absolute, &st) == 0 else {
      throw ShellError(.ioDirectory, "cannot change to `\(target)`: \(String(cString: strerror(errno)))", at: at)
    }
    guard st.st_mode & S_IFMT == S_IFDIR else {
      throw ShellError(.ioDirectory, "cannot change to `\(target)`: not a directory", at: at)
    }
    let old = FileManager.default.currentDirectoryPath
    guard chdir(absolute) == 0 else {
      throw ShellError(.ioDirectory, "cannot change to `\(target)`: \(String(cString: strerror(errno)))", at: at)
    }
    ev.environment["OLDPWD"] = old
    ev.environment["PWD"] = absolute
    // `cd -` says where it went, as bash does.
    if given == "-" { return .value(.string(absolute, call.head)) }
    return .empty
  }
}
