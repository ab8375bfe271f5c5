import Foundation
import XCIPC
import XCShell

/// Resource limits on `run`/`create` (`--memory`, `--cpus`, `--pids-limit`, sent as the
/// instantiate extension field `xcsh_resources`) and `stats`. Both need a daemon that serves
/// the extension `xcsh.stats`; xc's daemon does not (it would silently ignore the field), so
/// xcsh asks first and refuses with "not supported by this daemon".
enum ResourceCommands {
  static let parameters: [Parameter] = [
    .named("memory", .any, "Memory limit, swap included: a size (`64MiB`), bytes, or Docker's `64m`/`1g` (binary units)."),
    .named("cpus", .any, "CPU limit as a number of CPUs (`0.5` = half of one)."),
    .named("pids-limit", .int, "Most processes and threads at once."),
  ]

  /// The limits of `call`'s flags; nil when none is given.
  static func limits(_ call: Call) throws -> XCIPC.ResourceLimits? {
    var limits = XCIPC.ResourceLimits()
    if let v = call.value("memory") {
      limits.memory = try memoryBytes(v, call)
    }
    if let v = call.value("cpus") {
      let text = (try? v.asDouble()) ?? Double((try? v.asString()) ?? "")
      guard let cpus = text, cpus > 0, cpus <= 1024 else {
        throw ShellError(.argsValue, "`--cpus \(v.plain)`: expected a number of CPUs above 0, e.g. 0.5", at: call.span)
      }
      limits.cpus = cpus
    }
    if let n = try call.int("pids-limit") {
      guard n >= 1 else { throw ShellError(.argsValue, "`--pids-limit \(n)`: expected 1 or more", at: call.span) }
      limits.pids = Int(n)
    }
    return limits == XCIPC.ResourceLimits() ? nil : limits
  }

  /// Bytes from a size value, an int, or a string `N[b|k|m|g]` (binary units, as Docker's).
  static func memoryBytes(_ v: Value, _ call: Call) throws -> Int {
    func bad() -> ShellError {
      ShellError(.argsValue, "`--memory \(v.plain)`: expected a size such as 64MiB, 64m or 1g (at least 6 MiB)", at: call.span)
    }
    var bytes: Int64
    switch v.kind {
    case .size(let s): bytes = s
    case .int(let i): bytes = i
    case .duration(let ns) where ns > 0 && ns % 60_000_000_000 == 0:
      // The shell reads Docker's `64m` as 64 minutes: a word written `Nm` is N MiB. Any other
      // duration (`1h`, `120s`) is an error, not a guess.
      guard let word = call.writtenWord(v), word.hasSuffix("m"), Int64(word.dropLast()) != nil else { throw bad() }
      bytes = (ns / 60_000_000_000) << 20
    case .string(let s):
      var text = s.lowercased()
      if text.hasSuffix("ib") { text.removeLast(2) } else if text.hasSuffix("b") && text.count > 1 && !text.dropLast().allSatisfy(\.isNumber) { text.removeLast() }
      let units: [Character: Int64] = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
      var unit: Int64 = 1
      if let last = text.last, let u = units[last] {
        unit = u
        text.removeLast()
      }
      guard let n = Int64(text), n >= 0, n <= Int64.max / unit else { throw bad() }
      bytes = n * unit
    default: throw bad()
    }
    guard bytes >= 6 << 20 else { throw bad() }
    return Int(bytes)
  }

  /// Throws "not supported by this daemon" unless the daemon serves the xcsh extensions (it
  /// answers `xcsh.stats`): resource limits, restart policies, health checks.
  static func requireSupport(_ what: String, _ s: DaemonSession, _ call: Call) throws {
    if try !s.servesExtensions(at: call.head) {
      throw ShellError(
        .daemonUnsupported, "\(what) is not supported by this daemon: it does not serve the xcsh extensions (xc's FreeBSD daemon has no resource limits, restart policies or health checks)",
        at: call.span, help: "leave it out, or use the Linux xcd")
    }
  }

  /// Sends the limits only to a daemon that applies them.
  static func apply(_ request: inout InstantiateRequest, _ call: Call, _ s: DaemonSession) throws {
    guard let limits = try limits(call) else { return }
    let flags = ["memory", "cpus", "pids-limit"].filter { call.has($0) || call.value($0) != nil }.map { "`--\($0)`" }
    try requireSupport(flags.joined(separator: ", "), s, call)
    request.xcshResources = limits
  }

  static func stats(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "stats", category: .objects,
        summary: "CPU, memory and process figures of live containers (IPC extension `xcsh.stats`).",
        parameters: [
          .rest("containers", .object(.container), "Names, ids or container objects (or piped in); none for every live container."),
          .switch("watch", "Sample again every `--interval` until Ctrl-C (or `--count` samples), streaming rows."),
          .named("interval", .duration, "Time between samples with `--watch` (default 2s)."),
          .named("count", .int, "With `--watch`, stop after this many samples."),
        ],
        examples: [
          Example("The busiest containers", "stats | sort-by cpu_ns -r | first 3"),
          Example("Watch one container", "stats web --watch --interval 1s"),
        ],
        details: "One row per container: `name`, `id`, `cpu_ns` (CPU time used), `cpu_percent` (of one CPU since the previous sample; null in the first), `memory` and `memory_limit` (sizes; the limit null when there is none), `memory_percent` (of the limit, as Docker's MEM %; null without one), `pids` and `pids_limit`, `cpus`, and with `--watch` `sample` (1, 2, …). A daemon without the extension: \"not supported by this daemon\".")
    ) { call, input in
      var names: [String] = []
      var targets = call.restValues()
      if targets.isEmpty, !input.isEmpty { targets = try input.collect().listOrSelf() }
      for t in targets { names.append(try ObjectArgs.containerRef(t, at: call.head)) }
      // Container objects are sampled on the host they came from (one host per call).
      return try DaemonRoute.pipe(ofAll: targets, command: "stats", at: call.head) { try statsHere(names, s, call) }
    }
  }

  private static func statsHere(_ names: [String], _ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    if !names.isEmpty { try requireSupport("`stats`", s, call) }
    func sample() throws -> [ContainerStats] {
      if !names.isEmpty { return try s.call(StatsRequest(names: names), at: call.head) }
      guard let all = try s.callExtension(StatsRequest(names: []), at: call.head) else {
        throw ShellError(
          .daemonUnsupported, "`stats` is not supported by this daemon: it does not serve the xcsh extension `xcsh.stats`",
          at: call.span, help: "use the Linux xcd")
      }
      return all
    }
    func row(_ st: ContainerStats, previous: [String: (Int, UInt64)], now: UInt64, n: Int?) -> Value {
      var r = Record([
        ("name", Value(.string(st.name))), ("id", Value(.string(st.id))),
        ("cpu_ns", Value(.int(Int64(st.cpu_ns)))),
      ])
      if let (cpu, at) = previous[st.id], now > at {
        r["cpu_percent"] = Value(.float((Double(st.cpu_ns - cpu) / Double(now - at) * 1000).rounded() / 10))
      } else {
        r["cpu_percent"] = Value(.null)
      }
      r["memory"] = Value(.size(Int64(st.memory_bytes)))
      r["memory_limit"] = st.memory_limit.map { Value(.size(Int64($0))) } ?? Value(.null)
      // Docker's MEM %: of the limit, none without one.
      r["memory_percent"] = st.memory_limit.flatMap { limit in
        limit > 0 ? Value(.float((Double(st.memory_bytes) / Double(limit) * 1000).rounded() / 10)) : nil
      } ?? Value(.null)
      r["pids"] = Value(.int(Int64(st.pids)))
      r["pids_limit"] = st.pids_limit.map { Value(.int(Int64($0))) } ?? Value(.null)
      r["cpus"] = st.cpus.map { Value(.float($0)) } ?? Value(.null)
      if let n { r["sample"] = Value(.int(Int64(n))) }
      return Value(.record(r), call.head)
    }
    guard call.has("watch") else {
      return .value(Value(.list(try sample().map { row($0, previous: [:], now: 0, n: nil) }), call.head))
    }
    let interval = try call.value("interval").map { v -> Int64 in
      guard case .duration(let d) = v.kind, d > 0 else {
        throw ShellError(.argsValue, "`--interval`: expected a duration above 0, e.g. 1s", at: call.span)
      }
      return d
    } ?? 2_000_000_000
    let count = try call.int("count")
    var pending: [Value] = []
    var previous: [String: (Int, UInt64)] = [:]
    var taken = 0
    return .stream(ValueStream(span: call.head) {
      while pending.isEmpty {
        if let count, taken >= count { return nil }
        if taken > 0 { try Clock.sleep(milliseconds: Int64(interval) / 1_000_000, call) }
        let stats = try sample()
        let now = DispatchTime.now().uptimeNanoseconds
        taken += 1
        pending = stats.map { row($0, previous: previous, now: now, n: taken) }
        previous = Dictionary(uniqueKeysWithValues: stats.map { ($0.id, ($0.cpu_ns, now)) })
      }
      return pending.removeFirst()
    })
  }
}
