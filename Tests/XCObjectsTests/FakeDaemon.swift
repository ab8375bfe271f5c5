import Foundation
import Glibc
import Synchronization
import SystemPackage
import XCIPC
import XCObjects
import XCShell
import XCSystem

/// A daemon stand-in on a temporary socket that records every request exactly as it arrives
/// (body bytes, descriptor count) and answers from canned xc responses. Descriptors named by
/// the request are honoured as xcd would: started/exited eventfds are signalled (exit 0).
final class FakeDaemon: @unchecked Sendable {
  struct Request: Equatable, CustomStringConvertible {
    var method: String
    var body: String
    var descriptors: Int
    var description: String { "\(body) [\(descriptors) fds]" }
  }

  let dir: String
  var path: String { dir + "/xc.sock" }
  private let listener: Socket
  private let recorded = Mutex<[Request]>([])
  /// Answers by method: the full response envelope for a request body.
  private let replies: [String: @Sendable (String) -> String]

  init(replies extra: [String: @Sendable (String) -> String] = [:]) throws {
    var template = Array("/tmp/xcsh-fake-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
    dir = String(cString: p)
    var r = FakeDaemon.defaultReplies
    for (k, v) in extra { r[k] = v }
    replies = r
    listener = try Socket.listen(onUnixPath: dir + "/xc.sock")
    let t = Thread { [self] in self.acceptLoop() }
    t.start()
  }

  var requests: [Request] { recorded.withLock { $0 } }
  var methods: [String] { requests.map(\.method) }

  func stop() {
    try? listener.shutdown(.readWrite)
    try? FileManager.default.removeItem(atPath: dir)
  }

  private func acceptLoop() {
    while let s = try? listener.accept() {
      let t = Thread { [self] in self.serve(s) }
      t.start()
    }
    try? listener.close()
  }

  private func serve(_ socket: Socket) {
    let channel = FrameChannel(socket: socket)
    defer { channel.close() }
    while let frame = try? channel.receive() {
      let body = String(decoding: frame.body, as: UTF8.self)
      let method = Envelope.method(of: frame.body) ?? "?"
      recorded.withLock { $0.append(Request(method: method, body: body, descriptors: frame.descriptors.count)) }
      signal(body, frame.descriptors)
      let reply = replies[method]?(body) ?? #"{"errno":2,"value":{"error":"ipc method \#(method) not found"}}"#
      frame.descriptors.closeRemaining()
      try? channel.send(body: Array(reply.utf8))
    }
  }

  /// Writes the notifications the request asks for: started (1) and exit status 0.
  private func signal(_ body: String, _ fds: ReceivedDescriptors) {
    guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
      let value = json["value"] as? [String: Any]
    else { return }
    for key in ["main_started_notify"] {
      if let i = value[key] as? Int, let fd = fds.peek(i) { try? EventFD(fd).write(1) }
    }
    if (json["method"] as? String) == "xcsh.copy_out", let i = value["fd"] as? Int, let fd = fds.peek(i) {
      // A tar of one empty file named as the path's last component, as xcd writes for a file.
      let last = ((value["path"] as? String ?? "") as NSString).lastPathComponent
      let archive = Self.tarOfEmptyFile(named: last.isEmpty || last == "/" ? "file" : last)
      _ = archive.withUnsafeBytes { try? fd.writeAll($0) }
    }
    if (json["method"] as? String) == "run_main", let i = value["notify"] as? Int, let fd = fds.peek(i) {
      try? EventFD(fd).write(1)
    }
    for key in ["main_exited_fd", "notify"] where (json["method"] as? String) != "run_main" {
      if let i = value[key] as? Int, let fd = fds.peek(i) {
        try? EventFD(fd).write(ProcessNotification.encodeExit(.exited(0)))
      }
    }
  }

  /// A ustar archive holding one empty regular file: its header, then the two zero blocks.
  static func tarOfEmptyFile(named name: String) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, at offset: Int) {
      for (i, b) in text.utf8.prefix(100).enumerated() { header[offset + i] = b }
    }
    put(name, at: 0)
    put("0000644", at: 100)
    put("0000000", at: 108)
    put("0000000", at: 116)
    put("00000000000", at: 124)  // size
    put("00000000000", at: 136)  // mtime
    put("        ", at: 148)  // the checksum counts its own field as spaces
    header[156] = UInt8(ascii: "0")
    put("ustar", at: 257)
    put("00", at: 263)
    let sum = header.reduce(0) { $0 + Int($1) }
    put(String(format: "%06o", sum) + "\0 ", at: 148)
    return header + [UInt8](repeating: 0, count: 1024)
  }

  static func snapshot(_ name: String) -> String {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    let path = url.appendingPathComponent("XCIPCTests/Snapshots/responses/\(name).json").path
    return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
  }

  static func ok(_ value: String) -> @Sendable (String) -> String { { _ in #"{"errno":0,"value":\#(value)}"# } }

  /// The answer to `replace_meta`: the JailImage of the `describe_image` example.
  static var jailImage: String {
    let d = try! JSONSerialization.jsonObject(with: Data(snapshot("describe_image").utf8)) as! [String: Any]
    let v = (d["value"] as! [String: Any])["jail_image"]!
    return String(decoding: try! JSONSerialization.data(withJSONObject: v), as: UTF8.self)
  }

  static let defaultReplies: [String: @Sendable (String) -> String] = {
    var r: [String: @Sendable (String) -> String] = [:]
    for m in [
      "instantiate", "show_container", "list_containers", "kill_container", "exec", "describe_image",
      "list_all_images", "remove_image", "list_networks", "create_network", "list_volumes", "create_volume",
      "list_site_rdr", "pull_image",
    ] {
      let text = snapshot(m)
      r[m] = { _ in text }
    }
    r["show_container_nocache"] = r["show_container"]
    r["info"] = ok(
      #"{"config":{"ext_ifs":["em0"],"image_dataset":"zroot/xc/datasets","container_dataset":"zroot/xc/run","default_volume_driver":null,"default_volume_dataset":null,"default_volume_directory":null,"image_database_store":"/var/db/xc.image.sqlite","layers_dir":"/var/cache","logs_dir":"/var/log/xc","devfs_id_offset":1000,"database_store":"/var/db/xc.sqlite","socket_path":"/var/run/xc.sock","registries":"/var/db/xc.registries.json","force_devfs_ruleset":null,"inventory":"/usr/local/etc/inventory.json","warn_only":false}}"#
    )
    r["run_main"] = ok(#"{"id":"5f3c9a7e21b4"}"#)
    r["link"] = ok("{}")
    r["commit"] = ok(#"{"commit_id":"sha256:18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4"}"#)
    r["rdr"] = { body in
      // xcd echoes the request value.
      let start = body.range(of: #""value":"#)!.upperBound
      return #"{"errno":0,"value":"# + body[start...].dropLast() + "}"
    }
    r["list_rdr_rules"] = ok("[]")
    r["purge"] = ok("null")
    r["login"] = ok("null")
    r["push_image"] = ok("{}")
    r["upload_stat"] = ok(
      #"{"layers":["sha256:aa"],"current_upload_idx":null,"push_config":true,"push_manifest":true,"done":true,"fault":null,"bytes":null,"duration_ms":null,"current_layer_size":null}"#
    )
    // The first poll is in progress with xc's quirk fault, the next one done.
    let polls = Mutex(0)
    let inProgress = snapshot("download_stat")
    r["download_stat"] = { _ in
      polls.withLock { n in
        n += 1
        return n == 1 ? inProgress : #"{"errno":0,"value":{"state":"Done","manifest":null,"config":null,"layers":null,"fault":null}}"#
      }
    }
    r["replace_meta"] = { _ in #"{"errno":0,"value":"# + jailImage + "}" }
    r["fd_import"] = ok(#""sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb""#)
    r["xcsh.remove_network"] = ok("null")
    r["xcsh.remove_volume"] = ok("null")
    r["xcsh.tag_image"] = ok("null")
    r["xcsh.copy_in"] = ok("null")
    r["xcsh.copy_out"] = ok("null")
    return r
  }()
}

/// Runs xcsh code in this process against `daemon` and returns the result value.
func xcsh(_ code: String, _ daemon: FakeDaemon) throws -> Value {
  let session = DaemonSession(socketPath: daemon.path)
  let registry = Builtins.registry()
  for c in ObjectCommands.all(session) { registry.register(c) }
  let shell = Shell(options: ShellOptions(), registry: registry)
  return try shell.evaluate(SourceMap.shared.add(name: "<test>", text: code))
}
