import CSupport
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Core commands: output, introspection, errors, time and control.
enum CoreCommands {
  static let all: [any Command] = [print, echo, describe, help, errorMake, ignore, exit, sleep, timeout, retry, table, collect, version, complete]

  static let print = Builtin(
    Signature(
      "print", category: .core, summary: "Write values to standard output, each followed by a newline.",
      parameters: [
        .rest("values", .any, "Values to print; with none, prints the input."),
        .switch("no-newline", short: "n", "Do not add a newline."),
        .switch("stderr", short: "e", "Write to standard error."),
      ],
      examples: [Example("Print a sum", "print (1 + 2)")])
  ) { call, input in
    var values = call.restValues()
    if values.isEmpty, !input.isEmpty {
      if case .bytes(let b) = input {
        while let c = try b.nextChunk() { call.evaluator.output.write(c) }
        return .empty
      }
      let s = try input.values()
      while let v = try s.next() { values.append(v) }
    }
    let end = call.has("no-newline") ? "" : "\n"
    let text = values.map(\.plain).joined(separator: call.has("no-newline") ? "" : "\n") + (values.isEmpty ? end : end)
    if call.has("stderr") { call.evaluator.output.writeError(text) } else { call.evaluator.output.write(text) }
    return .empty
  }

  static let echo = Builtin(
    Signature(
      "echo", category: .core, summary: "Return the arguments as a value (one) or a list (several).",
      parameters: [.rest("values", .any, "Values to return.")],
      examples: [Example("A list", "echo a b | length", result: "2")])
  ) { call, _ in
    let v = call.restValues()
    if v.isEmpty { return .value(.string("", call.head)) }
    return .value(v.count == 1 ? v[0] : .list(v, call.span))
  }

  static let describe = Builtin(
    Signature(
      "describe", category: .core, summary: "The type of the input.",
      examples: [Example("A table", "[{a: 1}] | describe", result: "table"), Example("Size", "10KB | describe", result: "size")])
  ) { call, input in
    if case .bytes = input { return .value(.string("bytes", call.head)) }
    if case .stream = input { return .value(.string("stream", call.head)) }
    return .value(.string(try input.collect().typeName, call.head))
  }

  static let help = Builtin(
    Signature(
      "help", category: .core, summary: "Show the commands, or one command's usage, flags and examples.",
      parameters: [
        .rest("name", .string, "A command or function name."),
        .switch("json", "The signature as a record."),
      ],
      examples: [Example("Help for sort-by", "help sort-by")])
  ) { call, _ in
    let ev = call.evaluator
    let words = try call.restValues().map { try $0.asString() }
    if words.isEmpty {
      if call.has("json") { return .value(.list(ev.registry.all.map { Help.json($0.signature) })) }
      ev.output.write(Help.index(ev.registry.all))
      return .empty
    }
    let name = words.joined(separator: " ")
    guard let c = ev.resolve(name, in: call.frame) else {
      if ev.registry.isGroup(name) {
        let subs = ev.registry.all.filter { $0.signature.name.hasPrefix(name + " ") }
        ev.output.write(subs.map { "  \($0.signature.name)  \($0.signature.summary)\n" }.joined())
        return .empty
      }
      throw ShellError.unknownCommand(name, at: call.span, candidates: ev.registry.names)
    }
    if call.has("json") { return .value(Help.json(c.signature)) }
    ev.output.write(Help.text(c.signature))
    return .empty
  }

  static let errorMake = Builtin(
    Signature(
      "error make", category: .core, summary: "Raise an error.",
      parameters: [.required("error", .any, "A message, or a record {message, code?, exit_code?, help?}.")],
      examples: [Example("Fail with a message", #"try { error make "boom" } catch e { $e.message }"#, result: "boom")])
  ) { call, _ in
    let v = try call.require("error")
    var e: ShellError
    switch v.kind {
    case .string(let s): e = ShellError(.userError, s, at: call.span)
    case .record(let r):
      guard let m = r["message"] else {
        throw ShellError(.argsValue, "`error make` needs a `message` field", at: v.span)
      }
      e = ShellError(r["code"].map { ShellError.Code(rawValue: $0.plain) } ?? .userError, m.plain, at: call.span)
      if case .int(let c)? = r["exit_code"]?.kind { e.exitCode = Int32(truncatingIfNeeded: c) }
      if let h = r["help"] { e.help = h.plain }
      for (k, val) in r where !["message", "code", "exit_code", "help"].contains(k) { e.payload[k] = val.plain }
    default: throw ShellError.typeMismatch(expected: "string or record", found: v)
    }
    e.command = "error make"
    throw e
  }

  static let ignore = Builtin(Signature("ignore", category: .core, summary: "Consume the input and return nothing.")) {
    call, input in
    try call.evaluator.drain(input)
    return .empty
  }

  static let exit = Builtin(
    Signature(
      "exit", category: .core, summary: "End the script with a status (defers still run).",
      parameters: [.optional("status", .int, "Exit status.", default: .int(0))])
  ) { call, _ in
    let code = Int32(truncatingIfNeeded: try call.int("status") ?? 0)
    var e = ShellError(.exit, "exit \(code)", at: call.span, exitCode: code)
    e.command = "exit"
    throw e
  }

  static let sleep = Builtin(
    Signature(
      "sleep", category: .core, summary: "Wait for a duration (Ctrl-C stops it).",
      parameters: [.required("duration", .duration, "How long.")],
      examples: [Example("A short pause", "sleep 10ms")])
  ) { call, _ in
    try Sleep.wait(nanoseconds: try call.duration("duration") ?? 0, evaluator: call.evaluator)
    return .empty
  }

  static let timeout = Builtin(
    Signature(
      "timeout", category: .core,
      summary: "Run a block; at the deadline stop it (its defers run) with the error `timeout`.",
      parameters: [
        .required("duration", .duration, "The limit."),
        .required("body", .closure, "What to run."),
      ],
      examples: [Example("Bounded wait", "timeout 1s { sleep 10ms; 'done' }", result: "done")])
  ) { call, input in
    let limit = try call.duration("duration") ?? 0
    let body = try call.closure("body")!
    let watchdog = DispatchSemaphore(value: 0)
    let fired = FiredFlag()
    let thread = Thread {
      if watchdog.wait(timeout: .now() + .nanoseconds(Int(clamping: limit))) == .timedOut {
        fired.set()
        cs_signal_alarm_main()
      }
    }
    thread.start()
    defer {
      watchdog.signal()
      if fired.isSet, cs_signal_pending() == SIGALRM { cs_signal_clear() }
    }
    do {
      return .value(try call.invoke(body, [], input: input))
    } catch let e as ShellError where e.code == .timeoutAlarm && fired.isSet {
      var t = ShellError(
        .timeout, "timed out after \(Value.formatDuration(limit))", at: call.head,
        help: "raise the limit or make the block faster")
      t.payload["duration"] = Value.formatDuration(limit)
      throw t
    }
  }

  static let retry = Builtin(
    Signature(
      "retry", category: .core,
      summary: "Run a block until it succeeds, at most N times; else raise the last error, noting the attempts.",
      parameters: [
        .required("times", .int, "Attempts in all."),
        .required("body", .closure, "What to run; gets the attempt number (1-based)."),
        .named("delay", .duration, "Pause between attempts.", default: Value(.duration(0))),
      ],
      examples: [Example("Retry a flaky step", "retry 3 --delay 10ms { |n| if $n < 3 { error make 'flaky' } else { $n } }", result: "3")])
  ) { call, input in
    let times = try call.int("times") ?? 1
    guard times >= 1 else { throw ShellError(.argsValue, "`retry` needs at least 1 attempt", at: call.span) }
    let body = try call.closure("body")!
    let delay = try call.duration("delay") ?? 0
    var attempt: Int64 = 1
    let inputValue = try input.collect()
    while true {
      do {
        return .value(try call.invoke(body, [.int(attempt)], input: inputValue.isNull ? .empty : .value(inputValue)))
      } catch let e as ShellError
        where e.code != .interrupted && e.code != .timeoutAlarm && e.code != .exit && e.code != .cancelled
      {
        if attempt >= times {
          var last = e
          last = last.with(call.head, "failed \(times) time\(times == 1 ? "" : "s")")
          throw last
        }
      }
      attempt += 1
      if delay > 0 { try Sleep.wait(nanoseconds: delay, evaluator: call.evaluator) }
    }
  }

  static let table = Builtin(
    Signature(
      "table", category: .formats, summary: "Render the input as a table (text).",
      examples: [Example("Render", "[{a: 1}] | table | lines | length", result: "2")])
  ) { call, input in
    let v = try input.collect()
    return .value(.string(Renderer(call.evaluator.options).render(v, plainTable: !call.evaluator.options.stdoutIsTTY), call.head))
  }

  static let collect = Builtin(Signature("collect", category: .filters, summary: "Gather a stream into a list.")) {
    call, input in
    .value(try input.collect())
  }

  static let version = Builtin(Signature("version", category: .core, summary: "The xcsh version.")) { call, _ in
    .value(.string(ShellOptions.version, call.head))
  }

  static let complete = Builtin(
    Signature(
      "complete", category: .system,
      summary: "Run the input external command to the end and return {stdout, exit_code} instead of failing.",
      examples: [Example("Capture a failure", "^false | complete | get exit_code", result: "1")])
  ) { call, input in
    guard case .bytes(let b) = input else {
      return .value(.record(Record([("stdout", .string(try input.collect().plain)), ("exit_code", .int(0))])))
    }
    var bytes: [UInt8] = []
    var code: Int64 = 0
    do {
      while let c = try b.nextChunk() { bytes.append(contentsOf: c) }
    } catch let e as ShellError where e.code == .externalFailed {
      code = Int64(e.exitCode ?? 1)
    }
    return .value(.record(Record([("stdout", .string(String(decoding: bytes, as: UTF8.self))), ("exit_code", .int(code))])))
  }
}

/// A flag set once from another thread.
final class FiredFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.lock(); value = true; lock.unlock() }
  var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Interruptible waiting: wakes on SIGINT, SIGTERM or a `timeout` alarm.
enum Sleep {
  static func wait(nanoseconds: Int64, evaluator: Evaluator) throws {
    evaluator.output.flush()
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, nanoseconds))
    let fd = cs_signal_fd()
    while true {
      try evaluator.checkInterrupt()
      let now = DispatchTime.now().uptimeNanoseconds
      guard now < deadline else { return }
      var ms = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
      // A par-each worker also stops when another item fails: look at that flag often.
      if evaluator.cancellation != nil { ms = min(ms, 20) }
      if fd >= 0 {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, ms)
      } else {
        usleep(UInt32(min(UInt64(1_000_000), (deadline - now) / 1000)))
      }
    }
  }
}
