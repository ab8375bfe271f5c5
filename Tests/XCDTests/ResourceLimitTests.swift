import Foundation
import Glibc
import Testing
import XCIPC

/// `--memory`, `--cpus`, `--pids-limit` applied through runc's cgroup settings (this VM's
/// hybrid cgroup v1 layout: memory, cpu, pids controllers at /sys/fs/cgroup/<controller>),
/// and `stats`, through the built xcsh against the real xcd.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ResourceLimitTests {
  func xcsh(_ code: String, _ daemon: DaemonHarness) throws -> XcshResult {
    try Xcsh.run(["--socket", daemon.socket, "-c", code])
  }

  func ok(_ code: String, _ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let r = try xcsh(code, daemon)
    #expect(r.status == 0, "\(code): \(r.stderr)", sourceLocation: sourceLocation)
    return r.stdout
  }

  func cgroupFile(_ controller: String, _ id: String, _ file: String) -> String? {
    (try? String(contentsOfFile: "/sys/fs/cgroup/\(controller)/xcd/\(id)/\(file)", encoding: .utf8))?
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Polls `condition` every 50 ms for up to `seconds`; true once it held.
  func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return true }
      usleep(50_000)
    }
    return try condition()
  }

  @Test func limitsReachTheCgroupsAndShow() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let id = try ok("run busybox:latest -d --name lim --memory 64m --cpus 0.5 --pids-limit 20 -- sleep 1000 | get id", daemon)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(cgroupFile("memory", id, "memory.limit_in_bytes") == "67108864")
      #expect(cgroupFile("memory", id, "memory.memsw.limit_in_bytes") == "67108864")
      #expect(cgroupFile("cpu", id, "cpu.cfs_quota_us") == "50000")
      #expect(cgroupFile("cpu", id, "cpu.cfs_period_us") == "100000")
      #expect(cgroupFile("pids", id, "pids.max") == "20")
      #expect(try ok("show lim | get xcsh_resources | to json", daemon) == #"{"memory":67108864,"cpus":0.5,"pids":20}"# + "\n")
      // Bad values are refused by xcsh, naming the flag; nothing reaches the daemon.
      #expect(try ok("run busybox:latest --memory 32MiB -- cat /proc/self/cgroup | lines | where {|l| $l =~ ':memory:'} | length", daemon) == "1\n")
      let bad = try xcsh("run busybox:latest -d --memory 1k -- true", daemon)
      #expect(bad.status != 0 && bad.stderr.contains("`--memory 1k`"), "\(bad.stderr)")
      _ = try ok("kill lim", daemon)
      #expect(try client.call(ListContainersRequest()).isEmpty)
      // runc removed the container's cgroups.
      #expect(cgroupFile("memory", id, "memory.limit_in_bytes") == nil)
    }
  }

  @Test func overMemoryIsOOMKilledAndTheRecordSaysSo() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      // The shell doubles a string until the 16 MiB limit (swap included) is hit.
      let out = try ok("""
        let c = (run busybox:latest -d --memory 16m -- sh -c 'x=aaaaaaaa; while :; do x=$x$x; done')
        let ended = (wait $c --exit --timeout 60s)
        print ($ended | get xcsh_oom_killed)
        """, daemon)
      #expect(out == "true\n", "\(out)")
      // A container that ends on its own within its limit is not marked.
      #expect(try ok("let c = (run busybox:latest -d --memory 64m -- sh -c 'exit 3'); wait $c --exit --timeout 30s | get xcsh_oom_killed", daemon) == "false\n")
    }
  }

  @Test func statsShowABusyContainerAndWatchSamples() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      _ = try ok("run busybox:latest -d --name busy -- sh -c 'while :; do :; done'", daemon)
      _ = try ok("run busybox:latest -d --name idle --pids-limit 7 --memory 64m -- sleep 1000", daemon)
      // CPU time grows while it spins; memory and pids are non-zero.
      #expect(try eventually(20) {
        let v = try ok("stats busy | get 0.cpu_ns", daemon).trimmingCharacters(in: .whitespacesAndNewlines)
        return (Int(v) ?? 0) > 50_000_000
      })
      #expect(try ok("let s = (stats busy | get 0); print (($s.memory > 0B) and ($s.pids >= 1))", daemon) == "true\n")
      #expect(try ok("stats | get name | to json", daemon) == #"["busy","idle"]"# + "\n")
      #expect(try ok("stats idle | get 0.pids_limit", daemon) == "7\n")
      // The limit the kernel enforces, read from the cgroup, and the share of it in use.
      #expect(try ok("let s = (stats idle | get 0); print ([($s.memory_limit == 64MiB) ($s.memory_percent > 0) ($s.memory_percent < 100)] | str join ' ')", daemon) == "true true true\n")
      #expect(try ok("stats busy | get 0 | [($in.memory_limit | to json) ($in.memory_percent | to json)] | str join ' '", daemon) == "null null\n")
      // --watch: two samples of each; the second has a CPU percentage, high for the spinner.
      let watched = try ok("stats --watch --interval 300ms --count 2 | where name == busy | get cpu_percent | to json", daemon)
      let percents = try JSONSerialization.jsonObject(with: Data(watched.utf8)) as? [Any]
      #expect(percents?.count == 2 && percents?[0] is NSNull, "\(watched)")
      #expect(((percents?.last as? NSNumber)?.doubleValue ?? 0) > 20, "\(watched)")
      _ = try ok("kill busy idle", daemon)
    }
  }

  @Test func pidsLimitStopsAForkLoop() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      _ = try ok("run busybox:latest -d --name forker --pids-limit 10 -- sh -c 'while :; do sleep 1000 & done 2>/dev/null'", daemon)
      let cid = try ok("show forker | get id", daemon).trimmingCharacters(in: .whitespacesAndNewlines)
      // The kernel refused forks at the limit (`pids.events` counts them) and never let more run.
      #expect(eventually(20) { (cgroupFile("pids", cid, "pids.events").flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0) > 0 })
      #expect((Int(cgroupFile("pids", cid, "pids.current") ?? "") ?? 99) <= 10)
      #expect(try ok("let s = (stats forker | get 0); print ($s.pids <= 10 and $s.pids_limit == 10)", daemon) == "true\n")
      _ = try ok("kill forker", daemon)
    }
  }
}
