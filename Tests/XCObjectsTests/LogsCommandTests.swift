import Foundation
import Testing
import XCTestSupport
import XCShell
import XCSystem

/// xcsh's `logs` against a stand-in daemon whose `xcsh.logs` points at a log file written here:
/// the filters, the joining of a long line's pieces, records in pipes, lines on a terminal, and
/// logs written by an older xcd.
@Suite struct LogsCommandTests {
  /// 2026-12-06T10:00:00Z.
  static let t0: Int64 = 1_796_551_200 * 1_000_000_000
  static func at(_ seconds: Int64) -> Int64 { t0 + seconds * 1_000_000_000 }

  /// A record log: a long stdout line in two pieces around a stderr line, an unterminated end.
  static let records: [LogRecord] = [
    LogRecord(time: at(0), stream: .stdout, line: Array("one".utf8)),
    LogRecord(time: at(1), stream: .stderr, line: Array("warn".utf8)),
    LogRecord(time: at(2), stream: .stdout, partial: true, line: Array("long-".utf8)),
    LogRecord(time: at(3), stream: .stderr, line: Array("err2".utf8)),
    LogRecord(time: at(4), stream: .stdout, line: Array("line".utf8)),
    LogRecord(time: at(5), stream: .stdout, partial: true, line: Array("tail".utf8)),
  ]

  /// A stand-in daemon whose `xcsh.logs` answers with a log file holding `bytes`.
  func daemon(_ bytes: [UInt8]) throws -> (FakeDaemon, String) {
    let dir = NSTemporaryDirectory() + "logs-command-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let log = dir + "/main.log"
    _ = FileManager.default.createFile(atPath: log, contents: Data(bytes))
    let fake = try FakeDaemon(replies: [
      "xcsh.logs": FakeDaemon.ok(#"{"stdout_log_file":"\#(log)","stderr_log_file":"\#(log)"}"#)
    ])
    return (fake, dir)
  }

  static var recordLog: [UInt8] { LogRecordFile.header + records.flatMap { $0.encoded() } }

  func lines(_ v: Value) -> [String] {
    guard case .list(let items) = v.kind else { return ["not a list: \(v.plain)"] }
    return items.map(\.plain)
  }

  @Test func filtersSelectByStreamTimeAndCount() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    #expect(lines(try xcsh("logs web | get line", fake)) == ["one", "warn", "long-line", "err2", "tail"])
    #expect(lines(try xcsh("logs web --stderr | get line", fake)) == ["warn", "err2"])
    #expect(lines(try xcsh("logs web --stdout --stderr | length | into string | lines", fake)) == ["5"])
    // --since is inclusive, --until exclusive; a joined line has its first piece's time.
    #expect(
      lines(try xcsh("logs web --since '2026-12-06T10:00:02Z' --until '2026-12-06T10:00:04Z' | get line", fake))
        == ["long-line", "err2"])
    #expect(lines(try xcsh("logs web --since ('2026-12-06T10:00:03Z' | into datetime) | get line", fake)) == ["err2", "tail"])
    #expect(lines(try xcsh("logs web --tail 2 --stdout | get line", fake)) == ["long-line", "tail"])
    // Durations count back from now: these records are in the past.
    #expect(lines(try xcsh("logs web --since 10m | get line", fake)) == [])
    #expect(lines(try xcsh("logs web --since '1h30m' | get line", fake)) == [])
    #expect(lines(try xcsh("logs web --until 1m | get line", fake)).count == 5)
  }

  @Test func recordsCarryADatetimeAndTheStream() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    let first = try xcsh("logs web | get 1", fake)
    #expect(first.recordValue?["time"]?.kind == .datetime(Self.at(1)))
    #expect(first.recordValue?["stream"]?.plain == "stderr")
    #expect(first.recordValue?["line"]?.plain == "warn")
    #expect(try xcsh("logs web | get 0 | columns | str join ','", fake).plain == "time,stream,line")
  }

  @Test func badTimesAndCountsAreErrorsNamingTheFlag() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    for (code, text) in [("logs web --since yesterday", "`--since yesterday`: not a time"), ("logs web --until 5", "`--until 5`: not a time"), ("logs web --tail -1", "not a line count")] {
      do {
        _ = try xcsh(code, fake)
        Issue.record("\(code) succeeded")
      } catch let e as ShellError {
        #expect(e.code.rawValue == "args.value" && e.message.contains(text), "\(code): \(e)")
      }
    }
  }

  @Test func aLogFromAnOlderXcdIsTextAndRefusesFilters() throws {
    let (fake, dir) = try daemon(Array("raw a\nraw b\n".utf8))
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    #expect(try xcsh("logs web", fake).plain == "raw a\nraw b\n")
    #expect(try xcsh("logs web --tail 1", fake).plain == "raw b\n")
    for flag in ["--stderr", "--since 1h", "--timestamps", "--follow"] {
      do {
        _ = try xcsh("logs web \(flag)", fake)
        Issue.record("logs \(flag) succeeded on an old log")
      } catch let e as ShellError {
        #expect(e.code.rawValue == "logs.legacy" && e.message.contains("older xcd"), "\(flag): \(e)")
      }
    }
  }

  /// `--follow --until T` ends at T, as Docker's, even while the container lives on.
  @Test func followEndsAtUntil() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    let r = try ProgramRun.run(
      DocExamplesTests.binary, ["--socket", fake.path, "-c", "logs web --follow --until 2026-12-06T10:00:04Z"],
      timeout: .seconds(30))
    #expect(r.status == 0 && r.stdout == "one\nlong-line\n" && r.stderr == "warn\nerr2\n", "\(r)")
  }

  /// While the log is quiet the container's state is asked less and less often (from 100 ms
  /// after the file last grew up to every second), not at each 100 ms read of the file.
  @Test func aQuietFollowAsksTheContainersStateLessOften() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    let started = ContinuousClock.now
    let r = try ProgramRun.run(
      DocExamplesTests.binary, ["--socket", fake.path, "-c", "logs web --follow --until ((date now) + 2sec) | ignore"],
      timeout: .seconds(30))
    let seconds = Double((ContinuousClock.now - started).components.seconds)
    #expect(r.status == 0, "\(r)")
    // The fake's container lives on: 2 s of following asks at about 0, 0.1, 0.3, 0.7 and 1.5 s,
    // after `logs` found the container (at each 100 ms read it would be about 20 times).
    let asked = fake.requests.filter { $0.method == "show_container" }.count
    #expect(seconds >= 2 && asked >= 3 && asked <= 9, "\(asked) show_container in \(seconds) s")
  }

  /// On a terminal (the binary with its output not piped on), as `docker logs`: stdout lines to
  /// stdout, stderr lines to stderr, `--timestamps` first; `--json` gives the records.
  @Test func aTerminalGetsLinesOnTheirOwnStreams() throws {
    let (fake, dir) = try daemon(Self.recordLog)
    defer {
      fake.stop()
      try? FileManager.default.removeItem(atPath: dir)
    }
    var (out, err) = try run(["--socket", fake.path, "-c", "logs web"])
    #expect(out == "one\nlong-line\ntail" && err == "warn\nerr2\n", "\(out) | \(err)")
    (out, err) = try run(["--socket", fake.path, "-c", "logs web --timestamps --stderr --tail 1"])
    #expect(out == "" && err == "2026-12-06T10:00:03.000000000Z err2\n", "\(out) | \(err)")
    (out, err) = try run(["--socket", fake.path, "--json", "-c", "logs web --stdout --tail 1"])
    #expect(out == #"[{"time":"2026-12-06T10:00:05Z","stream":"stdout","line":"tail"}]"# + "\n", "\(out) | \(err)")
  }

  func run(_ arguments: [String]) throws -> (String, String) {
    let r = try ProgramRun.run(DocExamplesTests.binary, arguments)
    return (r.stdout, r.stderr)
  }

  /// `exec --detach` asks xcd to log the output (`xcsh_log`, no descriptors), and only a daemon
  /// that serves the extensions: xc's would send the output to /dev/null.
  @Test func execDetachAsksForTheLogOnlyWhereItIsKept() throws {
    let plain = try FakeDaemon()
    defer { plain.stop() }
    do {
      _ = try xcsh("exec web -d -- sh -c 'echo hi'", plain)
      Issue.record("exec --detach succeeded against a daemon without the extensions")
    } catch let e as ShellError {
      #expect(e.code.rawValue == "daemon.unsupported" && e.message.contains("not supported by this daemon"), "\(e)")
    }
    #expect(!plain.methods.contains("exec"))

    let xcd = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer { xcd.stop() }
    let job = try xcsh("exec web -d -- sh -c 'echo hi'", xcd)
    let exec = try #require(xcd.requests.first { $0.method == "exec" })
    #expect(exec.body.contains(#""xcsh_log":true"#) && exec.descriptors == 0, "\(exec)")
    #expect(job.recordValue?["container"]?.plain == "5f3c9a7e21b4" && job.recordValue?["pid"] != nil, "\(job.plain)")
    do {
      _ = try xcsh("exec web -d -t -- sh", xcd)
      Issue.record("exec --detach --tty succeeded")
    } catch let e as ShellError {
      #expect(e.code.rawValue == "args.conflict", "\(e)")
    }
    // A foreground exec stays xc's request, without the field.
    _ = try? xcsh("exec web -- true", xcd)
    #expect(xcd.requests.filter { $0.method == "exec" }.dropFirst().allSatisfy { !$0.body.contains("xcsh_log") })
  }
}
