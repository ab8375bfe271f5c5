import XCShell

/// The error codes of the object commands (the daemon, containers, images, builds), grouped by area.
///
/// Codes the language already defines (`args.missing`, `args.value`, `interrupted`) come from
/// XCShell's catalogue; codes built from a daemon's or an object type's name (`daemon.<ipc code>`,
/// `container.not_found`) are made where they arise.
extension ShellError.Code {
  // MARK: args
  /// Two flags that cannot be used together were both given.
  static let argsConflict: Self = "args.conflict"

  // MARK: build
  /// A `--build-arg` names no ARG the Jailfile declares.
  static let buildArgument: Self = "build.argument"
  /// Build containers could not be removed after the build.
  static let buildCleanup: Self = "build.cleanup"
  /// The build context is not a directory.
  static let buildContext: Self = "build.context"
  /// A COPY step could not read its source.
  static let buildCopy: Self = "build.copy"
  /// The image to build already exists.
  static let buildExists: Self = "build.exists"
  /// The build driver reached a state its plan rules out.
  static let buildInternal: Self = "build.internal"
  /// The Jailfile could not be read.
  static let buildJailfile: Self = "build.jailfile"
  /// The daemon committed the image but does not list it.
  static let buildMissing: Self = "build.missing"
  /// The build's output file could not be written.
  static let buildOutput: Self = "build.output"
  /// A Jailfile step failed inside the build container.
  static let buildStepFailed: Self = "build.step_failed"

  // MARK: config
  /// A file is not a valid xc image configuration.
  static let configInvalid: Self = "config.invalid"
  /// A configuration file is neither YAML nor JSON.
  static let configParse: Self = "config.parse"

  // MARK: container
  /// A container run in the foreground (`run`, `attach`) exited non-zero or was killed.
  static let containerFailed: Self = "container.failed"
  /// The daemon could not start a container's main process.
  static let containerFault: Self = "container.fault"
  /// `start` of a container that has ended: its resources are released and cannot be had back.
  static let containerEnded: Self = "container.ended"

  // MARK: cp
  /// `cp` got an archive without the single member it expected.
  static let cpArchive: Self = "cp.archive"
  /// `cp` could not give the copied file its new name.
  static let cpRename: Self = "cp.rename"
  /// `cp`'s `tar` failed.
  static let cpTar: Self = "cp.tar"

  // MARK: daemon
  /// The daemon closed the connection without answering.
  static let daemonClosed: Self = "daemon.closed"
  /// The daemon went away during a call.
  static let daemonGone: Self = "daemon.gone"
  /// The daemon's typed not-found answers (ENOENT, or xc's `ImageReferenceNotFound`-style variants).
  static let daemonNotFound: Self = "daemon.not_found"
  /// The daemon's socket cannot be reached.
  static let daemonUnavailable: Self = "daemon.unavailable"
  /// The daemon lacks the xcsh extension method a command needs.
  static let daemonUnsupported: Self = "daemon.unsupported"

  // MARK: file
  /// A host path named by a command does not exist.
  static let fileMissing: Self = "file.missing"
  /// A host file could not be opened or created.
  static let fileOpen: Self = "file.open"
  /// A host file could not be read.
  static let fileRead: Self = "file.read"

  // MARK: host
  /// The host inventory file cannot be read or written, or does not name the host.
  static let hostInventory: Self = "host.inventory"
  /// `on` or `fleet` was given something that names no host (a number, a record without a name).
  static let hostTarget: Self = "host.target"
  /// One command was given objects from two different daemons (hosts) to act on together.
  static let hostMixed: Self = "host.mixed"
  /// One or more hosts of a `fleet` failed (without `--keep-going`).
  static let fleetFailed: Self = "fleet.failed"

  // MARK: jailfile
  /// A Jailfile does not parse or plan.
  static let jailfileInvalid: Self = "jailfile.invalid"

  // MARK: kill
  /// Containers were still being torn down after `kill`'s wait.
  static let killTimeout: Self = "kill.timeout"

  // MARK: logs
  /// A process has no log (its output went to the client that started it).
  static let logsMissing: Self = "logs.missing"
  /// A container's log file cannot be read.
  static let logsRead: Self = "logs.read"
  /// A filter (`--since`, `--stderr`, …) or `--follow` on a log written by an older xcd.
  static let logsLegacy: Self = "logs.legacy"

  // MARK: object
  /// An id prefix matches more than one object.
  static let objectAmbiguous: Self = "object.ambiguous"
  /// An object lacks the field a command needs (name or id).
  static let objectField: Self = "object.field"

  // MARK: process
  /// A process run in the foreground (`exec`) exited non-zero or was killed.
  static let processFailed: Self = "process.failed"

  // MARK: pull
  /// An image pull failed.
  static let pullFailed: Self = "pull.failed"

  // MARK: push
  /// An image push failed.
  static let pushFailed: Self = "push.failed"

  // MARK: stack
  /// A stack file is not valid (YAML, shapes, names, references, interpolation).
  static let stackInvalid: Self = "stack.invalid"
  /// An external network or volume a stack names is not on the daemon.
  static let stackMissing: Self = "stack.missing"
  /// A stack file uses a Compose key or form stacks do not support (yet).
  static let stackUnsupported: Self = "stack.unsupported"

  // MARK: system
  /// An eventfd could not be created.
  static let systemEventfd: Self = "system.eventfd"
  /// A pidfd could not be opened.
  static let systemPidfd: Self = "system.pidfd"
  /// A pipe could not be created.
  static let systemPipe: Self = "system.pipe"
  /// The placeholder of a descriptor made on a remote host (`/dev/null`) could not be opened.
  static let systemSlot: Self = "system.slot"
  /// A host helper process could not be started.
  static let systemSpawn: Self = "system.spawn"
  /// A temporary directory could not be created.
  static let systemTmp: Self = "system.tmp"
  /// Writing to a helper process failed.
  static let systemWrite: Self = "system.write"

  // MARK: terminal
  /// A container's terminal socket cannot be reached.
  static let terminalConnect: Self = "terminal.connect"
  /// A container has no terminal socket.
  static let terminalMissing: Self = "terminal.missing"

  // MARK: wait
  /// The container ended before the awaited condition held.
  static let waitExited: Self = "wait.exited"
  /// A container did not reach the awaited state in time.
  static let waitTimeout: Self = "wait.timeout"
  /// `wait --healthy`: the container's health check made it unhealthy.
  static let waitUnhealthy: Self = "wait.unhealthy"
  /// `wait --healthy` on a container without a health check.
  static let waitNoHealthCheck: Self = "wait.no_health_check"

  /// Every code above, for the tests that keep the catalogue unique and well formed.
  static let objectCatalogue: [Self] = [
    .argsConflict,
    .buildArgument,
    .buildCleanup,
    .buildContext,
    .buildCopy,
    .buildExists,
    .buildInternal,
    .buildJailfile,
    .buildMissing,
    .buildOutput,
    .buildStepFailed,
    .configInvalid,
    .configParse,
    .containerEnded,
    .containerFailed,
    .containerFault,
    .cpArchive,
    .cpRename,
    .cpTar,
    .daemonClosed,
    .daemonGone,
    .daemonNotFound,
    .daemonUnavailable,
    .daemonUnsupported,
    .fileMissing,
    .fileOpen,
    .fileRead,
    .fleetFailed,
    .hostInventory,
    .hostMixed,
    .hostTarget,
    .jailfileInvalid,
    .killTimeout,
    .logsMissing,
    .logsRead,
    .logsLegacy,
    .objectAmbiguous,
    .objectField,
    .processFailed,
    .pullFailed,
    .pushFailed,
    .stackInvalid,
    .stackMissing,
    .stackUnsupported,
    .systemEventfd,
    .systemPidfd,
    .systemPipe,
    .systemSpawn,
    .systemTmp,
    .systemWrite,
    .systemSlot,
    .terminalConnect,
    .terminalMissing,
    .waitExited,
    .waitNoHealthCheck,
    .waitTimeout,
    .waitUnhealthy,
  ]
}
