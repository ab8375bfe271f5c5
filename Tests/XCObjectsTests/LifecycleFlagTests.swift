import Testing
import XCIPC
import XCShell

@testable import XCObjects

/// `--restart` and the health flags: parsed and checked by xcsh, refused by a daemon without
/// the extensions (never dropped), sent as `xcsh_restart` / `xcsh_health` to one with them.
@Suite struct LifecycleFlagTests {
  @Test func restartValuesParseAsDockerWritesThem() {
    #expect(LifecycleFlags.restartPolicy("no") == RestartPolicySpec(mode: "no"))
    #expect(LifecycleFlags.restartPolicy("always") == RestartPolicySpec(mode: "always"))
    // No policy survives a daemon restart here, so Docker's unless-stopped is always.
    #expect(LifecycleFlags.restartPolicy("unless-stopped") == RestartPolicySpec(mode: "always"))
    #expect(LifecycleFlags.restartPolicy("on-failure") == RestartPolicySpec(mode: "on-failure"))
    #expect(LifecycleFlags.restartPolicy("on-failure:5") == RestartPolicySpec(mode: "on-failure", maxRetries: 5))
    for bad in ["on-failure:0", "on-failure:-1", "on-failure:x", "sometimes", "always:3", "unless", ""] {
      #expect(LifecycleFlags.restartPolicy(bad) == nil, "\(bad)")
    }
  }

  @Test func refusedByADaemonWithoutTheExtensions() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, what) in [
      ("run -d busybox:latest --restart always", "`--restart` is not supported by this daemon"),
      ("create busybox:latest --health-cmd 'true'", "`--health-cmd` is not supported by this daemon"),
      ("restart web", "`restart` is not supported by this daemon"),
    ] {
      #expect {
        try xcsh(code, fake)
      } throws: { e in
        (e as? ShellError)?.message.contains(what) == true
      }
    }
    #expect(!fake.requests.contains { $0.method == "instantiate" })
  }

  @Test func badValuesNameTheFlag() throws {
    let fake = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer { fake.stop() }
    for (code, what) in [
      ("run -d busybox:latest --restart sometimes", "`--restart sometimes`"),
      ("run -d busybox:latest --restart on-failure:0", "`--restart on-failure:0`"),
      ("run busybox:latest --restart always -- true", "`--restart always` needs `-d`"),
      ("run -d -t busybox:latest --restart always", "`--restart` cannot be combined with `-t`"),
      ("run -d busybox:latest --health-interval 1s", "`--health-interval` needs `--health-cmd`"),
      ("run -d busybox:latest --health-cmd 'true' --health-retries 0", "`--health-retries 0`"),
      ("run -d busybox:latest --health-cmd 'true' --health-interval 0s", "`--health-interval`"),
      ("run -d busybox:latest --health-cmd ''", "`--health-cmd` needs a command"),
    ] {
      #expect {
        try xcsh(code, fake)
      } throws: { e in
        (e as? ShellError)?.message.contains(what) == true
      }
    }
    #expect(!fake.requests.contains { $0.method == "instantiate" })
  }

  @Test func sentToADaemonThatServesThem() throws {
    let fake = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer { fake.stop() }
    _ = try xcsh(
      "run -d --name web busybox:latest --restart on-failure:2 --health-cmd 'test -e /ok' --health-interval 2s --health-retries 4 --health-start-period 1s",
      fake)
    let body = fake.requests.first { $0.method == "instantiate" }?.body ?? ""
    #expect(body.contains(#""xcsh_restart":{"mode":"on-failure","max_retries":2}"#), "\(body)")
    #expect(
      body.contains(#""xcsh_health":{"command":["/bin/sh","-c","test -e /ok"],"interval_ms":2000,"timeout_ms":30000,"retries":4,"start_period_ms":1000}"#),
      "\(body)")
    // `no` sends nothing: xc's request stays as xc's client sends it.
    _ = try xcsh("run -d --name web2 busybox:latest --restart no", fake)
    let plain = fake.requests.last { $0.method == "instantiate" }?.body ?? ""
    #expect(!plain.contains("xcsh_restart") && !plain.contains("xcsh_health"), "\(plain)")
  }

  /// `--health-*` flags and a compose `healthcheck:` complete a check with the same defaults and
  /// take the same bounds (`HealthCheckRules`, their one definition).
  @Test func flagsAndComposeShareTheHealthCheckRules() throws {
    func compose(_ keys: String) throws(ComposeError) -> HealthCheckSpec? {
      let text = "services:\n  web:\n    image: busybox:latest\n    healthcheck:\n      test: [CMD, \"true\"]\n\(keys)"
      return try ComposeParser(file: "compose.yaml", variables: [:], readFile: { _ in nil }).parse(text).services[0].lifecycle.health
    }
    let fake = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer { fake.stop() }
    func flags(_ options: String) throws -> String {
      _ = try xcsh("run -d busybox:latest --health-cmd [true] \(options)", fake)
      return fake.requests.last { $0.method == "instantiate" }?.body ?? ""
    }
    let defaults = HealthCheckSpec(command: ["true"], intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0)
    #expect(try compose("") == defaults)
    #expect(try flags("").contains(#""xcsh_health":{"command":["true"],"interval_ms":30000,"timeout_ms":30000,"retries":3,"start_period_ms":0}"#))
    // The same bounds: accepted by both, or refused by both.
    for (key, flag, value, accepted) in [
      ("retries", "health-retries", "1000", true), ("retries", "health-retries", "1001", false),
      ("interval", "health-interval", "24h", true), ("interval", "health-interval", "25h", false),
      ("timeout", "health-timeout", "1ms", true), ("timeout", "health-timeout", "0s", false),
      ("start_period", "health-start-period", "0s", true), ("start_period", "health-start-period", "25h", false),
    ] {
      let fromCompose = Result { () throws(ComposeError) in try compose("      \(key): \(value)\n") }
      let fromFlag = Result { try flags("--\(flag) \(value)") }
      #expect(((try? fromCompose.get()) != nil) == accepted, "\(key): \(value)")
      #expect(((try? fromFlag.get()) != nil) == accepted, "--\(flag) \(value)")
    }
  }
}
