import Foundation
import Glibc
import Testing

@testable import XCEngine

/// The container figures `stats` reports, read from fixture trees of both cgroup layouts.
/// This machine is hybrid v1 (cgroup v1 controllers, a controller-less v2 at
/// /sys/fs/cgroup/unified), so the unified reader is tested on fixtures only.
@Suite("Cgroup reader")
struct CgroupReaderTests {
  let id = "0123456789ab"

  func tree(_ files: [String: String]) throws -> String {
    var template = Array("/tmp/xcengine-cgroup-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp") }
    let root = String(cString: p)
    for (path, text) in files {
      let full = root + "/" + path
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: full, atomically: false, encoding: .utf8)
    }
    return root
  }

  @Test func hybridHostIsV1() {
    let hybrid = """
      31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
      32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
      35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory
      """
    #expect(CgroupLayout.detect(mountInfo: hybrid) == .v1(root: "/sys/fs/cgroup"))
    let unified = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
    #expect(CgroupLayout.detect(mountInfo: unified) == .unified(root: "/sys/fs/cgroup"))
    #expect(CgroupLayout.detect(mountInfo: "") == .v1(root: "/sys/fs/cgroup"))
  }

  @Test func thisHostsLayoutIsDetected() throws {
    // Whatever this host is, the detected layout names the hierarchy that holds its files.
    switch CgroupLayout.host {
    case .v1(let root): #expect(FileManager.default.fileExists(atPath: root + "/memory/memory.usage_in_bytes"))
    case .unified(let root): #expect(FileManager.default.fileExists(atPath: root + "/cgroup.controllers"))
    }
  }

  @Test func v1Files() throws {
    let d = "/xcd/\(id)"
    let root = try tree([
      "cpuacct\(d)/cpuacct.usage": "1234567890\n",
      "memory\(d)/memory.usage_in_bytes": "4194304\n",
      "memory\(d)/memory.limit_in_bytes": "16777216\n",
      "memory\(d)/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
      "pids\(d)/pids.current": "7\n",
    ])
    defer { try? FileManager.default.removeItem(atPath: root) }
    let c = ContainerCgroup(id: id, layout: .v1(root: root))
    #expect(c.cpuNanos == 1_234_567_890)
    #expect(c.memoryBytes == 4_194_304)
    #expect(c.memoryLimit == 16_777_216)
    #expect(c.pids == 7)
    #expect(c.oomKills == 2)
  }

  @Test func v1NoLimitAndMissingFiles() throws {
    let root = try tree(["memory/xcd/\(id)/memory.limit_in_bytes": "9223372036854771712\n"])
    defer { try? FileManager.default.removeItem(atPath: root) }
    let c = ContainerCgroup(id: id, layout: .v1(root: root))
    #expect(c.memoryLimit == nil)
    #expect(c.cpuNanos == nil && c.pids == nil && c.oomKills == nil)
  }

  @Test func unifiedFiles() throws {
    let d = "xcd/\(id)"
    let root = try tree([
      "\(d)/cpu.stat": "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\n",
      "\(d)/memory.current": "8388608\n",
      "\(d)/memory.max": "33554432\n",
      "\(d)/memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
      "\(d)/pids.current": "3\n",
    ])
    defer { try? FileManager.default.removeItem(atPath: root) }
    let c = ContainerCgroup(id: id, layout: .unified(root: root))
    #expect(c.cpuNanos == 2_500_000)
    #expect(c.memoryBytes == 8_388_608)
    #expect(c.memoryLimit == 33_554_432)
    #expect(c.pids == 3)
    #expect(c.oomKills == 1)
  }

  @Test func unifiedWithoutLimit() throws {
    let root = try tree(["xcd/\(id)/memory.max": "max\n", "xcd/\(id)/cpu.stat": "user_usec 1\n"])
    defer { try? FileManager.default.removeItem(atPath: root) }
    let c = ContainerCgroup(id: id, layout: .unified(root: root))
    #expect(c.memoryLimit == nil)
    // No `usage_usec` line: unknown, not zero.
    #expect(c.cpuNanos == nil)
  }
}
