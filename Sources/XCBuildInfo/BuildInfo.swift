/// What `xcsh --version`, `xcd --version` and the daemon's `info` report: the release and the
/// git commit built from (`commit`, generated before each build by Plugins/BuildInfo).
public enum BuildInfo {
  /// The release. Kept equal to the language's `version` (ShellOptions.version); a test checks.
  public static let version = "0.1.0"

  /// `NAME VERSION (commit HASH)`, the `--version` line of both executables.
  public static func line(_ name: String) -> String { "\(name) \(version) (commit \(commit))" }
}
