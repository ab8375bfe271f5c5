import Foundation
import XCEngine
import XCIPC

/// Engine records to XCIPC wire types and back, and engine errors to xc error answers.
///
/// Both modules spell xc's JSON the same way, so the big image types (`JailImage`,
/// `JailConfig`) cross by JSON; the container types are mapped field by field.
enum Mapping {
  // MARK: - Images

  static func jailImage(_ image: XCEngine.JailImage) throws -> XCIPC.JailImage {
    // xc's JailConfig requires `special_mounts` and `mounts`, which the engine does not keep.
    try convert(image, to: XCIPC.JailImage.self, what: "image config") { json in
      guard var config = json["config"] as? [String: Any],
        var ext = config["xc_extension"] as? [String: Any]
      else { return }
      for (key, value) in jailConfigDefaults where ext[key] == nil { ext[key] = value }
      config["xc_extension"] = ext
      json["config"] = config
    }
  }

  /// The fields xc's `JailConfig` requires, with the value meaning "none".
  private static var jailConfigDefaults: [String: Any] {
    [
      "secure_level": 0, "ports": [String: Any](), "devfs_rules": [Any](), "allow": [Any](),
      "entry_points": [String: Any](), "special_mounts": [Any](), "mounts": [String: Any](),
    ]
  }

  static func jailConfig(_ config: XCIPC.JailConfig) throws -> XCEngine.JailConfig {
    try convert(config, to: XCEngine.JailConfig.self, what: "image metadata (config)")
  }

  static func imageRecord(_ record: XCEngine.ImageRecord) throws -> XCIPC.ImageRecord {
    XCIPC.ImageRecord(
      imageReference: record.image_reference, digest: record.digest,
      manifest: try jailImage(record.manifest))
  }

  static func describe(_ record: XCEngine.ImageRecord) throws -> DescribeImageResponse {
    DescribeImageResponse(
      imageReference: record.image_reference, chainId: record.chain_id, digest: record.digest,
      jailImage: try jailImage(record.manifest), datasetId: record.chain_id)
  }

  /// Encodes with one module's coder and decodes with the other's (both follow xc's keys);
  /// `patch` may fill in what one side leaves out.
  private static func convert<From: Encodable, To: Decodable>(
    _ value: From, to: To.Type, what: String, patch: ((inout [String: Any]) -> Void)? = nil
  ) throws -> To {
    do {
      var bytes = try WireEncoder().encode(value)
      if let patch, var json = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
      {
        patch(&json)
        bytes = Array(try JSONSerialization.data(withJSONObject: json))
      }
      return try WireDecoder().decode(To.self, from: bytes)
    } catch {
      throw XCDaemonError.invalid("cannot convert the \(what): \(error)")
    }
  }

  // MARK: - Containers

  static func manifest(_ r: ContainerRecord) -> ContainerManifest {
    var processes: [String: XCIPC.ProcessStat] = [:]
    for (key, p) in r.processes {
      processes[key] = XCIPC.ProcessStat(
        started: p.started.map(Int.init), exited: p.exited.map(Int.init),
        exec: jexec(p.exec), exitCode: p.exit_code.map(Int.init),
        spawnInfo: p.pid.map {
          XCIPC.SpawnInfo(
            pid: Int($0), stdoutLogFile: p.stdout_log_file, stderrLogFile: p.stderr_log_file,
            terminalSocket: p.terminal_socket)
        })
    }
    var manifest = ContainerManifest(
      devfsRulesetId: 0, jid: Int(r.pid ?? 0), name: r.name, root: r.root, id: r.id,
      mainNorun: r.status == .created, persist: r.persist, noClean: r.no_clean, linux: true,
      processes: processes, mainProto: r.main_proto.map(jexec),
      mountReq: (r.mounts ?? []).map {
        MountEntry(source: $0.source, dest: $0.destination, fs: "bind", options: [$0.read_only ? "ro" : "rw"])
      },
      imageReference: r.image_reference, fault: r.fault,
      created: Int(r.created), started: r.started.map(Int.init),
      finishedAt: r.finished_at.map(Int.init))
    manifest.vnet = r.vnet ?? false
    manifest.ipAlloc = (r.ip_alloc ?? []).map {
      IpAssign(network: $0.network, addresses: $0.addresses, interface: $0.interface)
    }
    manifest.mainAddress = r.main_address
    manifest.xcshResources = r.resources.map {
      XCIPC.ResourceLimits(memory: $0.memory.map(Int.init), cpus: $0.cpus, pids: $0.pids.map(Int.init))
    }
    manifest.xcshOomKilled = r.oom_killed
    manifest.xcshRestart = r.restart.map { RestartPolicySpec(mode: $0.mode.rawValue, maxRetries: $0.max_retries) }
    manifest.xcshRestartCount = r.restart_count ?? (r.restart == nil ? nil : 0)
    manifest.xcshLastExit = r.last_exit_status.map(Int.init)
    manifest.xcshRestarting = r.restarting
    manifest.xcshHealthCheck = r.health_check.map {
      HealthCheckSpec(
        command: $0.command, intervalMs: $0.interval_ms, timeoutMs: $0.timeout_ms, retries: $0.retries,
        startPeriodMs: $0.start_period_ms)
    }
    manifest.xcshHealth = r.health.map {
      HealthStatus(
        status: $0.status.rawValue, failingStreak: $0.failing_streak, lastOutput: $0.last_output,
        lastExitCode: $0.last_exit_code.map(Int.init), lastCheckAt: $0.last_check_at.map(Int.init))
    }
    return manifest
  }

  static func jexec(_ j: XCEngine.Jexec) -> XCIPC.Jexec {
    XCIPC.Jexec(
      arg0: j.arg0, args: j.args, envs: j.envs, uid: Int(j.uid), gid: Int(j.gid), user: j.user,
      group: j.group, outputMode: .inherit, workDir: j.work_dir)
  }

  // MARK: - Errors

  /// An engine failure as xc's error answer: FreeBSD errno and a message that says what went
  /// wrong, the tool's own words (runc's stderr) and what to do.
  static func daemonError(_ error: any Error, method: String) -> XCDaemonError {
    switch error {
    case let e as XCDaemonError:
      return e
    case let e as EngineError:
      var text = e.message
      if let detail = e.detail?.trimmingCharacters(in: .whitespacesAndNewlines), !detail.isEmpty {
        text += ": \(detail)"
      }
      if let help = e.help { text += " (help: \(help))" }
      return XCDaemonError(errno: freeBSDErrno(e.errno.rawValue), "\(text) [\(e.code)]")
    default:
      return XCDaemonError(errno: 5, "\(method): \(error)")
    }
  }

  /// Linux errno to FreeBSD's numbering, which xc's wire carries. 1–34 agree except 11
  /// (EAGAIN on Linux, EDEADLK on FreeBSD); the others are mapped where known, else EIO.
  static func freeBSDErrno(_ linux: Int32) -> Int {
    switch linux {
    case 11: return 35  // EAGAIN / EWOULDBLOCK
    case 1...34: return Int(linux)
    case 35: return 11  // EDEADLK
    case 36: return 63  // ENAMETOOLONG
    case 38: return 78  // ENOSYS
    case 39: return 66  // ENOTEMPTY
    case 40: return 62  // ELOOP
    case 95: return 45  // EOPNOTSUPP
    case 98: return 48  // EADDRINUSE
    case 110: return 60  // ETIMEDOUT
    case 111: return 61  // ECONNREFUSED
    case 125: return 85  // ECANCELED
    default: return 5  // EIO
    }
  }

  /// FreeBSD's EOPNOTSUPP: a FreeBSD-only feature the Linux xcd refuses (as the zfs volume
  /// driver does), by name.
  static func unsupported(_ what: String) -> XCDaemonError {
    XCDaemonError(errno: 45, "unsupported on Linux: \(what)")
  }
}
