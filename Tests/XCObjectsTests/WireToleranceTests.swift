import Testing
import XCIPC
import XCShell

@testable import XCObjects

/// Fields xc gives a serde default (`#[serde(default…)]`) decode to that default when the
/// daemon leaves them out, as xc's own client does (issue 18); required ones still fail.
@Suite(.serialized) struct WireToleranceTests {
  @Test func infoWithoutDefaultedFieldsDecodes() throws {
    let fake = try FakeDaemon(replies: [
      "info": FakeDaemon.ok(#"{"config":{"ext_ifs":["em0"],"image_dataset":"zroot/xc/datasets","container_dataset":"zroot/xc/run"}}"#)
    ])
    defer { fake.stop() }
    let v = try xcsh("info | get config | select image_database_store layers_dir devfs_id_offset warn_only | to json", fake)
    #expect(
      v.plain
        == #"{"image_database_store":"/var/db/xc.sqlite","layers_dir":"/var/cache","devfs_id_offset":1000,"warn_only":false}"#)
  }

  @Test func volumesWithoutDefaultedFieldsDecode() throws {
    let fake = try FakeDaemon(replies: [
      "list_volumes": FakeDaemon.ok(#"{"data":{"rw_users":null,"device":"/srv/data","authorized_users":null}}"#)
    ])
    defer { fake.stop() }
    let v = try xcsh("volumes | get 0.driver", fake)
    #expect(v.plain == "directory")
  }

  @Test func aMissingRequiredFieldStillNamesIt() throws {
    let fake = try FakeDaemon(replies: ["info": FakeDaemon.ok(#"{"config":{"ext_ifs":[]}}"#)])
    defer { fake.stop() }
    do {
      _ = try xcsh("info", fake)
      Issue.record("decoded without image_dataset")
    } catch let e as ShellError {
      #expect(e.message.contains("image_dataset"), "\(e.message)")
    }
  }
}
