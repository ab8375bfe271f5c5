import ArgumentParser
import CSupport
import Foundation
import XCEditor
import XCObjects
import XCRemote
import XCShell

/// What one run of xcsh was asked to do: its command line as plain values, parsed either by
/// `XCShellCommand` (ArgumentParser) or, for the plain forms, by `plain(_:)`.
struct Invocation {
  var command: String?
  var check = false
  var json = false
  var socket: String?
  var host: String?
  var trace = false
  var dryRun = false
  var ephemeral = false
  var isolated = false
  var keepDaemon = false
  var script: String?
  var arguments: [String] = []

  /// The command lines that mean the same to ArgumentParser as they read: nothing, `-c CODE`
  /// or `--command CODE`, or a script, each followed by plain arguments; nil for any other.
  /// ArgumentParser's parse costs most of a `xcsh -c` start-up (it reflects over the command
  /// types and tries the completion-script options on every run), and these forms carry no
  /// option for it to find. A word starting with `-` anywhere after the first (an option, `--`,
  /// `--generate-completion-script`, a negative number), or an empty one, leaves it to
  /// ArgumentParser, as does a first word that is an option other than `-c`.
  static func plain(_ words: [String]) -> Invocation? {
    var rest = words[...]
    var invocation = Invocation()
    if let first = rest.first, first == "-c" || first == "--command" {
      guard rest.count >= 2 else { return nil }
      invocation.command = rest[rest.startIndex + 1]
      rest = rest.dropFirst(2)
    }
    guard rest.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") }) else { return nil }
    if let command = invocation.command, command.isEmpty || command.hasPrefix("-") { return nil }
    invocation.script = rest.first
    invocation.arguments = Array(rest.dropFirst())
    return invocation
  }

  /// Runs the shell: the interactive one, or the script, command or standard input. Throws
  /// `ExitCode` for a non-zero status.
  func run() throws {
    // Read once: each `ProcessInfo.environment` builds a new dictionary of the whole environment.
    let env = ProcessInfo.processInfo.environment
    var options = ShellOptions()
    options.json = json
    options.stdoutIsTTY = isatty(1) == 1
    options.color = options.stdoutIsTTY && env["NO_COLOR"] == nil
    options.terminalWidth = Terminal.width(environment: env)
    options.arguments = arguments
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
    let daemon = DaemonSession(
      socketPath: options.socketPath, explicit: chosen != nil, modes: modes, environment: env, host: remote,
      hostName: hostText)
    // However the script ends (error, `exit`, Ctrl-C, SIGTERM), after its defers: remove what
    // --ephemeral recorded, then stop an embedded daemon.
    defer { daemon.finish() }
    for c in ObjectCommands.all(daemon, environment: env) { registry.register(c) }

    // A terminal and nothing to run: the interactive shell.
    if command == nil, script == nil, isatty(0) == 1, !check {
      let shell = Shell(options: options, registry: registry, environment: env)
      guard let editor = LibEditLineEditor() else {
        FileHandle.standardError.write(Data("error: cannot start the line editor\n".utf8))
        throw ExitCode(1)
      }
      editor.completer = Completer(shell: shell, hostObjectNames: { daemon.names(of: $0, on: $1) })
      let repl = REPL(shell: shell, editor: editor, history: HistoryStore(), socketPath: options.socketPath)
      if chosen == nil, !isolated {
        // The local default: the prompt shows the local xcd unless a daemon answers at the default.
        repl.promptSockets = [options.socketPath, LocalDaemon.directory(environment: env) + "/xcd.sock"]
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

    let shell = Shell(options: options, registry: registry, environment: env)
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
  static func width(environment: [String: String]) -> Int {
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    if let c = environment["COLUMNS"], let n = Int(c) { return n }
    return 80
  }
}
