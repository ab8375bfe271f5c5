import Foundation
import XCIPC
import XCShell

/// `logs CONTAINER [--tail N] [--process P]`: a container process's logged output, as a string.
/// The daemon says where the log is (IPC `xcsh.logs`); the file is read here, on the same host.
enum LogsCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "logs", category: .objects,
        summary: "A container's logged output, as a string (IPC `xcsh.logs`, then the log file).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .named("tail", .int, "Only the last N lines."),
          .named("process", .string, "Which process: `main` or an exec id.", default: .string("main")),
          .switch("follow", short: "f", "Keep printing what the process writes until the container ends (or Ctrl-C)."),
        ],
        examples: [
          Example("The last lines of a detached container's output", "logs web --tail 20"),
          Example("The output of the first container", "ps | first | logs"),
          Example("Follow a server's output until it ends", "logs web --follow --tail 10"),
        ],
        details: """
          xcd logs main's stdout and stderr (interleaved) when the client keeps no descriptor for \
          them: detached runs (`run -d`) and runs on a terminal (`-t`). A log keeps the newest 1 MiB \
          and is kept after the container ends (see `ps --all`, `rm`). `--follow` streams the output \
          as bytes while the container lives (after a 1 MiB trim of the log it starts again at the \
          trimmed file's first line, so lines may repeat, never go missing).
          """)
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      let process = try call.string("process") ?? "main"
      let tail = try call.int("tail")
      if let tail, tail < 0 {
        throw ShellError(.argsValue, "`--tail \(tail)`: not a line count (0 or more)", at: call.span)
      }
      let files = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
        try s.call(LogsRequest(name: ref, process: process), at: call.head)
      }
      var paths: [String] = []
      for path in [files.stdoutLogFile, files.stderrLogFile].compactMap({ $0 }) where !paths.contains(path) {
        paths.append(path)
      }
      guard !paths.isEmpty else {
        throw ShellError(
          .logsMissing, "process `\(process)` of this container has no log: its output went to the client that started it",
          at: call.head, help: "run it detached (`run -d`) to have xcd log its output")
      }
      if call.has("follow") {
        let id = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
          try s.call(ShowContainerRequest(id: ref), at: call.head).runningContainer.id
        }
        return .bytes(try LogFollower(path: paths[0], tail: tail.map(Int.init), id: id, s, call).stream(call.head))
      }
      var text = ""
      for path in paths {
        guard let data = FileManager.default.contents(atPath: path) else {
          throw ShellError(.logsRead, "cannot read the log file \(path)", at: call.head)
        }
        text += String(decoding: data, as: UTF8.self)
      }
      return .value(.string(tail.map { lastLines(text, Int($0)) } ?? text, call.head))
    }
  }

  /// The last `count` lines of `text` (a final newline does not start another line).
  static func lastLines(_ text: String, _ count: Int) -> String {
    guard count > 0 else { return "" }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if text.hasSuffix("\n") { lines.removeLast() }
    let kept = lines.suffix(count).joined(separator: "\n")
    return text.hasSuffix("\n") && !kept.isEmpty ? kept + "\n" : kept
  }
}
