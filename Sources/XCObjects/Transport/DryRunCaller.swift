import Foundation
import SystemPackage
import XCIPC
import XCShell
import XCSystem

/// `--dry-run`: reads go to the daemon (or answer empty when none answers); no mutating call
/// reaches it. Each mutating call is written once as a plan line and answered with a
/// placeholder, so the script goes on:
///
///     + instantiate image=busybox:latest name=web network=front cmd="sleep 100"
///     + kill_container name=web
///
/// Placeholder ids count up from `dry-run-1` in call order, so the same script against the same
/// daemon state prints the same plan. A placeholder container can be shown (`show`, `run -d`);
/// processes "exit" at once with status 0.
final class DryRunCaller: XCCaller, @unchecked Sendable {
  let inner: any XCCaller
  let write: @Sendable (String) -> Void
  private let lock = NSLock()
  private var counter = 0
  /// Placeholder containers by id and by name.
  private var containers: [String: ContainerManifest] = [:]
  /// References of images planned by a pull, an import, a commit or a tag: their
  /// `describe_image` (and a pull's `download_stat` polls) are answered here, since the daemon
  /// has no such image or task.
  private var pulls: Set<String> = []

  private func plan(image references: String...) {
    lock.lock()
    pulls.formUnion(references)
    lock.unlock()
  }

  init(inner: any XCCaller, write: @escaping @Sendable (String) -> Void) {
    self.inner = inner
    self.write = write
  }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    if XCMethods.effect(of: R.method) == .read { return try read(request, timeout: timeout) }
    write(Self.planLine(request))
    return try placeholder(request)
  }

  // MARK: - Reads

  private func read<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    if let show = request as? ShowContainerRequest, let c = placeholderContainer(show.id),
      let r = ShowContainerResponse(runningContainer: c, containerDead: false) as? R.Response
    {
      return r
    }
    if let answer = pullAnswer(request) { return answer }
    do {
      return try inner.call(request, timeout: timeout)
    } catch {
      guard error.code == .noDaemon, let empty = Self.empty(R.Response.self) else { throw error }
      return empty
    }
  }

  private func placeholderContainer(_ key: String) -> ContainerManifest? {
    lock.lock()
    defer { lock.unlock() }
    return containers[key]
  }

  /// A planned pull's progress (done at once) and a planned image (a placeholder without layers).
  private func pullAnswer<R: XCRequest>(_ request: R) -> R.Response? {
    lock.lock()
    let planned = pulls
    lock.unlock()
    if let stat = request as? DownloadStatRequest, planned.contains(stat.imageReference) {
      return ImportImageStatus(state: .done) as? R.Response
    }
    if let describe = request as? DescribeImageRequest, planned.contains(describe.imageReference) {
      let ref = Value.string(describe.imageReference).toJSON()
      let text = #"{"image_reference":\#(ref),"chain_id":"dry-run","digest":"dry-run","dataset_id":"dry-run","#
        + #""jail_image":{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"history":[]}}"#
      return try? WireDecoder().decode(R.Response.self, from: Array(text.utf8))
    }
    return nil
  }

  /// The empty answer of a read (`[]`, `{}` or `null`, whichever the type takes).
  static func empty<T: Decodable>(_ type: T.Type) -> T? {
    for text in ["[]", "{}", "null", #"{"manifests":[]}"#] {
      if let v = try? WireDecoder().decode(T.self, from: Array(text.utf8)) { return v }
    }
    return nil
  }

  // MARK: - Placeholders

  private func nextID() -> String {
    lock.lock()
    defer { lock.unlock() }
    counter += 1
    return "dry-run-\(counter)"
  }

  private func placeholder<R: XCRequest>(_ request: R) throws(IPCError) -> R.Response {
    let answer: Any
    switch request {
    case let r as InstantiateRequest:
      let id = nextID()
      let c = ContainerManifest(
        devfsRulesetId: 0, jid: 0, name: r.name ?? id, root: "", id: id, mainProto: nil,
        imageReference: r.imageReference)
      lock.lock()
      containers[id] = c
      containers[c.name] = c
      lock.unlock()
      Self.signal(r.mainStartedNotify, 1)
      Self.signal(r.mainExitedFd, ProcessNotification.encodeExit(.exited(0)))
      answer = InstantiateResponse(id: id, requireClearence: [])
    case let r as ExecRequest:
      Self.signal(r.notify, ProcessNotification.encodeExit(.exited(0)))
      answer = SpawnInfo(pid: 0)
    case let r as RunMainRequest:
      Self.signal(r.notify, 1)
      answer = ContainerIDResponse(id: r.name)
    case let r as ContinueInstantiateRequest:
      answer = ContainerIDResponse(id: r.id)
    case let r as CommitRequest:
      if r.altOut == nil { plan(image: "\(r.name):\(r.tag)") }
      answer = CommitResponse(commitId: nextID())
    case let r as PullImageRequest:
      lock.lock()
      pulls.insert(r.imageReference)
      if let local = r.renameReference { pulls.insert(local) }
      lock.unlock()
      answer = PullImageResponse(existed: false)
    case let r as FdImportRequest:
      plan(image: r.imageReference)
      answer = nextID()
    case let r as TagImageRequest:
      plan(image: r.newReference)
      return try Self.emptyAnswer(R.self)
    case let r as ReplaceMetaRequest:
      // The image as it would be: no layers, the new configuration.
      answer = JailImage(architecture: "", os: "", config: ImageConfig(xcExtension: r.config), rootfs: RootFS(diffIds: []))
    case let r as RdrRequest:
      answer = r  // xcd echoes the request.
    default:
      return try Self.emptyAnswer(R.self)
    }
    guard let typed = answer as? R.Response else {
      throw IPCError(.system, method: R.method, "--dry-run has no stand-in answer for `\(R.method)`")
    }
    return typed
  }

  private static func emptyAnswer<R: XCRequest>(_: R.Type) throws(IPCError) -> R.Response {
    guard let empty = empty(R.Response.self) else {
      throw IPCError(.system, method: R.method, "--dry-run has no stand-in answer for `\(R.method)`")
    }
    return empty
  }

  /// Tells a waiting client that the "process" started or ended (eventfd value).
  private static func signal(_ ref: FDRef?, _ value: UInt64) {
    guard let fd = ref?.descriptor else { return }
    try? EventFD(fd).write(value)
  }

  // MARK: - Plan lines

  /// Wire keys shown under a shorter name.
  static let shortNames = ["image_reference": "image", "container_name": "container"]
  /// Descriptor fields: their numbers mean nothing to a reader.
  static let descriptorKeys: Set<String> = [
    "fd", "alt_out", "extra_layers", "main_started_notify", "main_exited_fd", "stdin", "stdout", "stderr",
    "evid", "source", "notify",
  ]

  /// `+ METHOD key=value …`: the request's non-empty fields in wire order.
  static func planLine<R: XCRequest>(_ request: R) -> String {
    var fds: [FileDescriptor] = []
    var words = ["+", R.method]
    guard let bytes = try? WireEncoder().encode(request, descriptors: &fds),
      let v = try? Value.fromJSON(String(decoding: bytes, as: UTF8.self))
    else { return words.joined(separator: " ") + "\n" }
    switch v.kind {
    case .record(let fields):
      if let r = request as? InstantiateRequest {
        words += instantiateWords(r)
      } else if let r = request as? ExecRequest {
        words += ["container=\(quoted(r.name))", "cmd=\(quoted(([r.arg0] + r.args).joined(separator: " ")))"]
        if let u = r.user { words.append("user=\(quoted(u))") }
        if !r.envs.isEmpty {
          words.append("env=\(quoted(r.envs.keys.sorted().map { "\($0)=\(r.envs[$0]!)" }.joined(separator: ",")))")
        }
      } else {
        for (k, field) in fields where !descriptorKeys.contains(k) {
          if let text = wordValue(field) { words.append("\(shortNames[k] ?? k)=\(text)") }
        }
      }
    default:
      if let text = wordValue(v) { words.append(text) }
    }
    return words.joined(separator: " ") + "\n"
  }

  /// instantiate's plan: image, name, networks, command, then the other set fields.
  static func instantiateWords(_ r: InstantiateRequest) -> [String] {
    var words = ["image=\(quoted(r.imageReference))"]
    if let n = r.name { words.append("name=\(quoted(n))") }
    let nets = r.ipreq.map { req -> String in
      switch req {
      case .any(let network): network
      case .explicit(let network, let ip): "\(network):\(ip)"
      }
    }
    if !nets.isEmpty { words.append("network=\(quoted(nets.joined(separator: ",")))") }
    if let e = r.entryPoint {
      words.append("cmd=\(quoted(([e.entryPoint].compactMap { $0 } + e.entryPointArgs).joined(separator: " ")))")
    }
    if let h = r.hostname { words.append("hostname=\(quoted(h))") }
    if !r.envs.isEmpty {
      words.append("env=\(quoted(r.envs.keys.sorted().map { "\($0)=\(r.envs[$0]!)" }.joined(separator: ",")))")
    }
    if !r.mountReq.isEmpty {
      let mounts = r.mountReq.map { "\($0.source):\($0.dest)\($0.readOnly ? ":ro" : "")" }
      words.append("mounts=\(quoted(mounts.joined(separator: ",")))")
    }
    if !r.portRedirections.isEmpty {
      words.append("publish=\(quoted(r.portRedirections.map(publishWord).joined(separator: ",")))")
    }
    // Every other field that differs from an `instantiate` with only the image: nothing that
    // changes the request is left out of the plan.
    let shown: Set = [
      "image_reference", "name", "ipreq", "entry_point", "hostname", "envs", "mount_req", "port_redirections",
    ]
    if case .record(let given) = jsonValue(r).kind, case .record(let plain) = jsonValue(InstantiateRequest(imageReference: r.imageReference)).kind {
      for (k, field) in given where !shown.contains(k) && !descriptorKeys.contains(k) && plain[k] != field {
        // `[]` where the default is `null` (or the reverse) changes nothing worth a word.
        if wordValue(field) == nil, plain[k].flatMap(wordValue) == nil { continue }
        words.append("\(k)=\(wordValue(field) ?? field.toJSON())")
      }
    }
    return words
  }

  /// `-p`'s words back: `[ADDR:]PORT[-END]:DEST/PROTO[+PROTO]`.
  static func publishWord(_ p: PortRedirection) -> String {
    let source: String
    switch p.sourcePort {
    case .single(let n): source = "\(n)"
    case .range(let a, let b): source = "\(a)-\(b)"
    }
    let protos = p.proto.map { jsonValue($0).toJSON().trimmingCharacters(in: ["\""]).lowercased() }.joined(separator: "+")
    let addresses = (p.addresses ?? []).map { $0 + ":" }.joined()
    return "\(addresses)\(source):\(p.destAddr.map { $0 + ":" } ?? "")\(p.destPort)/\(protos)"
  }

  private static func jsonValue<T: Encodable>(_ x: T) -> Value {
    var fds: [FileDescriptor] = []
    guard let b = try? WireEncoder().encode(x, descriptors: &fds) else { return .null }
    return (try? Value.fromJSON(String(decoding: b, as: UTF8.self))) ?? .null
  }

  /// A field as one word, or nil when it is empty (null, false, "", [], {}). Paths (xc's
  /// `{"Unix": [bytes]}`) are shown as paths.
  static func wordValue(_ v: Value) -> String? {
    let v = readable(v)
    switch v.kind {
    case .null: return nil
    case .bool(let b): return b ? "true" : nil
    case .string(let s): return s.isEmpty ? nil : quoted(s)
    case .int, .float: return v.toJSON()
    case .list(let items):
      if items.isEmpty { return nil }
      if items.allSatisfy({ if case .string = $0.kind { true } else { false } }) {
        return quoted(items.compactMap { if case .string(let s) = $0.kind { s } else { nil } }.joined(separator: ","))
      }
      return v.toJSON()
    case .record(let r): return r.isEmpty ? nil : v.toJSON()
    default: return v.toJSON()
    }
  }

  /// The value with every `{"Unix": [bytes]}` (an `OsString`) replaced by its text.
  static func readable(_ v: Value) -> Value {
    switch v.kind {
    case .record(let r):
      if r.count == 1, case .list(let bytes)? = r["Unix"]?.kind {
        let octets = bytes.compactMap { b -> UInt8? in if case .int(let i) = b.kind { UInt8(exactly: i) } else { nil } }
        if octets.count == bytes.count { return .string(String(decoding: octets, as: UTF8.self), v.span) }
      }
      var out = Record()
      for (k, field) in r { out[k] = readable(field) }
      return .record(out, v.span)
    case .list(let items): return .list(items.map(readable), v.span)
    default: return v
    }
  }

  /// Bare when it is one plain word, else a JSON string.
  static func quoted(_ s: String) -> String {
    let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && $0 != "\"" && $0 != "\\" }
    return plain ? s : Value.string(s).toJSON()
  }
}
