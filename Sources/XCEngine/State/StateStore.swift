import Foundation
import GRDB

/// The engine's SQLite database (through GRDB): images, tags and containers, with
/// migrations. All access is serialised by GRDB's queue.
///
/// The database is in WAL mode, and a commit is durable before `write` returns: with
/// `synchronous = FULL`, one `fdatasync` of the log per commit (the rollback journal took four).
/// Only the rows of live containers are written with `Durability.processCrash` (see there and
/// docs/engine.md, "State durability").
final class StateStore: Sendable {
  let db: DatabaseQueue

  /// What a committed write survives.
  enum Durability {
    /// Anything, power loss included (`synchronous = FULL`: the log is synced at commit).
    case full
    /// The daemon's crash, not the machine's (`synchronous = NORMAL`: the commit is in the
    /// page cache, synced at the next full commit or checkpoint; a power loss may lose the
    /// last such commits, never a full one after them, and leaves the database consistent).
    /// For rows describing what a power loss ends anyway: a live container's processes,
    /// mounts and runtime state, which the next start's reconciliation sweeps whether or not
    /// a row accounts for them.
    case processCrash
  }

  init(path: String) throws {
    var config = Configuration()
    config.foreignKeysEnabled = true
    config.busyMode = .timeout(5)
    config.journalMode = .wal
    do {
      db = try DatabaseQueue(path: path, configuration: config)
      // GRDB's WAL set-up chooses NORMAL; every write is durable unless it says otherwise.
      try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
      try Self.migrator.migrate(db)
    } catch {
      throw Self.wrap(error, "open state database \(path)")
    }
  }

  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1: images, tags, containers") { db in
      try db.execute(
        sql: """
          CREATE TABLE image (
            manifest_digest TEXT PRIMARY KEY NOT NULL,
            xc_digest TEXT NOT NULL,
            chain_id TEXT NOT NULL,
            jail_image TEXT NOT NULL,
            layers TEXT NOT NULL,
            created INTEGER NOT NULL
          );
          CREATE TABLE tag (
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            manifest_digest TEXT NOT NULL REFERENCES image(manifest_digest) ON DELETE CASCADE,
            PRIMARY KEY (repository, tag)
          );
          CREATE TABLE container (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            record TEXT NOT NULL
          );
          """)
    }
    registerVolumeMigrations(&m)
    registerNetworkMigrations(&m)
    return m
  }

  static func wrap(_ error: any Error, _ what: String) -> EngineError {
    if let error = error as? EngineError { return error }
    return EngineError(.state, "\(what): \(error)", help: "check the state directory", errno: .ioError)
  }

  func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
    do { return try db.read(body) } catch { throw Self.wrap(error, what) }
  }

  func write<T>(_ what: String, durability: Durability = .full, _ body: (Database) throws -> T) throws -> T {
    do {
      if durability == .full { return try db.write(body) }
      return try db.writeWithoutTransaction { db in
        // The one connection is the queue's: no other write runs until FULL is back.
        try db.execute(sql: "PRAGMA synchronous = NORMAL")
        let result = Result<T, any Error> {
          var value: T?
          try db.inTransaction {
            value = try body(db)
            return .commit
          }
          return value!
        }
        try db.execute(sql: "PRAGMA synchronous = FULL")
        return try result.get()
      }
    } catch { throw Self.wrap(error, what) }
  }

  // MARK: - Images

  func saveImage(_ record: ImageRecord, repository: String, tag: String) throws {
    let json = try Self.encode(record.manifest)
    let layers = try Self.encode(record.layers)
    try write("save image") { db in
      try db.execute(
        sql: """
          INSERT INTO image (manifest_digest, xc_digest, chain_id, jail_image, layers, created)
          VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(manifest_digest) DO NOTHING
          """,
        arguments: [record.manifest_digest, record.digest, record.chain_id, json, layers, record.created])
      try db.execute(
        sql: "INSERT OR REPLACE INTO tag (repository, tag, manifest_digest) VALUES (?, ?, ?)",
        arguments: [repository, tag, record.manifest_digest])
    }
  }

  /// Every tag with its image, ordered by reference.
  func images() throws -> [ImageRecord] {
    try read("list images") { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT t.repository, t.tag, i.* FROM tag t JOIN image i USING (manifest_digest)
          ORDER BY t.repository, t.tag
          """)
      return try rows.map { try Self.imageRecord($0, reference: "\($0["repository"] as String):\($0["tag"] as String)") }
    }
  }

  func image(repository: String, tag: String) throws -> ImageRecord? {
    try read("find image") { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT i.* FROM tag t JOIN image i USING (manifest_digest)
          WHERE t.repository = ? AND t.tag = ?
          """, arguments: [repository, tag]
      ).map { try Self.imageRecord($0, reference: "\(repository):\(tag)") }
    }
  }

  func image(manifestDigest: String, reference: String) throws -> ImageRecord? {
    try read("find image") { db in
      try Row.fetchOne(db, sql: "SELECT * FROM image WHERE manifest_digest = ?", arguments: [manifestDigest])
        .map { try Self.imageRecord($0, reference: reference) }
    }
  }

  /// Removes one tag, or every tag of `digest` in `repository`.
  func removeTags(repository: String, tag: String?, digest: String?) throws {
    try write("remove image") { db in
      if let tag {
        try db.execute(
          sql: "DELETE FROM tag WHERE repository = ? AND tag = ?", arguments: [repository, tag])
      } else if let digest {
        try db.execute(
          sql: "DELETE FROM tag WHERE repository = ? AND manifest_digest = ?",
          arguments: [repository, digest])
      }
    }
  }

  /// Deletes images no tag points to and returns them (their blobs/trees may be freed).
  func deleteUntaggedImages() throws -> [ImageRecord] {
    try write("purge images") { db in
      let rows = try Row.fetchAll(
        db,
        sql: "SELECT * FROM image WHERE manifest_digest NOT IN (SELECT manifest_digest FROM tag)")
      let records = try rows.map { try Self.imageRecord($0, reference: "") }
      for r in records {
        try db.execute(sql: "DELETE FROM image WHERE manifest_digest = ?", arguments: [r.manifest_digest])
      }
      return records
    }
  }

  func allImageRows() throws -> [ImageRecord] {
    try read("list images") { db in
      try Row.fetchAll(db, sql: "SELECT * FROM image").map { try Self.imageRecord($0, reference: "") }
    }
  }

  private static func imageRecord(_ row: Row, reference: String) throws -> ImageRecord {
    ImageRecord(
      image_reference: reference,
      digest: row["xc_digest"],
      manifest: try decode(JailImage.self, row["jail_image"]),
      manifest_digest: row["manifest_digest"],
      chain_id: row["chain_id"],
      layers: try decode([String].self, row["layers"]),
      created: row["created"])
  }

  // MARK: - Containers

  /// Saves a container's row; durable against power loss only when it is to be kept after the
  /// container ends (`no_clean`): the others describe processes and mounts a power loss ends.
  func saveContainer(_ record: ContainerRecord) throws {
    let json = try Self.encode(record)
    try write("save container", durability: record.no_clean ? .full : .processCrash) { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO container (id, name, record) VALUES (?, ?, ?)",
        arguments: [record.id, record.name, json])
    }
  }

  func deleteContainer(id: String) throws {
    // Lost at a power loss, the row only has the next start tear down again what is gone.
    try write("delete container", durability: .processCrash) { db in
      try db.execute(sql: "DELETE FROM container WHERE id = ?", arguments: [id])
    }
  }

  func containers() throws -> [ContainerRecord] {
    try read("list containers") { db in
      try String.fetchAll(db, sql: "SELECT record FROM container ORDER BY rowid")
        .map { try Self.decode(ContainerRecord.self, $0) }
    }
  }

  // MARK: - JSON

  static func encode<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
  }
}
