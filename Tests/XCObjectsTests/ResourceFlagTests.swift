import Testing
import XCShell

@testable import XCObjects

/// Resource limits and `stats` against a daemon without the extension (the fake answers
/// errno 2 "method not found" for `xcsh.stats`, as xc's daemon does): refused, never dropped.
@Suite struct UnsupportedLimitsTests {
  @Test func limitsAndStatsAreRefusedByADaemonWithoutTheExtension() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, what) in [
      ("run -d busybox:latest --memory 64MiB", "`--memory` is not supported by this daemon"),
      ("create busybox:latest --pids-limit 5 --cpus 1", "`--cpus`, `--pids-limit` is not supported by this daemon"),
      ("stats", "`stats` is not supported by this daemon"),
    ] {
      #expect {
        try xcsh(code, fake)
      } throws: { e in
        (e as? ShellError)?.message.contains(what) == true
      }
    }
    // Only the probes reached the daemon: no container was created without its limits.
    #expect(fake.requests.map(\.method) == ["xcsh.stats", "xcsh.stats", "xcsh.stats"])
  }

  @Test func limitsAreSentToADaemonThatServesThem() throws {
    let fake = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer { fake.stop() }
    _ = try xcsh("run -d --name web busybox:latest --memory 64m --cpus 0.5 --pids-limit 9", fake)
    let instantiate = fake.requests.first { $0.method == "instantiate" }?.body ?? ""
    #expect(instantiate.hasSuffix(#","xcsh_resources":{"memory":67108864,"cpus":0.5,"pids":9}}}"#), "\(instantiate)")
  }

  /// `memory_percent` is of the memory limit (Docker's MEM USAGE / LIMIT and MEM %); null
  /// without a limit.
  @Test func statsShowTheMemoryLimitAndItsPercentage() throws {
    let fake = try FakeDaemon(replies: [
      "xcsh.stats": FakeDaemon.ok(
        #"[{"id":"a1","name":"capped","cpu_ns":1,"memory_bytes":16777216,"memory_limit":67108864,"pids":1,"pids_limit":null,"cpus":null},"#
          + #"{"id":"b2","name":"free","cpu_ns":1,"memory_bytes":1048576,"memory_limit":null,"pids":1,"pids_limit":null,"cpus":null}]"#)
    ])
    defer { fake.stop() }
    let rows = try xcsh("stats | each {|r| [$r.name ($r.memory_limit | to json) ($r.memory_percent | to json)] | str join ' ' } | str join ','", fake)
    #expect(rows.plain == "capped 67108864 25.0,free null null", "\(rows.plain)")
  }
}
