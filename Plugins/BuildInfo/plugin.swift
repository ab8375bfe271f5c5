import Foundation
import PackagePlugin

/// Writes the git commit being built into the target (`BuildInfo.commit`), before every build,
/// with `scripts/build-info`. A prebuild command, so it runs even when no source changed; the
/// script rewrites the file only when the commit differs, so nothing is recompiled otherwise.
@main
struct BuildInfoPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let out = context.pluginWorkDirectoryURL.appending(path: "generated")
    let package = context.package.directoryURL
    var environment: [String: String] = [:]
    // A build from a source tarball (no .git) names its commit this way.
    if let c = ProcessInfo.processInfo.environment["XCSH_BUILD_COMMIT"] { environment["XCSH_BUILD_COMMIT"] = c }
    return [
      .prebuildCommand(
        displayName: "Recording the git commit of \(target.name)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [package.appending(path: "scripts/build-info").path, package.path, out.path],
        environment: environment,
        outputFilesDirectory: out)
    ]
  }
}
