/// Session settings chosen on the command line and by the terminal.
public struct ShellOptions: Sendable {
  public static let version = "0.1.0"
  /// Render results as JSON lines (`--json`).
  public var json = false
  /// Standard output is a terminal: tables get box drawing and the output is line buffered.
  public var stdoutIsTTY = false
  /// Colour in tables and diagnostics (a TTY and no `NO_COLOR`).
  public var color = false
  public var terminalWidth = 80
  /// The script's name (`$args` holds the rest) or nil for `-c` and the REPL.
  public var scriptName: String? = nil
  public var arguments: [String] = []
  /// The xc daemon's socket: `--socket`, else `$XC_SOCKET`, else `/var/run/xc.sock`.
  public var socketPath = "/var/run/xc.sock"

  public init() {}
}
