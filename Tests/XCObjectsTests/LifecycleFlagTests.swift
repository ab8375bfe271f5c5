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
}
