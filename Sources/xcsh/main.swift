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
    try Invocation(
      command: command, check: check, json: json, socket: socket, host: host, trace: trace,
      dryRun: dryRun, ephemeral: ephemeral, isolated: isolated, keepDaemon: keepDaemon,
      script: script, arguments: arguments
    ).run()
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
  } else if let plain = Invocation.plain(arguments) {
    do { try plain.run() } catch { XCShellCommand.exit(withError: error) }
  } else {
    XCShellCommand.main()
  }
  exit(0)
}
mainThread.stackSize = 1 << 29
mainThread.start()
while true { pause() }
