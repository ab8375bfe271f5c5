/// Whether an IPC method only reads the daemon's state or changes something.
///
/// `xcsh --dry-run` sends reads to the daemon and turns every mutating call into a plan line;
/// unknown methods count as mutating, so a new method is never sent by mistake.
public enum MethodEffect: String, Sendable, Hashable {
  /// Only reads: safe to send during a dry run.
  case read
  /// Creates, changes, removes or runs something (or talks to a registry on the daemon's behalf).
  case mutating
}

extension XCMethods {
  /// Every method of `all`, `unregistered` and `extensions`, classified in one place
  /// (a test checks that none is missing).
  public static let effects: [String: MethodEffect] = [
    // Reads.
    "info": .read,
    "download_stat": .read,
    "upload_stat": .read,
    "list_all_images": .read,
    "describe_image": .read,
    "describe_images": .read,
    "list_containers": .read,
    "show_container": .read,
    "show_container_nocache": .read,
    "list_rdr_rules": .read,
    "list_site_rdr": .read,
    "list_networks": .read,
    "list_volumes": .read,
    "xcsh.logs": .read,
    "xcsh.list_ended": .read,
    "xcsh.copy_out": .read,  // reads a container's files into the caller's descriptor
    "xcsh.save_image": .read,  // writes an image archive into the caller's descriptor
    "xcsh.stats": .read,
    // Changes.
    "create_channel": .mutating,
    "login": .mutating,
    "pull_image": .mutating,
    "push_image": .mutating,
    "remove_image": .mutating,
    "purge": .mutating,
    "replace_meta": .mutating,
    "fd_import": .mutating,
    "commit": .mutating,
    "instantiate": .mutating,
    "continue_instantiate": .mutating,
    "run_main": .mutating,
    "kill_container": .mutating,
    "exec": .mutating,
    "link": .mutating,
    "rdr": .mutating,
    "create_network": .mutating,
    "add-netgroup": .mutating,
    "commit_netgroup": .mutating,
    "create_volume": .mutating,
    "xcsh.remove_network": .mutating,
    "xcsh.remove_volume": .mutating,
    "xcsh.remove_container": .mutating,
    "xcsh.stop": .mutating,
    "xcsh.restart": .mutating,
    "xcsh.resize": .mutating,
    "xcsh.copy_in": .mutating,
    "xcsh.tag_image": .mutating,
  ]

  /// The effect of `method`; methods missing from `effects` are treated as mutating.
  public static func effect(of method: String) -> MethodEffect {
    effects[method] ?? .mutating
  }
}
