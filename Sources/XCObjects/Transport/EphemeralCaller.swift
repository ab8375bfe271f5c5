import Foundation
import XCIPC

/// `--ephemeral`: passes each call on and remembers what the script created, observed from
/// successful calls (`instantiate`, `create_network`, `create_volume`, `commit`, `fd_import`,
/// a `pull_image` or `xcsh.tag_image` of a reference that was not there); what the script removes itself is forgotten.
/// `cleanUp()` removes the rest in reverse order of creation.
final class EphemeralCaller: XCCaller, @unchecked Sendable {
  /// Something the script created.
  enum Created: Equatable, CustomStringConvertible {
    case container(id: String, name: String)
    case network(String)
    case volume(String)
    case image(String)

    var description: String {
      switch self {
      case .container(let id, let name): "container \(name == id ? id : "\(name) (\(id))")"
      case .network(let n): "network \(n)"
      case .volume(let n): "volume \(n)"
      case .image(let r): "image \(r)"
      }
    }
  }

  let inner: any XCCaller
  private let lock = NSLock()
  private(set) var created: [Created] = []

  init(inner: any XCCaller) { self.inner = inner }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    // Whether a pulled image or a new tag is new: only new ones are the script's to remove.
    var pulledExisted = false
    if let p = request as? PullImageRequest {
      pulledExisted = (try? inner.call(DescribeImageRequest(imageReference: p.renameReference ?? p.imageReference))) != nil
    }
    if let t = request as? TagImageRequest {
      pulledExisted = (try? inner.call(DescribeImageRequest(imageReference: t.newReference))) != nil
    }
    let r = try inner.call(request, timeout: timeout)
    lock.lock()
    defer { lock.unlock() }
    switch request {
    case let q as InstantiateRequest:
      if let id = (r as? InstantiateResponse)?.id { created.append(.container(id: id, name: q.name ?? id)) }
    case let q as CreateNetworkRequest: created.append(.network(q.name))
    case let q as CreateVolumeRequest: created.append(.volume(q.name))
    // With `alt_out` the layer only goes to the descriptor: no image is made.
    case let q as CommitRequest where q.altOut == nil: created.append(.image("\(q.name):\(q.tag)"))
    case let q as FdImportRequest: created.append(.image(q.imageReference))
    case let q as PullImageRequest where !pulledExisted:
      created.append(.image(q.renameReference ?? q.imageReference))
    case let q as TagImageRequest where !pulledExisted: created.append(.image(q.newReference))
    case let q as KillContainerRequest:
      created.removeAll { if case .container(let id, let name) = $0 { id == q.name || name == q.name } else { false } }
    case let q as RemoveNetworkRequest: created.removeAll { $0 == .network(q.name) }
    case let q as RemoveVolumeRequest: created.removeAll { $0 == .volume(q.name) }
    case let q as RemoveImageRequest: created.removeAll { $0 == .image(q.imageReference) }
    default: break
    }
    return r
  }

  /// Removes what is left, newest first; a container is waited for (bounded) before the
  /// networks and volumes it used. Returns what was removed and the failures, as lines.
  func cleanUp() -> (removed: [Created], failures: [String]) {
    lock.lock()
    let todo = created.reversed()
    created = []
    lock.unlock()
    var removed: [Created] = []
    var failures: [String] = []
    let live = Set(((try? inner.call(ContainerNamesRequest())) ?? []).flatMap { [$0.id, $0.name] })
    var killed: [String] = []
    for item in todo {
      do throws(IPCError) {
        switch item {
        case .container(let id, _):
          guard live.contains(id) else { continue }  // it ended and was removed already
          _ = try inner.call(KillContainerRequest(name: id))
          killed.append(id)
        case .network(let n):
          try waitGone(killed)
          _ = try inner.call(RemoveNetworkRequest(name: n))
        case .volume(let n):
          try waitGone(killed)
          _ = try inner.call(RemoveVolumeRequest(name: n))
        case .image(let r):
          try waitGone(killed)
          _ = try inner.call(RemoveImageRequest(imageReference: r))
        }
        removed.append(item)
      } catch {
        failures.append("cannot remove \(item): \(error)")
      }
    }
    do throws(IPCError) { try waitGone(killed) } catch { failures.append("\(error)") }
    return (removed, failures)
  }

  /// xc's `kill_container` answers before the teardown ends: wait (bounded) until the daemon no
  /// longer lists the containers.
  private func waitGone(_ ids: [String]) throws(IPCError) {
    if ids.isEmpty { return }
    let deadline = Date().addingTimeInterval(60)
    while true {
      let left = try inner.call(ContainerNamesRequest()).filter { ids.contains($0.id) }
      if left.isEmpty { return }
      if Date() > deadline {
        throw IPCError(.timeout, "containers still stopping after 60 s: \(left.map(\.name).joined(separator: ", "))")
      }
      usleep(50_000)  // polling the daemon, bounded by the deadline
    }
  }
}
