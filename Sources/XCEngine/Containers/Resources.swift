import Foundation
import Glibc

/// Resource limits of a container (xcsh's `--memory`, `--cpus`, `--pids-limit`), applied by
/// runc through the cgroup settings of the OCI spec (`linux.resources`), and the figures
/// read back from the container's cgroups. Every container's cgroup is `/xcd/<id>` in each
/// hierarchy, so the engine knows where to read without asking runc.
public struct ResourceLimits: Codable, Sendable, Equatable {
  /// Bytes, swap included (memory+swap is set to the same value).
  public var memory: Int64?
  /// CPUs (0.5 = half of one), enforced as a CFS quota per 100 ms period.
  public var cpus: Double?
  /// Most tasks (processes and threads) at once.
  public var pids: Int64?

  public init(memory: Int64? = nil, cpus: Double? = nil, pids: Int64? = nil) {
    self.memory = memory
    self.cpus = cpus
    self.pids = pids
  }

  public var isEmpty: Bool { memory == nil && cpus == nil && pids == nil }

  /// The CFS period the quota is measured over (runc's and Docker's default).
  static let cpuPeriod: Int64 = 100_000

  /// Refuses limits runc or the kernel would refuse less clearly.
  func validate() throws {
    if let memory, memory < 6 * 1024 * 1024 {
      throw EngineError(.badRequest, "xcsh_resources.memory: \(memory) bytes is below the 6 MiB a container needs", errno: .invalidArgument)
    }
    if let cpus, !(cpus > 0) || cpus > 1024 {
      throw EngineError(.badRequest, "xcsh_resources.cpus: \(cpus) is not a number of CPUs above 0", errno: .invalidArgument)
    }
    if let pids, pids < 1 {
      throw EngineError(.badRequest, "xcsh_resources.pids: \(pids) is below 1", errno: .invalidArgument)
    }
  }

  /// The OCI `linux.resources` object for runc.
  var runtime: RuntimeSpec.Resources {
    RuntimeSpec.Resources(
      memory: memory.map { .init(limit: $0, swap: $0) },
      cpu: cpus.map { .init(quota: Int64(($0 * Double(Self.cpuPeriod)).rounded()), period: UInt64(Self.cpuPeriod)) },
      pids: pids.map { .init(limit: $0) })
  }
}

/// One live container's figures (the extension `xcsh.stats`).
public struct ContainerStatsRecord: Sendable, Equatable {
  public var id: String
  public var name: String
  public var cpuNanos: Int64
  public var memoryBytes: Int64
  /// The memory limit the kernel enforces (cgroup `memory.limit_in_bytes`, v2 `memory.max`),
  /// else the one asked for when the file cannot be read; nil when unlimited.
  public var memoryLimit: Int64?
  public var pids: Int64
  public var limits: ResourceLimits
}

extension Engine {
  /// The figures of the live containers `names` name (names, ids or id prefixes), or of every
  /// live container when `names` is empty.
  public func stats(_ names: [String]) throws -> [ContainerStatsRecord] {
    try checkOpen()
    let containers: [LiveContainer]
    if names.isEmpty {
      containers = allLive()
    } else {
      containers = try names.map { try find($0) }
    }
    return containers.compactMap { c in
      let record = c.record
      guard record.status == .running else { return nil }
      let cgroup = ContainerCgroup(id: record.id)
      return ContainerStatsRecord(
        id: record.id, name: record.name, cpuNanos: cgroup.cpuNanos ?? 0,
        memoryBytes: cgroup.memoryBytes ?? 0, memoryLimit: cgroup.memoryLimit ?? record.resources?.memory,
        pids: cgroup.pids ?? 0,
        limits: record.resources ?? ResourceLimits())
    }.sorted { $0.name < $1.name }
  }
}
