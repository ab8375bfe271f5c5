import GRDB

/// Networks, address leases, port redirections and network groups in SQLite.
///
/// A lease's primary key is (network, address), so an address can never be handed out twice;
/// leases, redirections and group memberships name their container and go when it ends.
extension StateStore {
  static func registerNetworkMigrations(_ m: inout DatabaseMigrator) {
    m.registerMigration("networks: networks, leases, port redirections, netgroups") { db in
      try db.execute(
        sql: """
          CREATE TABLE network (
            name TEXT PRIMARY KEY NOT NULL,
            record TEXT NOT NULL
          );
          CREATE TABLE lease (
            network TEXT NOT NULL REFERENCES network(name),
            address TEXT NOT NULL,
            container_id TEXT NOT NULL,
            PRIMARY KEY (network, address)
          );
          CREATE INDEX lease_container ON lease(container_id);
          CREATE TABLE port_redirect (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            container_id TEXT NOT NULL,
            rule TEXT NOT NULL
          );
          CREATE TABLE netgroup (
            name TEXT NOT NULL,
            container_id TEXT NOT NULL,
            PRIMARY KEY (name, container_id)
          );
          """)
    }
  }

  // MARK: - Networks

  func networks() throws -> [Network] {
    try read("list networks") { db in
      try String.fetchAll(db, sql: "SELECT record FROM network ORDER BY name")
        .map { try Self.decode(Network.self, $0) }
    }
  }

  func network(_ name: String) throws -> Network? {
    try read("find network") { db in try Self.network(db, name) }
  }

  static func network(_ db: Database, _ name: String) throws -> Network? {
    try String.fetchOne(db, sql: "SELECT record FROM network WHERE name = ?", arguments: [name])
      .map { try decode(Network.self, $0) }
  }

  /// Inserts `network`; false if the name is taken.
  func insertNetwork(_ network: Network) throws -> Bool {
    let json = try Self.encode(network)
    return try write("save network") { db in
      try db.execute(
        sql: "INSERT INTO network (name, record) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        arguments: [network.name, json])
      return db.changesCount == 1
    }
  }

  func deleteNetwork(_ name: String) throws {
    try write("remove network") { db in
      try db.execute(sql: "DELETE FROM network WHERE name = ?", arguments: [name])
    }
  }

  // MARK: - Leases

  /// Leases an address of `network` to `container` inside one transaction: `pick` chooses
  /// from the addresses in use (nil: none free). Records it as the network's last address.
  func lease(
    network name: String, container: String,
    pick: (Network, Set<String>) throws -> String?
  ) throws -> (Network, String)? {
    try write("lease address") { db in
      guard var network = try Self.network(db, name) else { return nil }
      let used = Set(
        try String.fetchAll(db, sql: "SELECT address FROM lease WHERE network = ?", arguments: [name]))
      guard let address = try pick(network, used) else { return (network, "") }
      try db.execute(
        sql: "INSERT INTO lease (network, address, container_id) VALUES (?, ?, ?)",
        arguments: [name, address, container])
      network.last_addr = address
      try db.execute(
        sql: "UPDATE network SET record = ? WHERE name = ?",
        arguments: [try Self.encode(network), name])
      return (network, address)
    }
  }

  /// Container ids holding leases on `network`.
  func leaseHolders(network: String) throws -> [String] {
    try read("list leases") { db in
      try String.fetchAll(
        db, sql: "SELECT DISTINCT container_id FROM lease WHERE network = ? ORDER BY container_id",
        arguments: [network])
    }
  }

  /// Every lease as (network, address, container).
  func leases() throws -> [(network: String, address: String, container: String)] {
    try read("list leases") { db in
      try Row.fetchAll(db, sql: "SELECT network, address, container_id FROM lease ORDER BY network, address")
        .map { ($0["network"], $0["address"], $0["container_id"]) }
    }
  }

  // MARK: - Port redirections

  func addRedirect(_ rule: PortRedirect, container: String) throws {
    let json = try Self.encode(rule)
    try write("save port redirection") { db in
      try db.execute(
        sql: "INSERT INTO port_redirect (container_id, rule) VALUES (?, ?)", arguments: [container, json])
    }
  }

  func redirects() throws -> [PortRedirect] {
    try read("list port redirections") { db in
      try String.fetchAll(db, sql: "SELECT rule FROM port_redirect ORDER BY id")
        .map { try Self.decode(PortRedirect.self, $0) }
    }
  }

  // MARK: - Network groups

  func joinNetgroup(_ name: String, container: String) throws {
    try write("join network group") { db in
      try db.execute(
        sql: "INSERT OR IGNORE INTO netgroup (name, container_id) VALUES (?, ?)",
        arguments: [name, container])
    }
  }

  func netgroupMembers(_ name: String) throws -> [String] {
    try read("list network group") { db in
      try String.fetchAll(
        db, sql: "SELECT container_id FROM netgroup WHERE name = ? ORDER BY rowid", arguments: [name])
    }
  }

  /// The groups `container` is in, in the order it joined them.
  func netgroups(of container: String) throws -> [String] {
    try read("list a container's network groups") { db in
      try String.fetchAll(
        db, sql: "SELECT name FROM netgroup WHERE container_id = ? ORDER BY rowid", arguments: [container])
    }
  }

  // MARK: - Release

  /// Drops every lease, redirection and group membership of `container`; true if it had
  /// redirections (the nftables table must be rewritten).
  @discardableResult
  func releaseNetworking(container: String) throws -> Bool {
    try write("release addresses") { db in
      try db.execute(sql: "DELETE FROM lease WHERE container_id = ?", arguments: [container])
      try db.execute(sql: "DELETE FROM netgroup WHERE container_id = ?", arguments: [container])
      try db.execute(sql: "DELETE FROM port_redirect WHERE container_id = ?", arguments: [container])
      return db.changesCount > 0
    }
  }

  /// Drops leases, redirections and memberships of containers not in `live`.
  func releaseNetworking(except live: Set<String>) throws {
    let ids = try read("list holders") { db in
      Set(
        try String.fetchAll(
          db,
          sql: """
            SELECT container_id FROM lease UNION SELECT container_id FROM port_redirect
            UNION SELECT container_id FROM netgroup
            """))
    }
    for id in ids.subtracting(live) { try releaseNetworking(container: id) }
  }
}
