import CSupport
import Foundation
import Glibc
import SystemPackage
import XCSystem

extension Engine {
  // MARK: - Create and start

  /// Creates a container (xc's `instantiate`): resolves the image and entry point, checks
  /// required environment variables, mounts an overlay root over the image's tree, copies
  /// `copies` in, and creates it with runc, main's stdio being the client's descriptors.
  /// Unless `create_only` or there is no entry point, main is started before returning.
  ///
  /// If runc fails, `main_started_notify` is still written (so a waiting client wakes) and
  /// the error carries runc's message.
  public func createContainer(_ spec: ContainerSpec) throws -> ContainerRecord {
    try checkOpen()
    let started = spec.main_started_notify.map(\.rawValue)
    var notified = false
    do {
      return try create(spec, notified: &notified)
    } catch {
      if let started, !notified { notify(started, 1, what: "main_started_notify", id: spec.name ?? "-") }
      throw error
    }
  }

  private func create(_ spec: ContainerSpec, notified: inout Bool) throws -> ContainerRecord {
    let phases = StartPhases()
    var spec = spec
    // Main can run again only when the engine holds all its output (see `Engine.relaunch`).
    let restartable = spec.entry_point != nil && spec.stdout == nil && spec.stderr == nil && !spec.use_tty && !spec.persist
    if let policy = spec.restart, policy.mode != .no, !restartable {
      throw EngineError(
        .badRequest,
        "xcsh_restart (xcsh: --restart \(policy.description)) needs a main whose output the daemon logs: no stdout/stderr descriptors, no use_tty (-t), no persist",
        help: "run it detached (xcsh: run -d) without -t or --persist", errno: .invalidArgument)
    }
    if spec.health_check != nil && spec.entry_point == nil {
      throw EngineError(.badRequest, "xcsh_health (xcsh: --health-cmd) needs a main process", errno: .invalidArgument)
    }
    spec.network = networking.withDefault(spec.network)
    let image = try imageStore.resolve(ImageReference(parsing: spec.image_reference))
    if let name = spec.name { try ContainerNames.validate(name) }
    var (main, envs) = try resolveMain(spec, image)
    let volumeMounts = try resolveMounts(spec.mounts, image: image)

    // Reserve id and name under the lock so two creates cannot take the same name.
    let id = ContainerNames.newID()
    let name = spec.name ?? "xc-\(id)"
    let hostname = spec.hostname ?? name
    guard !hostname.isEmpty, hostname.utf8.count <= 64, !hostname.contains("\0") else {
      throw EngineError(.badRequest, "bad hostname \"\(hostname)\": 1 to 64 bytes", errno: .invalidArgument)
    }
    let bundle = snapshots.bundle(id)
    let rootfs = bundle + "/rootfs"
    let now = Self.nowNanos()
    var record = ContainerRecord(
      id: id, name: name, named: spec.name != nil, hostname: hostname,
      image_reference: image.image_reference, image_digest: image.manifest_digest, root: rootfs,
      status: .created, pid: nil, main_proto: main, created: now, started: nil,
      finished_at: nil, exit_status: nil, fault: nil, persist: spec.persist,
      no_clean: spec.no_clean)
    record.mounts = volumeMounts
    try spec.resources.validate()
    record.resources = spec.resources.isEmpty ? nil : spec.resources
    record.restart = spec.restart?.mode == RestartPolicy.Mode.no ? nil : spec.restart
    record.health_check = spec.health_check
    record.health = spec.health_check.map { _ in HealthState() }
    let container = LiveContainer(record: record, bundle: bundle, phases: phases)
    container.setRestartable(restartable)
    phases.mark("lookup")
    // Each step pushes the undo of what it takes onto the container's rollback stack, which
    // a failure below and the release after the container ends both unwind.
    let undo = container.rollback
    try reserve(container, named: spec.name)
    undo.push(.forget)

    var pid: pid_t?
    var monitored = false
    var networkPlan: Networking.NetworkPlan?
    var networkSetup: NetworkSetup?
    var startNow = false
    var claimed = false  // the start, begun with `run`
    do {
      try volumeStore.confirm(volumeMounts)
      undo.push(.state)
      try FileSystem.makeDirectories(bundle, mode: 0o755)
      networkPlan = try networking.prepare(spec.network, id: id)
      if let plan = networkPlan {
        undo.push(.network)
        networking.record(plan, in: container)
        main?.envs.merge(Networking.networkEnvironment(container.record)) { $1 }
      }
      startNow = !spec.create_only && main != nil && networkPlan == nil
      undo.push(.mounts)
      container.phases.mark("dirs")
      // Namespace, veths, addresses and rules are set up meanwhile, on their own threads.
      networkSetup = networkPlan.map { networking.start($0, container: container) }
      try snapshots.mount(image, bundle: bundle, extraLayers: spec.extra_layers, copies: spec.copies)
      container.phases.mark("mount")
      let config = try runtimeConfig(
        spec, id: container.id, image: image, main: main, envs: envs, mounts: volumeMounts, hostname: hostname, bundle: bundle)
      // The bundle is new and only runc reads it (see FileSystem.writeEphemeral).
      try FileSystem.writeEphemeral(bundle + "/config.json", Array(try StateStore.encode(config.spec).utf8))
      container.phases.mark("spec")

      // Pushed before anything runc is given exists: runc may create the container and still
      // fail, and runc's state goes after the relays of main's output are drained.
      undo.push(.runtime)
      // Output the client keeps no descriptor for (detached, or a tty) goes to main's log.
      undo.push(.io)
      let logs = MainLogs.paths(spec, bundle: bundle, hasMain: main != nil)
      let (logFile, mainLog) = try MainLogs.open(logs, tty: spec.use_tty)
      container.setMainLog(mainLog)
      // With a tty, runc hands the pty master to a console socket and the stdio fds are unused.
      let logFD = { (stream: LogStream) in mainLog?.writer(stream).map { FileDescriptor(rawValue: $0) } }
      let stdio =
        spec.use_tty
        ? try Self.openStdio(nil, nil, nil)
        : try Self.openStdio(spec.stdin, spec.stdout ?? logFD(.stdout), spec.stderr ?? logFD(.stderr))
      // runc gets the duplicates; a restartable container keeps the write ends for its next runs
      // (the pumps still end: the release closes them before waiting for the end of the output).
      if !restartable { mainLog?.closeWriters() }
      defer { [stdio.0, stdio.1, stdio.2].forEach(closeQuietly) }
      let consolePath = bundle + "/console.sock"
      let console = spec.use_tty ? try TerminalRelay.listen(at: consolePath) : -1
      defer {
        closeQuietly(console)
        if console >= 0 { unlink(consolePath) }
      }
      let exitNotify = try spec.main_exited_fd.map { try dupCloexec($0.rawValue) }
      container.setExitNotify(exitNotify)
      if let error = networkSetup?.waitNamespace() { throw error }
      container.phases.mark("stdio")
      // Main starts with the container, in one runc process (`run`), unless something must
      // happen in between: a network to finish inside its namespace, or a later `run_main`.
      if startNow { claimed = container.beginStart() }  // a fresh container: always claimed
      let initPid = try runtime.create(
        container, stdio: stdio, consoleSocket: spec.use_tty ? consolePath : nil, start: startNow)
      pid = initPid
      var terminalSocket: String?
      if spec.use_tty {
        let relay = try TerminalRelay(
          master: try TerminalRelay.receiveMaster(console), path: bundle + "/xc.\(id).main", log: logFile)
        container.setTerminal(relay)
        terminalSocket = relay.path
      }
      let created = container.update {
        $0.pid = initPid
        $0.main_proto = config.resolved
        if let resolved = config.resolved {
          $0.processes["main"] = ProcessStat(pid: initPid, exec: resolved)
          $0.processes["main"]?.terminal_socket = terminalSocket
          $0.processes["main"]?.stdout_log_file = logs.stdout
          $0.processes["main"]?.stderr_log_file = logs.stderr
        }
      }
      // Nothing may throw between `runc create` and the monitor: without a monitor, init
      // would never be waited for nor the container released.
      do { try state.saveContainer(created) } catch {
        logger.error("cannot save container", metadata: ["id": "\(id)", "error": "\(error)"])
      }
      container.phases.mark("save_created")
      monitor(container, pid: initPid)
      monitored = true
    } catch {
      _ = networkSetup?.wait()  // nothing may be set up after the release below
      // A start begun with `run` settles here (the monitor waits for that).
      if claimed { container.endStart { $0.fault = "\(error)" } }
      if let pid {
        // init runs; the monitor releases everything once it is killed.
        if !monitored { monitor(container, pid: pid) }
        signal(id, SIGKILL, why: "its create failed")
      } else {
        closeQuietly(container.takeExitNotify() ?? -1)
        container.closeStatusReader()
        release(container, failed: true)
        container.finish(container.record)  // wakes a shutdown() waiting for it
      }
      throw error
    }

    if startNow {
      // runc has started init already; xc-init's report says whether main runs.
      notified = true  // settled below, whatever happens
      defer { notify(spec.main_started_notify?.rawValue, container: container) }
      try settleStart(container) { try runtime.awaitStarted(container) }
      if isClosed {
        // shutdown() began meanwhile: its signal may have come before runc had the container.
        signal(id, SIGKILL, why: "the engine is shutting down")
        throw EngineError(.shutDown, "the engine is shut down", errno: .ioError)
      }
      return container.record
    }

    if let networkPlan, let networkSetup, let pid {
      // After the monitor is running, so a failure here kills and releases the container.
      do {
        try networking.finish(networkPlan, networkSetup, container: container, pid: pid)
        try joinNetgroups(networkPlan.netgroups, container: container)
      } catch {
        signal(id, SIGKILL, why: "its network could not be set up")
        _ = container.waitFinished(until: Date().addingTimeInterval(30))
        throw error
      }
    }
    if isClosed {
      // shutdown() began while this container was being created: do not start it.
      signal(id, SIGKILL, why: "the engine is shutting down")
      throw EngineError(.shutDown, "the engine is shut down", errno: .ioError)
    }
    if !spec.create_only && main != nil {
      notified = true  // startMain writes it, whatever happens
      try startMain(container, notify: spec.main_started_notify?.rawValue)
    } else if let notify = spec.main_started_notify?.rawValue, main == nil {
      self.notify(notify, 1, what: "main_started_notify", id: id)
    }
    return container.record
  }

  /// Starts main in a container created with `create_only` (xc's `run_main`); `notify` is
  /// written with 1 once it has started. Returns the container id.
  @discardableResult
  public func runMain(_ name: String, notify: FileDescriptor? = nil) throws -> String {
    try checkOpen()
    let container = try find(name)
    guard container.record.main_proto != nil else {
      throw EngineError(.badRequest, "container \(name) has no main process", errno: .invalidArgument)
    }
    guard container.record.status == .created else {
      throw EngineError(.badRequest, "main of container \(name) has already started", errno: .invalidArgument)
    }
    try startMain(container, notify: notify?.rawValue)
    return container.id
  }

  private func startMain(_ container: LiveContainer, notify: CInt?) throws {
    defer { self.notify(notify, container: container) }
    guard container.beginStart() else {
      throw EngineError(.badRequest, "main of container \(container.id) has already started", errno: .invalidArgument)
    }
    try settleStart(container) { try runtime.start(container) }
  }

  /// Writes 1 to `main_started_notify` once a start has settled, whatever its outcome.
  private func notify(_ fd: CInt?, container: LiveContainer) {
    if let fd { notify(fd, 1, what: "main_started_notify", id: container.id) }
  }

  /// Settles a start claimed with `beginStart`: `begin` starts main (`runc start`) or waits
  /// for the start `runc run` made; a failure kills the container and waits until it is
  /// released, success is saved and marks the container running.
  private func settleStart(_ container: LiveContainer, _ begin: () throws -> Void) throws {
    do {
      try begin()
      container.phases.mark("main_exec")
    } catch {
      container.endStart { $0.fault = "\(error)" }
      signal(container.id, SIGKILL, why: "its main could not be started")
      // Leave nothing behind the error: wait for the monitor to release the container.
      _ = container.waitFinished(until: Date().addingTimeInterval(30))
      throw error
    }
    // Saved before the start settles: the monitor (which deletes the row when the
    // container ends) waits for that, so a stale row can never be written after it.
    let startedAt = Self.nowNanos()
    var snapshot = container.record
    snapshot.status = .running
    snapshot.started = startedAt
    snapshot.processes["main"]?.started = startedAt / 1_000_000_000
    do { try state.saveContainer(snapshot) } catch {
      logger.error("cannot save container", metadata: ["id": "\(container.id)", "error": "\(error)"])
    }
    container.phases.mark("save_running")
    container.endStart {
      $0.status = .running
      $0.started = startedAt
      $0.processes["main"]?.started = startedAt / 1_000_000_000
    }
    container.countRun()
    startHealthChecks(container)
  }

  // MARK: - Exec, kill, stop

  /// Runs a process in a created or running container (xc's `exec`), its stdio being the client's
  /// descriptors. `notify` receives `0x1000000000000000 | wait status` when it exits.
  public func exec(_ name: String, _ spec: ExecSpec) throws -> SpawnInfo {
    try checkOpen()
    let container = try find(name)
    // A created container (xc create, or main not started yet) already has its namespaces:
    // runc can exec into it.
    guard container.record.status != .exited, !container.isFinished else {
      throw EngineError(.notRunning, "container \(name) is not running", errno: .invalidArgument)
    }
    let execID = ContainerNames.newID()
    var envs = spec.envs
    envs["XC_ID"] = container.id
    envs.merge(Networking.networkEnvironment(container.record)) { $1 }
    if envs["PATH"] == nil { envs["PATH"] = "/bin:/usr/bin:/sbin:/usr/sbin" }
    let job = Jexec(
      arg0: spec.arg0, args: spec.args, envs: envs, user: spec.user, group: spec.group, uid: 0,
      gid: 0, work_dir: spec.work_dir)
    var resolved: Jexec? = job
    var process = try runtimeProcess(job, access: RootfsAccess(root: container.record.root), resolved: &resolved)
    process.terminal = spec.use_tty
    let processFile = container.bundle + "/exec-\(execID).json"
    defer { unlink(processFile) }
    try FileSystem.writeAtomically(processFile, Array(try StateStore.encode(process).utf8))
    let notify = try spec.notify.map { try dupCloexec($0.rawValue) }
    let stdio: (CInt, CInt, CInt)
    let output: ExecOutput
    do {
      output = try ExecOutput(spec, bundle: container.bundle, execID: execID)
      let logFD = { (stream: LogStream) in output.pump?.writer(stream).map { FileDescriptor(rawValue: $0) } }
      stdio =
        spec.use_tty
        ? try Self.openStdio(nil, nil, nil)
        : try Self.openStdio(spec.stdin, spec.stdout ?? logFD(.stdout), spec.stderr ?? logFD(.stderr))
      output.pump?.closeWriters()  // runc gets the duplicates
    } catch {
      closeQuietly(notify ?? -1)
      throw error
    }
    defer { [stdio.0, stdio.1, stdio.2].forEach(closeQuietly) }
    return try runtime.exec(
      container, execID: execID, processFile: processFile, stdio: stdio, tty: spec.use_tty, notify: notify,
      exec: resolved ?? job, output: output)
  }

  /// Sends `signal` to the container's main process (its init; when init dies, every
  /// process in the container dies with it).
  /// A kill asked for by a client ends the container for good (`stopping`): no restart policy
  /// starts main again, whatever the signal.
  public func kill(_ name: String, signal: Int32 = SIGKILL, stopping: Bool = true) throws {
    let container = try find(name)
    if stopping { container.requestStop() }
    do {
      try runtime.runc.kill(id: container.id, signal: signal)
    } catch {
      if container.isFinished { return }  // it ended meanwhile: nothing left to signal
      throw error
    }
  }

  /// Stops a container with a teardown plan: SIGTERM, up to `grace` for it to end, then
  /// SIGKILL (xc's `kill_container`). Returns once it has ended and been released.
  public func stop(_ name: String, grace: Duration = .seconds(10)) throws {
    let container = try find(name)
    container.requestStop()
    try? kill(name, signal: SIGTERM)
    if container.waitFinished(until: Date().addingTimeInterval(Self.seconds(grace))) { return }
    do {
      try kill(name, signal: SIGKILL)
    } catch {
      // runc refuses to signal a container whose init has just exited; that is not a failure.
      if !container.waitFinished(until: Date().addingTimeInterval(5)) { throw error }
      return
    }
    _ = container.waitFinished(until: nil)
  }

  /// Waits until the container has ended and its resources are released; returns its final
  /// record (`exit_status` is main's raw wait status).
  public func waitExit(_ name: String) async throws -> ContainerRecord {
    switch try lookup(name) {
    case .ended(let record): return record
    case .live(let container): return await container.awaitFinished()
    }
  }

  // MARK: - Queries

  /// Live containers, then ended ones kept with `no_clean` (xc's `list_containers`).
  public func containers() throws -> [ContainerRecord] {
    let running = allLive().map(\.record).sorted { $0.created < $1.created }
    let ids = Set(running.map(\.id))
    let dead = try state.containers().filter { !ids.contains($0.id) && $0.status == .exited }
    return running + dead
  }

  /// A container by alias (id, or the name it was given), else a kept ended one (`EndedContainers`)
  /// or a `no_clean` one by exact id (xc's `show_container`). `dead` is true for ended containers.
  public func container(_ name: String) throws -> (record: ContainerRecord, dead: Bool) {
    switch try? lookup(name) {
    case .live(let c): return (c.record, c.isFinished)
    case .ended(let record): return (record, true)
    case nil: break
    }
    if let dead = try state.containers().first(where: { $0.id == name && $0.status == .exited }) {
      return (dead, true)
    }
    throw EngineError.containerNotFound(name)
  }

  /// Ended containers kept for the user (`xcsh.list_ended`), the most recently ended first;
  /// not those `containers()` lists (`no_clean` ones kept in the state).
  public func endedContainers() throws -> [ContainerRecord] {
    let listed = Set(try containers().map(\.id))
    return kept.all().filter { !listed.contains($0.id) }
  }

  /// Forgets an ended container's record and log (`xcsh.remove_container`): by id, or every
  /// ended container with that name. A live container is refused.
  @discardableResult
  public func forgetEnded(_ name: String) throws -> [String] {
    if let c = try? find(name), !c.isFinished {
      throw EngineError(
        .badRequest, "container \(name) is still running", help: "stop or kill it first", errno: .resourceBusy)
    }
    let ids = kept.remove(name)
    guard !ids.isEmpty else { throw EngineError.containerNotFound(name) }
    return ids
  }

  enum Lookup {
    case live(LiveContainer)
    case ended(ContainerRecord)
  }

  /// A live container by alias, else a kept ended one (by id, or the most recent with that
  /// name), in one critical section so a container ending meanwhile is found either way (its
  /// record is kept before it leaves `live`).
  func lookup(_ name: String) throws -> Lookup {
    lock.lock()
    defer { lock.unlock() }
    if let c = live[name] ?? live.values.first(where: { $0.record.named && $0.record.name == name }) {
      return .live(c)
    }
    if let record = kept.find(name) { return .ended(record) }
    throw EngineError.containerNotFound(name)
  }

  func find(_ name: String) throws -> LiveContainer {
    lock.lock()
    defer { lock.unlock() }
    if let c = live[name] { return c }
    if let c = live.values.first(where: { $0.record.named && $0.record.name == name }) { return c }
    throw EngineError.containerNotFound(name)
  }

  private func reserve(_ container: LiveContainer, named: String?) throws {
    lock.lock()
    defer { lock.unlock() }
    if closed { throw EngineError(.shutDown, "the engine is shut down", errno: .ioError) }
    if let named, live.values.contains(where: { $0.record.named && $0.record.name == named }) {
      throw EngineError(.nameInUse, "a container named \(named) already exists",
                        help: "choose another name or kill that container", errno: .fileExists)
    }
    guard live[container.id] == nil else {
      throw EngineError(.system, "container id collision, try again", errno: .resourceTemporarilyUnavailable)
    }
    live[container.id] = container
  }

  // MARK: - Monitoring and release

  /// Has the runtime wait for init; once it has ended, records main's exit, releases the
  /// container and tells the client.
  func monitor(_ container: LiveContainer, pid: pid_t) {
    let runStarted = Date()
    runtime.monitor(container, pid: pid) { [self] mainStatus in
      let ranFor = Duration.seconds(Date().timeIntervalSince(runStarted))
      if let (delay, counted) = restartDecision(container, status: mainStatus, ranFor: ranFor),
        relaunch(container, after: mainStatus, delay: delay, counted: counted)
      {
        return
      }
      let record = container.update {
        $0.restarting = nil
        if $0.processes["main"]?.started != nil && $0.processes["main"]?.exited == nil {
          $0.processes["main"]?.exited = Self.nowNanos() / 1_000_000_000
          $0.processes["main"]?.exit_code = mainStatus
        }
        $0.exit_status = mainStatus
        // Read before runc deletes the cgroup.
        if $0.resources?.memory != nil { $0.oom_killed = (ContainerCgroup(id: $0.id).oomKills ?? 0) > 0 }
        $0.finished_at = Self.nowNanos()
        $0.status = .exited
        $0.pid = nil
      }
      release(container, failed: false, final: record)
      if let fd = container.takeExitNotify() {
        // Only a main that ran has an exit to report (xc writes nothing otherwise).
        if record.started != nil {
          notify(fd, ProcessNotification.encodeExit(WaitStatus(rawValue: mainStatus)), what: "main_exited_fd", id: container.id)
        }
        closeQuietly(fd)
      }
      container.finish(record)
      container.phases.mark("released")
      container.phases.write(id: container.id)
    }
  }

  func signal(_ id: String, _ signal: Int32, why: String) { runtime.signal(id, signal, why: why) }

  func notify(_ fd: CInt, _ value: UInt64, what: String, id: String) {
    runtime.notify(fd, value, what: what, id: id)
  }

  // MARK: - Helpers

  /// The OCI runtime spec of the container (its `config.json`), and main as resolved in its
  /// root (user and group ids, HOME, PATH).
  private func runtimeConfig(
    _ spec: ContainerSpec, id: String, image: ImageRecord, main: Jexec?, envs: [String: String],
    mounts volumeMounts: [VolumeMount], hostname: String, bundle: String
  ) throws -> (spec: RuntimeSpec, resolved: Jexec?) {
    var resolved = main
    // Without main, runc still wants a process it can find; it is never started.
    let placeholder = image.manifest.jailConfig.default_entry_point
      .flatMap { image.manifest.jailConfig.entry_points[$0]?.exec } ?? "/bin/sh"
    let process = try runtimeProcess(
      main ?? Jexec(arg0: placeholder, args: [], envs: envs, user: nil, group: nil, uid: 0, gid: 0, work_dir: nil),
      access: RootfsAccess(root: bundle + "/rootfs"), resolved: &resolved)
    var initProcess = process
    initProcess.terminal = spec.use_tty
    var mounts = RuntimeSpec.standardMounts + (try Networking.dnsMounts(spec.network.dns, bundle: bundle))
      + Self.bindMounts(volumeMounts)
    try runtime.wrapForInit(&initProcess, mounts: &mounts, persist: spec.persist)
    let config = RuntimeSpec(
      process: initProcess, root: .init(path: "rootfs"), hostname: hostname,
      mounts: mounts,
      linux: .init(
        namespaces: RuntimeSpec.namespaces + (spec.network.vnet ? [.init(type: "network", path: Networking.netnsPath(bundle))] : []),
        maskedPaths: RuntimeSpec.maskedPaths,
        readonlyPaths: RuntimeSpec.readonlyPaths,
        cgroupsPath: ContainerCgroup.path(id),
        resources: spec.resources.isEmpty ? nil : spec.resources.runtime))
    return (config, resolved)
  }

  /// Resolves the entry point as xc does and the environment: image Env, then the entry
  /// point's environ, then the image's declared defaults, then the request's.
  private func resolveMain(_ spec: ContainerSpec, _ image: ImageRecord) throws -> (Jexec?, [String: String]) {
    let jail = image.manifest.jailConfig
    var envs: [String: String] = [:]
    for pair in image.manifest.config?.Env ?? [] {
      guard let eq = pair.firstIndex(of: "=") else { continue }
      envs[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    func missing(_ key: String, _ description: String?) -> EngineError {
      EngineError(
        .missingEnv, "missing required environment variable: \(key)\(description.map { " - \($0)" } ?? "")",
        help: "pass it in envs, e.g. \(key)=VALUE", errno: .noSuchFileOrDirectory)
    }
    guard let request = spec.entry_point else {
      return (nil, envs.merging(spec.envs) { $1 })
    }
    let selected = request.entry_point ?? jail.default_entry_point ?? "main"
    var exec: JailConfig.EntryPoint
    var args: [String]
    if let known = jail.entry_points[selected] {
      exec = known
      args = exec.args + (request.entry_point_args.isEmpty ? exec.default_args : request.entry_point_args)
    } else {
      guard request.entry_point != nil else {
        throw EngineError(
          .badRequest, "image \(spec.image_reference) has no default entry point",
          help: "give a command to run", errno: .invalidArgument)
      }
      exec = JailConfig.EntryPoint(exec: selected)
      // A command that is not an entry point runs where the image's default one does (a
      // Jailfile's WORKDIR), as `docker run IMAGE CMD` runs in the image's WORKDIR.
      exec.work_dir = jail.entry_points[jail.default_entry_point ?? "main"]?.work_dir
      args = request.entry_point_args
    }
    if exec.clear_env { envs = [:] }
    let base = envs
    envs.merge(exec.environ.mapValues { Interpolation.apply($0, base) }) { $1 }
    for (key, env) in jail.envs where spec.envs[key] == nil {
      if let value = env.default_value {
        envs[key] = value
      } else if env.required {
        throw missing(key, env.description)
      }
    }
    envs.merge(spec.envs) { $1 }
    for key in exec.required_envs where envs[key] == nil { throw missing(key, nil) }
    if spec.user != nil { exec.user = spec.user }
    if spec.group != nil { exec.group = spec.group }
    let workDir = exec.work_dir ?? image.manifest.config?.WorkingDir.flatMap { $0.isEmpty ? nil : $0 }
    let main = Jexec(
      arg0: exec.exec, args: args.map { Interpolation.apply($0, envs) }, envs: envs, user: exec.user, group: exec.group, uid: 0, gid: 0,
      work_dir: workDir)
    return (main, envs)
  }

  /// The OCI process for `job`, with user and group resolved in the container's rootfs.
  private func runtimeProcess(_ job: Jexec, access: RootfsAccess, resolved: inout Jexec?) throws
    -> RuntimeSpec.Process
  {
    let (uid, gid, home) = try access.resolveUser(job.user, job.group)
    var envs = job.envs
    if envs["HOME"] == nil { envs["HOME"] = home }
    if envs["PATH"] == nil { envs["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
    resolved?.uid = uid
    resolved?.gid = gid
    resolved?.envs = envs
    return RuntimeSpec.Process(
      user: .init(uid: uid, gid: gid, additionalGids: nil), args: [job.arg0] + job.args,
      env: envs.keys.sorted().map { "\($0)=\(envs[$0]!)" }, cwd: job.work_dir ?? "/",
      capabilities: .defaults)
  }

  /// Duplicates the client's stdio descriptors, or opens /dev/null for absent ones.
  static func openStdio(_ a: FileDescriptor?, _ b: FileDescriptor?, _ c: FileDescriptor?) throws -> (CInt, CInt, CInt) {
    var out: [CInt] = []
    do {
      for (i, fd) in [a, b, c].enumerated() {
        if let fd {
          out.append(try dupCloexec(fd.rawValue))
        } else {
          out.append(try sysCall("open /dev/null") { open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC) })
        }
      }
    } catch {
      out.forEach(closeQuietly)
      throw error
    }
    return (out[0], out[1], out[2])
  }

  static func nowNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }

  static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }
}
