import Foundation
import Glibc
import Testing
import XCIPC
import XCObjects
import XCRemote
import XCTestSupport

/// The relay kept on the host between xcsh processes (`relay --serve`, reached through the
/// control master's stream-local forward): a later process's session is served by the running
/// listener, a server that refuses stream-local forwarding still works through `ssh -T`, and
/// nothing is left after the harness's teardown. Part of the serialized RemoteHostTests suite.
extension RemoteHostTests {
  func options(_ host: SSHHostHarness, persist: Int = 600) -> SSHOptions {
    let env = host.environment()
    var o = SSHOptions.fromEnvironment(env)
    o.relayPersist = persist
    return o
  }

  /// The parent pid of `pid` (/proc/PID/stat, the field after the state).
  func parent(of pid: Int32) -> Int32? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
  }

  @Test func aSecondProcessIsServedByTheRunningRelayListener() throws {
    try withRemote { host, daemon, url in
      let remote = RemoteHost(host: SSHHostHarness.alias, socketPath: daemon.socket)
      let o = options(host)
      // First contact: over `ssh -T`, which starts the listener there.
      let first = try SSHTransport.connect(remote, options: o)
      #expect(first.sshPID != nil)
      #expect(try first.session.call(ListContainersRequest()).isEmpty)
      first.close()
      let listeners = host.relayListeners()
      #expect(listeners.count == 1, "\(listeners)")
      let listener = Int32(listeners.first?.prefix { $0 != ":" } ?? "")
      // Its socket is in a 0700 directory of the remote cache, named by the source's hash.
      var st = stat()
      #expect(stat(host.remoteCache + "/run", &st) == 0 && st.st_mode & 0o777 == 0o700)
      let names = (try? FileManager.default.contentsOfDirectory(atPath: host.remoteCache + "/run")) ?? []
      #expect(names.contains { $0.hasPrefix(RelaySource.hash + "-") && !$0.hasSuffix(".lock") }, "\(names)")

      // Every later session (another process would do the same): no ssh of its own, the
      // relay a child of that listener.
      for _ in 0..<2 {
        let again = try SSHTransport.connect(remote, options: o)
        #expect(again.sshPID == nil)
        #expect(try again.session.call(ListContainersRequest()).isEmpty)
        let pid = Int32(again.session.relayInfo["pid"] ?? "")
        #expect(pid != nil && parent(of: pid!) == listener, "relay \(String(describing: pid)) listener \(String(describing: listener))")
        again.close()
      }
      #expect(host.relayListeners() == listeners)
      // The built xcsh, two processes in a row: both through it, the listener unchanged.
      var env = host.environment()
      env["XCSH_RELAY_PERSIST"] = "600"
      for _ in 0..<2 {
        let r = try runXcsh(["--host", url, "-c", "ps | length"], environment: env)
        #expect(r.status == 0 && r.out == "0\n" && r.err.isEmpty, "\(r)")
      }
      #expect(host.relayListeners() == listeners)
      // The masters gone (their forwards with them): the next session comes over `ssh -T`
      // again, quietly, which puts the forward on the new master; the one after is the
      // listener's again.
      host.stopControlMasters(keepingListeners: true)
      let over = try SSHTransport.connect(remote, options: o)
      #expect(over.sshPID != nil)
      over.close()
      let back = try SSHTransport.connect(remote, options: o)
      #expect(back.sshPID == nil)
      #expect(Int32(back.session.relayInfo["pid"] ?? "").flatMap(parent(of:)) == listener)
      back.close()
      #expect(host.relayListeners() == listeners)
      try expectNoRelay(host)
    }
  }

  /// `host disconnect`: the listener there (ended by the relay it started, asked through the
  /// forward) and the control master here end, and the forward's socket goes; asked again,
  /// nothing runs to end; the next call connects from scratch over `ssh -T` and works.
  @Test func hostDisconnectEndsTheListenerAndTheMaster() throws {
    try withRemote { host, daemon, url in
      let remote = RemoteHost(host: SSHHostHarness.alias, socketPath: daemon.socket)
      let o = options(host)
      func masters() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: o.runtimeDirectory)) ?? []).filter { $0.hasPrefix("cm-") }
      }
      func forwards() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: o.runtimeDirectory)) ?? []).filter { $0.hasPrefix("relay-") }
      }
      try SSHTransport.connect(remote, options: o).close()  // over ssh: starts the listener, records the forward
      let through = try SSHTransport.connect(remote, options: o)
      #expect(through.sshPID == nil)
      through.close()
      #expect(host.relayListeners().count == 1 && masters().count == 1 && forwards().count == 1, "\(host.relayListeners()) \(masters()) \(forwards())")

      var env = host.environment()
      env["XCSH_RELAY_PERSIST"] = "600"
      var r = try runXcsh(["-c", "host disconnect \(url) | to json"], environment: env)
      #expect(r.status == 0 && r.out == #"[{"host":"\#(url)","listener":true,"master":true}]"# + "\n", "\(r)")
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline, !host.relayListeners().isEmpty { usleep(50_000) }  // SIGTERM is asynchronous: polling, bounded
      #expect(host.relayListeners().isEmpty, "\(host.relayListeners())")
      #expect(masters().isEmpty && forwards().isEmpty, "\(masters()) \(forwards())")

      r = try runXcsh(["-c", "host disconnect \(url) | to json"], environment: env)
      #expect(r.status == 0 && r.out == #"[{"host":"\#(url)","listener":false,"master":false}]"# + "\n", "\(r)")
      r = try runXcsh(["--dry-run", "-c", "host disconnect \(url) | get 0.listener | describe"], environment: env)
      #expect(r.status == 0 && r.out == "null\n" && r.err.contains("+ host disconnect \(url) (not ended: --dry-run)"), "\(r)")

      let next = try SSHTransport.connect(remote, options: o)
      #expect(next.sshPID != nil)
      #expect(try next.session.call(ListContainersRequest()).isEmpty)
      next.close()
      host.stopControlMasters()
      try expectNoRelay(host)
    }
  }

  @Test func aListenerEndsAfterItsIdleTimeAndRemovesItsSocket() throws {
    try withRemote { host, daemon, _ in
      let remote = RemoteHost(host: SSHHostHarness.alias, socketPath: daemon.socket)
      let c = try SSHTransport.connect(remote, options: options(host, persist: 1))
      #expect(host.relayListeners().count == 1)
      c.close()
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline, !host.relayListeners().isEmpty { usleep(50_000) }  // polling, bounded
      #expect(host.relayListeners().isEmpty, "\(host.relayListeners())")
      let names = (try? FileManager.default.contentsOfDirectory(atPath: host.remoteCache + "/run")) ?? []
      #expect(!names.contains { !$0.hasSuffix(".lock") }, "\(names)")
    }
  }

  @Test func aServerRefusingStreamLocalForwardingIsReachedOverSSHQuietly() throws {
    let host = try SSHHostHarness(sshdOptions: ["AllowStreamLocalForwarding no"])
    defer {
      host.tearDown()
      host.expectGone()
    }
    try withDaemon { daemon in
      let remote = RemoteHost(host: SSHHostHarness.alias, socketPath: daemon.socket)
      let o = options(host)
      var env = host.environment()
      env["XCSH_RELAY_PERSIST"] = "600"
      let url = "ssh://\(SSHHostHarness.alias)\(daemon.socket)"
      for i in 0..<3 {
        let r = try runXcsh(["--host", url, "-c", "ps | length"], environment: env)
        // The first contact builds the relay there (and says so); nothing else is said.
        let said = i == 0 ? "xcsh: built the relay on \(SSHHostHarness.alias) (relay-\(RelaySource.hash))\n" : ""
        #expect(r.status == 0 && r.out == "0\n" && r.err == said, "\(r)")
      }
      // The forward was tried once, closed before the handshake, and is not tried again.
      let marker = try FileManager.default.contentsOfDirectory(atPath: o.runtimeDirectory).filter { $0.hasSuffix(".refused") }
      #expect(marker.count == 1, "\(marker)")
      let c = try SSHTransport.connect(remote, options: o)
      #expect(c.sshPID != nil)
      #expect(try c.session.call(ListContainersRequest()).isEmpty)
      c.close()
      host.stopControlMasters()
      try expectNoRelay(host)
    }
  }
}
