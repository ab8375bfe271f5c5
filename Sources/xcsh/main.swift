import ArgumentParser
import CSupport
import Foundation
import XCBuildInfo
import XCEditor
import XCObjects
import XCRemote
import XCShell

/// `xcsh`: run a script, a command string, or standard input.
struct XCShellCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xcsh",
    abstract: "A shell for the xc container engine: typed pipelines, strict scripts, defer cleanup.",
    discussion: """
      With no --socket, no $XC_SOCKET and no daemon answering on /var/run/xc.sock, xcsh starts \
      (or joins) the local xcd it shares between runs, whose images, networks and volumes \
      persist; `xcsh daemon status|start|stop|logs` shows and controls it, and --isolated uses \
      a private, throw-away xcd instead.
      """,
    version: BuildInfo.line("xcsh"),
    // Listed for --help, the man page and completions; parsed by hand below (a command with
    // positional arguments would take `daemon` as a script's name).
    subcommands: [DaemonCommand.self])

  @Option(name: .shortAndLong, help: "Run this code instead of a script.")
  var command: String?

  @Flag(help: "Parse and resolve the script without running it; report every error.")
  var check = false

  @Flag(help: "Write results as JSON lines.")
  var json = false

  @Option(help: "The xc daemon's socket (default: $XC_SOCKET, else /var/run/xc.sock, else the local xcd).")
  var socket: String?

  @Option(help: "Drive the daemon on another machine: a host of the inventory (hosts.yaml) or ssh://[user@]host[:port][/socket/path] (default: $XC_HOST).")
  var host: String?

  @Flag(help: "Print each daemon call and its result on stderr.")
  var trace = false

  @Flag(help: "Send no changing call to the daemon: print each as a plan line (`+ instantiate …`) instead.")
  var dryRun = false

  @Flag(help: "Remove every container, network, volume and image the script created when it ends.")
  var ephemeral = false

  @Flag(help: "With no daemon at the default socket, start a private xcd with fresh state for this run and stop it at exit, instead of the shared local one.")
  var isolated = false

  @Flag(help: "With --isolated, leave the private xcd running at exit (also $XCSH_KEEP_DAEMON=1).")
  var keepDaemon = false

  @ArgumentParser.Argument(help: "The script to run (`-` or nothing for standard input).")
  var script: String?

  @ArgumentParser.Argument(parsing: .captureForPassthrough, help: "Arguments for the script ($args, or fn main's parameters).")
  var arguments: [String] = []

  func run() throws {
    var options = ShellOptions()
    options.json = json
    options.stdoutIsTTY = isatty(1) == 1
    options.color = options.stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    options.terminalWidth = Terminal.width()
    options.arguments = arguments
    let env = ProcessInfo.processInfo.environment
    let chosen = socket ?? env["XC_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    // $XCSH_DEFAULT_SOCKET replaces /var/run/xc.sock as the default (tests use it so they never
    // touch a real daemon's socket).
    options.socketPath = chosen ?? env["XCSH_DEFAULT_SOCKET"] ?? "/var/run/xc.sock"
    _ = cs_signals_install()
    let registry = Builtins.registry()
    var modes = DaemonModes()
    modes.trace = trace
    modes.dryRun = dryRun
    modes.ephemeral = ephemeral
    modes.isolated = isolated
    modes.keepDaemon = keepDaemon || (env["XCSH_KEEP_DAEMON"].map { !$0.isEmpty && $0 != "0" } ?? false)
    var remote: RemoteHost?
    let hostText = host ?? env["XC_HOST"].flatMap({ $0.isEmpty ? nil : $0 })
    if let text = hostText {
      if socket != nil {
        FileHandle.standardError.write(Data("error: --socket and --host both name a daemon; give one (the remote socket goes in the host: ssh://host/path)\n".utf8))
        throw ExitCode(2)
      }
      do throws(InventoryError) {
        // An ssh:// address, or a host's name in the inventory (hosts.yaml).
        remote = try HostInventory.resolve(text, environment: env)
      } catch {
        FileHandle.standardError.write(Data("error: \(host != nil ? "--host" : "$XC_HOST"): \(error)\n".utf8))
        throw ExitCode(2)
      }
    }
    let daemon = DaemonSession(socketPath: options.socketPath, explicit: chosen != nil, modes: modes, host: remote, hostName: hostText)
    // However the script ends (error, `exit`, Ctrl-C, SIGTERM), after its defers: remove what
    // --ephemeral recorded, then stop an embedded daemon.
    defer { daemon.finish() }
    for c in ObjectCommands.all(daemon) { registry.register(c) }

    // A terminal and nothing to run: the interactive shell.
    if command == nil, script == nil, isatty(0) == 1, !check {
      let shell = Shell(options: options, registry: registry)
      guard let editor = LibEditLineEditor() else {
        FileHandle.standardError.write(Data("error: cannot start the line editor\n".utf8))
        throw ExitCode(1)
      }
      editor.completer = Completer(shell: shell, hostObjectNames: { daemon.names(of: $0, on: $1) })
      let repl = REPL(shell: shell, editor: editor, history: HistoryStore(), socketPath: options.socketPath)
      if chosen == nil, !isolated {
        // The local default: the prompt shows the local xcd unless a daemon answers at the default.
        let local = LocalDaemon.directory(environment: env) + "/xcd.sock"
        let standard = options.socketPath
        repl.promptSocket = { LocalDaemon.answers(standard) ? standard : local }
      }
      let status = repl.run()
      if status != 0 { throw ExitCode(status) }
      return
    }

    let source: Source
    if let command {
      if let script { options.arguments.insert(script, at: 0) }
      source = Source(name: "<command>", text: command)
    } else if let script, script != "-" {
      guard let text = try? String(contentsOfFile: script, encoding: .utf8) else {
        FileHandle.standardError.write(Data("error: cannot read script `\(script)`\n".utf8))
        throw ExitCode(1)
      }
      options.scriptName = script
      source = Source(name: script, text: text)
    } else {
      let data = FileHandle.standardInput.readDataToEndOfFile()
      options.scriptName = "-"
      source = Source(name: "<stdin>", text: String(decoding: data, as: UTF8.self))
    }

    let shell = Shell(options: options, registry: registry)
    if check {
      var checker = Checker(shell: shell)
      let errors = checker.check(source)
      if errors.isEmpty { return }
      for e in errors { shell.evaluator.output.reportError(e) }
      FileHandle.standardError.write(Data("\(errors.count) error\(errors.count == 1 ? "" : "s") found\n".utf8))
      throw ExitCode(1)
    }
    let status = shell.runScript(source)
    if status != 0 { throw ExitCode(status) }
  }
}

enum Terminal {
  static func width() -> Int {
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    if let c = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(c) { return n }
    return 80
  }
}

// The evaluator recurses with the script (nested calls, deep values), so it runs on a thread with
// a large stack; the limits it enforces (400 nested calls, 200 brackets) stay far inside it.
cs_signals_reset_mask()
let mainThread = Thread {
  // `xcsh daemon …` controls the local daemon; a script named `daemon` runs as `xcsh ./daemon`.
  let arguments = Array(CommandLine.arguments.dropFirst())
  if arguments.first == "daemon" {
    DaemonCommand.main(Array(arguments.dropFirst()))
  } else {
    XCShellCommand.main()
  }
  exit(0)
}
mainThread.stackSize = 1 << 29
mainThread.start()
while true { pause() }
