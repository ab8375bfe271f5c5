import GRDB

/// Volumes in the state database: one row per volume, the record as JSON.
extension StateStore {
  static func registerVolumeMigrations(_ m: inout DatabaseMigrator) {
    m.registerMigration("volumes: volume table") { db in
      try db.execute(
        sql: """
          CREATE TABLE volume (
            name TEXT PRIMARY KEY NOT NULL,
            record TEXT NOT NULL
          )
          """)
    }
  }

  /// Inserts a new volume; false if the name is taken.
  func insertVolume(_ record: VolumeRecord) throws -> Bool {
    let json = try Self.encode(record)
    return try write("save volume") { db in
      try db.execute(
        sql: "INSERT INTO volume (name, record) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        arguments: [record.name, json])
      return db.changesCount == 1
    }
  }

  func volume(_ name: String) throws -> VolumeRecord? {
    try read("find volume") { db in
      try String.fetchOne(db, sql: "SELECT record FROM volume WHERE name = ?", arguments: [name])
        .map { try Self.decode(VolumeRecord.self, $0) }
    }
  }

  func volumes() throws -> [VolumeRecord] {
    try read("list volumes") { db in
      try String.fetchAll(db, sql: "SELECT record FROM volume ORDER BY name")
        .map { try Self.decode(VolumeRecord.self, $0) }
    }
  }

  func deleteVolume(_ name: String) throws {
    try write("delete volume") { db in
      try db.execute(sql: "DELETE FROM volume WHERE name = ?", arguments: [name])
    }
  }
}
