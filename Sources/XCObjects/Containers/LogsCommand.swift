import Foundation
import Glibc
import XCIPC
import XCShell
import XCSystem

/// `logs CONTAINER [--tail N] [--since T] [--until T] [--stdout] [--stderr] [--timestamps]
/// [--follow] [--process P]`: a container process's logged output, as `docker logs` shows it.
/// The daemon says where the log is (IPC `xcsh.logs`); the file is read where the daemon is:
/// here, or on its host through the relay (`LogFileReader`).
enum LogsCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "logs", category: .objects,
        summary: "A container's logged output: lines on a terminal, `{time, stream, line}` records in a pipe (IPC `xcsh.logs`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .named("tail", .int, short: "n", "Only the last N lines."),
          .named("since", .any, "Only lines from this time on: a datetime, ISO 8601 text, or a duration before now (`10m`)."),
          .named("until", .any, "Only lines before this time (same forms as `--since`)."),
          .switch("stdout", "Only what the process wrote to its stdout."),
          .switch("stderr", "Only what the process wrote to its stderr."),
          .switch("timestamps", short: "t", "On a terminal, start each line with its time (RFC 3339, nanoseconds)."),
          .named("process", .string, "Which process: `main` or an exec id.", default: .string("main")),
          .switch("follow", short: "f", "Keep showing what the process writes until it ends (main: the container) or Ctrl-C."),
        ],
        examples: [
          Example("The last lines of a detached container's output", "logs web --tail 20"),
          Example("The output of the first container", "ps | first | logs"),
          Example("Follow a server's output until it ends", "logs web --follow --tail 10"),
          Example("What a container wrote to stderr in the last ten minutes, with times", "logs web --stderr --since 10m --timestamps"),
          Example("How many lines it wrote to stderr in the last hour", "logs web --since 1h | where stream == stderr | length"),
        ],
        details: """
          xcd logs main's stdout and stderr when the client keeps no descriptor for them: detached \
          runs (`run -d`) and runs on a terminal (`-t`, all of it as stdout: a pty has one output). \
          Each line is stamped with the time xcd read it and its stream. On a terminal, as \
          `docker logs`, stdout lines go to stdout and stderr lines to stderr; in a pipe or with \
          `xcsh --json` each line is a record `{time, stream, line}` (`time` a datetime). A log keeps \
          the newest 1 MiB and is kept after the container ends (see `ps --all`, `rm`). `--follow` \
          combines with every filter and ends when the container has ended (or at `--until`). A log written by an \
          older xcd (no times nor streams) is shown as text; the filters refuse it. An exec'd \
          process is logged only when started with `exec --detach` (`--process ID`).
          """)
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      // Every call about a container object goes to its host, also while a stream is read.
      return try DaemonRoute.pipe(of: target) { try logsHere(target, s, call) }
    }
  }

  private static func logsHere(_ target: Value, _ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let process = try call.string("process") ?? "main"
    let tail = try call.int("tail")
    if let tail, tail < 0 {
      throw ShellError(.argsValue, "`--tail \(tail)`: not a line count (0 or more)", at: call.span)
    }
    let selection = try selection(call)
    let files = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
      try s.call(LogsRequest(name: ref, process: process), at: call.head)
    }
    // One file holds every logged stream (xcd writes both streams' records to it).
    guard let path = files.stdoutLogFile ?? files.stderrLogFile else {
      throw ShellError(
        .logsMissing, "process `\(process)` of this container has no log: its output went to the client that started it",
        at: call.head, help: "run it detached (`run -d`) to have xcd log its output")
    }
    let reader = LogFileReader.routed(s)
    let bytes = try reader.contents(path, at: call.head)
    guard LogRecordFile.isRecordLog(bytes) else {
      return try legacy(bytes, path: path, tail: tail, selection: selection, call)
    }
    let terminal = call.sink && !call.evaluator.options.json
    if call.has("follow") {
      let id = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
        try s.call(ShowContainerRequest(id: ref), at: call.head).runningContainer.id
      }
      let follower = try LogFollower(
        path: path, reader: reader, tail: tail.map(Int.init), selection: selection, id: id, process: process, s, call,
        locate: {
          let now = try s.call(LogsRequest(name: id, process: process), at: call.head)
          return now.stdoutLogFile ?? now.stderrLogFile
        })
      if terminal {
        while let entry = try follower.next() { show(entry, selection, call) }
        return .empty
      }
      return .stream(ValueStream(span: call.head) { try follower.next().map { LogSelection.value($0, call.head) } })
    }
    var entries = LogJoiner.entries(LogRecordFile.records(bytes).records).filter(selection.accepts)
    if let tail { entries = Array(entries.suffix(Int(tail))) }
    if terminal {
      for entry in entries { show(entry, selection, call) }
      return .empty
    }
    return .value(.list(entries.map { LogSelection.value($0, call.head) }, call.head))
  }

  /// The filters of `call`.
  static func selection(_ call: Call) throws -> LogSelection {
    var selection = LogSelection()
    selection.since = try call.value("since").flatMap { $0.isNull ? nil : try LogSelection.instant($0, flag: "since", at: call.head) }
    selection.until = try call.value("until").flatMap { $0.isNull ? nil : try LogSelection.instant($0, flag: "until", at: call.head) }
    if call.has("stdout") != call.has("stderr") {
      selection.streams = [call.has("stdout") ? .stdout : .stderr]
    }
    selection.timestamps = call.has("timestamps")
    return selection
  }

  /// Writes an entry where `docker logs` does: stdout lines to stdout, stderr lines to stderr.
  static func show(_ entry: LogRecord, _ selection: LogSelection, _ call: Call) {
    let text = selection.text(entry)
    guard entry.stream == .stderr else {
      call.evaluator.output.write(text)
      return
    }
    call.evaluator.output.flush()  // the two streams stay in the log's order
    var off = 0
    while off < text.count {
      let n = text[off...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      off += n
    }
  }

  /// A log written before records existed: its text (the streams interleaved), which the
  /// filters cannot select from.
  static func legacy(_ bytes: [UInt8], path: String, tail: Int64?, selection: LogSelection, _ call: Call) throws -> XCShell.Pipe {
    if selection.needsRecords || call.has("follow") {
      throw ShellError(
        .logsLegacy, "the log \(path) was written by an older xcd, without per-line times and streams",
        at: call.head, help: "show it whole (`logs` with at most `--tail`); the container's next run writes a log the filters can use")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    return .value(.string(tail.map { lastLines(text, Int($0)) } ?? text, call.head))
  }

  /// The output a log holds, as text (both streams, in order; a record log's lines without
  /// their times).
  static func text(_ bytes: [UInt8]) -> String {
    guard LogRecordFile.isRecordLog(bytes) else { return String(decoding: bytes, as: UTF8.self) }
    let all = LogSelection()
    return String(decoding: LogJoiner.entries(LogRecordFile.records(bytes).records).flatMap(all.text), as: UTF8.self)
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
