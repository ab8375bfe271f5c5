import Foundation
import Glibc
import XCIPC

/// What a daemon's work can leave behind on the host, counted for one test daemon only (its
/// directory and socket), so helpers running other daemons on the machine do not disturb the
/// counts. Features that add host resources (networks: veths, bridges, nftables rules,
/// leases; volumes) add their counters here.
struct LeakCount: Equatable, CustomStringConvertible {
  var containers = 0
  var mounts = 0
  var runcState = 0
  var processes = 0
  var containerDirs = 0
  var staging = 0
  /// Networking, scoped to this daemon: host veths with its prefix, network namespaces
  /// bound under its directory, dnat rules in its own nftables table, leases in its state.
  var veths = 0
  var netns = 0
  var dnatRules = 0
  var leases = 0
  /// Volumes the daemon lists.
  var volumes = 0

  static func of(_ daemon: DaemonHarness) throws -> LeakCount {
    var c = LeakCount()
    c.containers = try daemon.client().call(ListContainersRequest()).count
    let fm = FileManager.default
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    let own = mounts.split(separator: "\n").filter { $0.contains(daemon.dir) }
    c.mounts = own.count
    c.netns = own.filter { $0.contains(" - nsfs ") }.count
    c.veths = ((try? fm.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
      .filter { $0.hasPrefix(daemon.vethPrefix) }.count
    c.dnatRules = NetworkCount.dnatRules(daemon)
    c.leases = NetworkCount.leases(daemon)
    c.volumes = try daemon.client().call(ListVolumesRequest()).count
    c.runcState = ((try? fm.contentsOfDirectory(atPath: daemon.stateDir + "/runc")) ?? []).count
    c.containerDirs = ((try? fm.contentsOfDirectory(atPath: daemon.stateDir + "/containers")) ?? []).count
    c.staging = ((try? fm.contentsOfDirectory(atPath: daemon.stateDir + "/tmp")) ?? []).count
    for pid in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
      // A process rooted in one of this daemon's containers (its mount namespace's root).
      if let root = try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"),
        root.hasPrefix(daemon.dir)
      {
        c.processes += 1
      }
    }
    return c
  }

  /// Polls until the count equals `expected` (teardown runs after `kill` answers), or the
  /// deadline passes; returns the last count.
  static func settle(_ daemon: DaemonHarness, to expected: LeakCount, seconds: Double = 60) throws
    -> LeakCount
  {
    let deadline = Date().addingTimeInterval(seconds)
    var now = try of(daemon)
    while now != expected && Date() < deadline {
      usleep(50_000)  // polling the host's state, bounded by the deadline
      now = try of(daemon)
    }
    return now
  }

  var description: String {
    "containers \(containers), mounts \(mounts), runc state \(runcState), processes \(processes), container dirs \(containerDirs), staging \(staging), veths \(veths), netns \(netns), dnat rules \(dnatRules), leases \(leases), volumes \(volumes)"
  }
}

/// Lines the reliability report (scripts/reliability) collects from the test output.
func reportFigure(_ line: String) {
  print("RELIABILITY \(line)")
}
