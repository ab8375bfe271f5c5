import Foundation
import GRDB
import Testing

@testable import XCEngine

/// The state database's durability (docs/engine.md, "State durability"): WAL, every write
/// synced unless it says otherwise, and a write without a sync never leaves the connection
/// unsynced for the next one.
@Suite("State durability")
struct StateDurabilityTests {
  func store() throws -> (StateStore, String) {
    var template = Array("/tmp/xcengine-state-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp") }
    let dir = String(cString: p)
    return (try StateStore(path: dir + "/xcd.sqlite"), dir)
  }

  func pragmas(_ store: StateStore) throws -> (journal: String?, synchronous: Int?) {
    try store.db.read { db in
      (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
    }
  }

  func record(_ id: String, noClean: Bool) -> ContainerRecord {
    ContainerRecord(
      id: id, name: "c-\(id)", named: true, hostname: "h", image_reference: "busybox:latest",
      image_digest: "sha256:00", root: "/r", status: .running, pid: 42, main_proto: nil, created: 1,
      started: 2, finished_at: nil, exit_status: nil, fault: nil, persist: false, no_clean: noClean)
  }

  @Test func walAndFullByDefault() throws {
    let (store, dir) = try store()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = try pragmas(store)
    #expect(p.journal == "wal")
    #expect(p.synchronous == 2, "synchronous = FULL")
  }

  @Test func unsyncedWritesCommitAndRestoreFull() throws {
    let (store, dir) = try store()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try store.saveContainer(record("a1", noClean: false))
    #expect(try pragmas(store).synchronous == 2)
    try store.saveContainer(record("b2", noClean: true))
    #expect(try store.containers().map(\.id) == ["a1", "b2"])
    try store.deleteContainer(id: "a1")
    #expect(try pragmas(store).synchronous == 2)
    #expect(try store.containers().map(\.id) == ["b2"])
    // A failing unsynced write rolls back and still restores FULL.
    struct Boom: Error {}
    #expect(throws: EngineError.self) {
      try store.write("fail", durability: .processCrash) { db in
        try db.execute(sql: "DELETE FROM container")
        throw Boom()
      }
    }
    #expect(try pragmas(store).synchronous == 2)
    #expect(try store.containers().map(\.id) == ["b2"])
    // What was committed is in the file: a second connection reads it.
    let other = try DatabaseQueue(path: dir + "/xcd.sqlite")
    #expect(try other.read { try String.fetchAll($0, sql: "SELECT id FROM container") } == ["b2"])
  }
}
