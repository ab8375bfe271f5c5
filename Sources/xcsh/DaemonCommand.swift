import ArgumentParser
import Foundation
import XCObjects

/// `xcsh daemon status|start|stop|logs`: the shared local xcd that xcsh starts when no other
/// daemon answers (see docs/architecture.md, "The local default").
struct DaemonCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "daemon",
    abstract: "Show and control the local xcd that xcsh shares between its runs.",
    discussion: """
      With no --socket, no $XC_SOCKET and no daemon answering on /var/run/xc.sock, xcsh starts \
      one xcd per user with persistent state (root: /var/lib/xcsh/xcd; others: \
      $XDG_DATA_HOME/xcsh/xcd; $XCSH_LOCAL_DIR overrides) and every later xcsh joins it. It \
      exits after $XCSH_DAEMON_IDLE seconds (default 600; 0: never) with no client and no \
      container. `xcsh --isolated` uses a private, throw-away one instead.
      """,
    subcommands: [Status.self, Start.self, Stop.self, Logs.self])
  // Each subcommand names itself: otherwise ArgumentParser derives the name from the type's,
  // and `String(describing:)` of a type costs a search of every protocol conformance in the
  // binary (about 1 M instructions each, at every start-up of xcsh).

  static var local: LocalDaemon {
    get throws {
      do {
        return try LocalDaemon.forThisUser(environment: ProcessInfo.processInfo.environment)
      } catch {
        throw ValidationError("\(error)")
      }
    }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "Whether the local xcd runs; its socket, state, log, engine and contents. Exit 3 when it is not running.")

    func run() throws {
      let d = try DaemonCommand.local
      let s = d.status()
      var lines: [String] = []
      if s.running {
        lines.append("local xcd: running" + (s.pid.map { " (pid \($0))" } ?? ""))
      } else {
        lines.append("local xcd: not running (the next xcsh that needs a daemon starts it)")
      }
      lines.append("socket:    \(d.socketPath)")
      lines.append("state:     \(d.stateDir)")
      lines.append("log:       \(d.logPath)")
      lines.append("idle exit: " + (d.idleExit == 0 ? "never" : "after \(d.idleExit) s with no client and no container"))
      if let e = s.engine { lines.append("engine:    \(e)") }
      if let i = s.images, let c = s.containers { lines.append("contents:  \(i) image\(i == 1 ? "" : "s"), \(c) container\(c == 1 ? "" : "s")") }
      let env = ProcessInfo.processInfo.environment
      let service = env["XCSH_DEFAULT_SOCKET"] ?? "/var/run/xc.sock"
      if LocalDaemon.answers(service) {
        lines.append("note:      a daemon answers on \(service); xcsh uses that one, not the local xcd")
      }
      print(lines.joined(separator: "\n"))
      if !s.running { throw ExitCode(3) }
    }
  }

  struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "start",
      abstract: "Start the local xcd now (or find it running) without running a script.")

    func run() throws {
      let d = try DaemonCommand.local
      do {
        let started = try d.start()
        print(started ? "started the local xcd on \(d.socketPath)" : "the local xcd already runs on \(d.socketPath)")
      } catch {
        FileHandle.standardError.write(Data("xcsh: \(error)\n".utf8))
        throw ExitCode(1)
      }
    }
  }

  struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stop",
      abstract: "Stop the local xcd: its containers are stopped first; images, networks and volumes stay.")

    func run() throws {
      let d = try DaemonCommand.local
      if let pid = d.stop() {
        print("stopped the local xcd (pid \(pid))")
      } else {
        print("the local xcd is not running")
      }
    }
  }

  struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the local xcd's log.")

    @Option(name: [.customShort("n"), .long], help: "How many of the last lines (0: all).")
    var lines = 100

    func run() throws {
      let d = try DaemonCommand.local
      guard FileManager.default.fileExists(atPath: d.logPath) else {
        FileHandle.standardError.write(Data("xcsh: no log yet: \(d.logPath) does not exist (the local xcd never started here)\n".utf8))
        throw ExitCode(1)
      }
      print(d.logTail(lines: lines))
    }
  }
}
