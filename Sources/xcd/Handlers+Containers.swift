import Foundation
import Glibc
import Logging
import SystemPackage
import XCEngine
import XCIPC

// MARK: - Container methods

extension Handlers {
  func registerContainers(_ table: inout XCMethodTable) {
    serve(&table, InstantiateRequest.self) { request, _ in
      let record = try self.engine.createContainer(try self.containerSpec(request))
      self.logger.info(
        "instantiated \(record.id) (\(record.name)) from \(record.image_reference)")
      return InstantiateResponse(id: record.id, requireClearence: [])
    }

    // Nothing is ever parked for clearance on Linux (no devfs rules), so there is nothing
    // to continue.
    serve(&table, ContinueInstantiateRequest.self) { request, _ in
      throw XCDaemonError.notFound("no such instantiate request: \(request.id)")
    }

    serve(&table, RunMainRequest.self) { request, _ in
      try Names.containerOrID(request.name, field: "run_main: name")
      return ContainerIDResponse(
        id: try self.engine.runMain(request.name, notify: request.notify?.descriptor))
    }

    serve(&table, ListContainersRequest.self) { _, _ in
      try self.engine.containers().map(Mapping.manifest)
    }

    // `xcsh.stats`: figures of live containers, read from their cgroups.
    serve(&table, StatsRequest.self) { request, _ in
      for name in request.names { try Names.containerOrID(name, field: "xcsh.stats: names") }
      return try self.engine.stats(request.names).map {
        ContainerStats(
          id: $0.id, name: $0.name, cpu_ns: Int($0.cpuNanos), memory_bytes: Int($0.memoryBytes),
          memory_limit: $0.memoryLimit.map(Int.init), pids: Int($0.pids),
          pids_limit: $0.limits.pids.map(Int.init), cpus: $0.limits.cpus)
      }
    }

    serve(&table, StopContainerRequest.self) { request, _ in
      let id = try self.liveContainerID(request.name, field: "xcsh.stop: name")
      let grace = try Self.grace(request.graceMs, method: "xcsh.stop", flag: "stop --time")
      self.stopInBackground(id, why: "xcsh.stop", grace: grace)
      return NullResponse()
    }

    serve(&table, RestartContainerRequest.self) { request, _ in
      let id = try self.liveContainerID(request.name, field: "xcsh.restart: name")
      try self.engine.restart(id, grace: try Self.grace(request.graceMs, method: "xcsh.restart", flag: "restart --time"))
      return NullResponse()
    }

    // `xcsh.resize`: a client's window size for a process's terminal (xc's terminal socket
    // has no channel for it).
    serve(&table, ResizeTerminalRequest.self) { request, _ in
      try Names.containerOrID(request.name, field: "xcsh.resize: name")
      for (field, value) in [("rows", request.rows), ("cols", request.cols)] where !(1...65535).contains(value) {
        throw XCDaemonError.invalid("xcsh.resize: \(field) must be 1 to 65535, found \(value)")
      }
      try self.engine.resizeTerminal(
        request.name, process: request.process, rows: UInt16(request.rows), columns: UInt16(request.cols))
      return NullResponse()
    }

    serve(&table, ListEndedContainersRequest.self) { _, _ in
      try self.engine.endedContainers().map(Mapping.manifest)
    }

    serve(&table, RemoveContainerRequest.self) { request, _ in
      try Names.containerOrID(request.name, field: "xcsh.remove_container: name")
      try self.engine.forgetEnded(request.name)
      return NullResponse()
    }

    serve(&table, ShowContainerRequest.self) { request, _ in
      let (record, dead) = try self.engine.container(request.id)
      return ShowContainerResponse(
        runningContainer: Mapping.manifest(record), containerDead: dead)
    }

    // The engine's records are always current, so "no cache" reads the same; as in xc, ended
    // containers are not searched.
    serve(&table, ShowContainerNocacheRequest.self) { request, _ in
      let (record, dead) = try self.engine.container(request.id)
      if dead { throw XCDaemonError.notFound("container has ended: \(request.id)") }
      return ShowContainerResponse(
        runningContainer: Mapping.manifest(record), containerDead: false)
    }

    serve(&table, KillContainerRequest.self) { request, _ in
      let id = try self.liveContainerID(request.name, field: "kill_container: name")
      self.stopInBackground(id, why: "kill_container")
      return EmptyResponse()
    }

    serve(&table, ExecRequest.self) { request, _ in
      try Names.containerOrID(request.name, field: "exec: name")
      var spec = XCEngine.ExecSpec(arg0: request.arg0, args: request.args, envs: request.envs)
      spec.user = request.user
      spec.group = request.group
      spec.use_tty = request.useTty
      spec.stdin = request.stdin?.descriptor
      spec.stdout = request.stdout?.descriptor
      spec.stderr = request.stderr?.descriptor
      spec.notify = request.notify?.descriptor
      spec.log = request.xcshLog ?? false
      let info = try self.engine.exec(request.name, spec)
      return XCIPC.SpawnInfo(pid: Int(info.pid), terminalSocket: info.terminal_socket)
    }

    serve(&table, LinkRequest.self) { request, context in
      let id = try self.liveContainerID(request.name, field: "link: name")
      guard let fd = context.descriptors.take(request.fd) else {
        throw XCDaemonError.invalid("link: the request carries no descriptor")
      }
      self.addLink(Link(containerID: id, fd: fd), connection: context.connectionID)
      return EmptyResponse()
    }
  }

  /// The id of a container that has not ended; ENOENT otherwise (xc's wording).
  func liveContainerID(_ name: String, field: String = "name") throws -> String {
    try Names.containerOrID(name, field: field)
    let (record, dead) = try engine.container(name)
    if dead { throw XCDaemonError.notFound("no such container: \(name)") }
    return record.id
  }

  /// xc's `kill_container` answers before the teardown completes: SIGTERM, the grace period,
  /// then SIGKILL run on their own thread.
  func stopInBackground(_ id: String, why: String, grace: Duration? = nil, then: (@Sendable () -> Void)? = nil) {
    let engine = self.engine
    let grace = grace ?? self.grace
    let logger = self.logger
    let t = Thread {
      do {
        try engine.stop(id, grace: grace)
        logger.info("\(why): stopped \(id)")
      } catch let e as EngineError where e.code == .containerNotFound {
        // It ended meanwhile.
      } catch {
        logger.warning("\(why): stopping \(id) failed: \(error)")
      }
      then?()
    }
    t.name = "xcd-stop-\(id)"
    t.start()
  }

  /// The engine's `ContainerSpec` for an `instantiate` request; FreeBSD-only features are
  /// refused by name rather than ignored.
  func containerSpec(_ r: InstantiateRequest) throws -> ContainerSpec {
    if !(r.tapInterfaces ?? []).isEmpty || !(r.tunInterfaces ?? []).isEmpty {
      throw Mapping.unsupported("instantiate: tap_interfaces, tun_interfaces (FreeBSD tap(4)/tun(4) devices in the jail)")
    }
    if !r.jailDatasets.isEmpty {
      throw Mapping.unsupported("instantiate: jail_datasets (ZFS datasets delegated to a jail)")
    }

    try Names.imageReference(r.imageReference, field: "instantiate: image_reference")
    if let name = r.name { try Names.container(name, field: "instantiate: name") }
    if let hostname = r.hostname { try Names.hostname(hostname, field: "instantiate: hostname") }

    var spec = ContainerSpec(image_reference: r.imageReference)
    spec.name = r.name
    spec.hostname = r.hostname
    spec.envs = r.envs
    spec.entry_point = r.entryPoint.map {
      ContainerSpec.EntryPoint($0.entryPoint, args: $0.entryPointArgs)
    }
    spec.user = r.user
    spec.group = r.group
    if let limits = r.xcshResources {
      spec.resources = XCEngine.ResourceLimits(
        memory: limits.memory.map(Int64.init), cpus: limits.cpus, pids: limits.pids.map(Int64.init))
    }
    if let policy = r.xcshRestart {
      guard let mode = RestartPolicy.Mode(rawValue: policy.mode) else {
        throw XCDaemonError.invalid(
          "instantiate: xcsh_restart.mode (xcsh: --restart) must be no, on-failure or always, found \(policy.mode)")
      }
      do { spec.restart = try RestartPolicy(mode: mode, maxRetries: policy.maxRetries) } catch let e as EngineError {
        throw XCDaemonError.invalid("instantiate: xcsh_restart (xcsh: --restart): \(e.message)")
      }
    }
    if let check = r.xcshHealth {
      spec.health_check = try HealthCheck(
        command: check.command, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs, retries: check.retries,
        startPeriodMs: check.startPeriodMs)
    }
    spec.mounts = try mountRequests(r.mountReq)
    // Host paths may not reach into the daemon's own state (its database, blobs, runc root).
    for (i, m) in spec.mounts.enumerated() where m.source.hasPrefix("/") {
      try ConfinedPath.hostPath(
        m.source, field: "instantiate: mount_req[\(i)].source", forbidden: [engine.stateDir])
    }
    spec.copies = try r.copies.map { copy in
      guard let fd = copy.source.descriptor else {
        throw XCDaemonError.invalid("instantiate: copies[].source carries no descriptor")
      }
      return ContainerSpec.CopyFile(source: fd, destination: copy.destination.description)
    }
    spec.extra_layers = try r.extraLayers.map { ref in
      guard let fd = ref.descriptor else {
        throw XCDaemonError.invalid("instantiate: extra_layers carries no descriptor")
      }
      return fd
    }
    // Descriptors are borrowed: the engine duplicates what it keeps, and the server closes
    // the message's descriptors after the answer.
    spec.use_tty = r.useTty
    spec.stdin = r.stdin?.descriptor
    spec.stdout = r.stdout?.descriptor
    spec.stderr = r.stderr?.descriptor
    spec.main_started_notify = r.mainStartedNotify?.descriptor
    spec.main_exited_fd = r.mainExitedFd?.descriptor
    spec.create_only = r.createOnly || r.mainNorun
    spec.no_clean = r.noClean
    spec.persist = r.persist
    spec.network = try networkSpec(r)
    return spec
  }

  // MARK: - link

  /// Ties a container to a connection (xc's `link`): when the connection closes the
  /// container is stopped; when the container ends, the process behind the descriptor (a
  /// pidfd on Linux) is SIGKILLed and the descriptor closed.
  func addLink(_ link: Link, connection: UInt64) {
    links.withLock { $0[connection, default: []].append(link) }
    let engine = self.engine
    Task.detached { [self] in
      _ = try? await engine.waitExit(link.containerID)
      if self.removeLink(link) { Self.release(link) }
    }
  }

  /// Removes `link` if still registered; true if the caller now owns its descriptor.
  private func removeLink(_ link: Link) -> Bool {
    links.withLock { all in
      for (conn, list) in all {
        if let i = list.firstIndex(where: { $0.fd == link.fd && $0.containerID == link.containerID }
        ) {
          all[conn]!.remove(at: i)
          if all[conn]!.isEmpty { all[conn] = nil }
          return true
        }
      }
      return false
    }
  }

  /// Called by the server when a connection ends: its linked containers are stopped.
  func connectionClosed(_ connection: UInt64) {
    let mine = links.withLock { $0.removeValue(forKey: connection) } ?? []
    for link in mine {
      stopInBackground(link.containerID, why: "link (connection closed)") { Self.release(link) }
    }
  }

  /// SIGKILLs the process a pidfd refers to (found in /proc/self/fdinfo), then closes it.
  /// A stop's grace period (`grace_ms` of `xcsh.stop`/`xcsh.restart`): 0 to one hour.
  static func grace(_ ms: Int, method: String, flag: String) throws -> Duration {
    guard (0...3_600_000).contains(ms) else {
      throw XCDaemonError.invalid("\(method): grace_ms (xcsh: \(flag)) must be 0 to 3600000, found \(ms)")
    }
    return .milliseconds(ms)
  }

  static func release(_ link: Link) {
    if let info = try? String(
      contentsOfFile: "/proc/self/fdinfo/\(link.fd.rawValue)", encoding: .utf8),
      let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Pid:") }),
      let pid = Int32(line.dropFirst(4).trimmingCharacters(in: .whitespaces)), pid > 0
    {
      _ = Glibc.kill(pid, SIGKILL)
    }
    try? link.fd.close()
  }
}
