import Foundation

/// The engine's networks: kept by `Networking`; the engine adds the check that it is open and
/// the names of the containers holding them.
extension Engine {
  /// The nftables table holding this engine's port redirections.
  public var nftTable: String { networking.redirects.table }
  /// The prefix of this engine's host-side veth names.
  public var vethPrefix: String { networking.vethPrefix }
  var portRedirects: Redirects { networking.redirects }

  /// Creates a network (xc's `create_network`). A missing bridge is created (and given
  /// `default_router` as its address), and removed with the network.
  public func createNetwork(_ request: Network) throws {
    try checkOpen()
    try networking.create(request)
  }

  /// Every network, ordered by name.
  public func networks() throws -> [Network] { try networking.all() }

  /// Removes a network no container holds an address of (xcd's `xcsh.remove_network`); its
  /// bridge goes too if the engine created it.
  public func removeNetwork(_ name: String) throws {
    try checkOpen()
    try networking.remove(name) { id in (try? container(id).record.name).map { "\(id) (\($0))" } ?? id }
  }

  /// Once the container's network is set up: joins its network groups and rewrites their
  /// members' /etc/hosts.
  func joinNetgroups(_ groups: [String], container: LiveContainer) throws {
    for g in groups {
      try state.joinNetgroup(g, container: container.id)
      try commitNetgroup(g)
    }
  }
}
