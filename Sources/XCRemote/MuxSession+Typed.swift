import XCIPC

extension MuxSession {
  /// Calls `R.method` on the remote daemon with `request` and returns the typed answer, as
  /// `XCClient.call` does locally; each descriptor field crosses as its kind (`DescriptorRoles`).
  public func call<R: XCRequest>(_ request: R, timeout: Duration? = nil) throws(IPCError) -> R.Response {
    let kinds = try DescriptorRoles.kinds(of: request)
    let (body, fds) = try Envelope.encodeRequest(request)
    var descriptors: [RemoteDescriptor] = []
    for fd in fds {
      guard let d = kinds[fd.rawValue] else {
        throw IPCError(.encoding, method: R.method, "host \(host): `\(R.method)` carries a descriptor the relay cannot carry")
      }
      descriptors.append(d)
    }
    let answer = try call(method: R.method, body: body, descriptors: descriptors, timeout: timeout)
    let reply: Envelope.Reply<R.Response>
    do {
      reply = try Envelope.decodeResponse(R.Response.self, from: answer)
    } catch {
      throw IPCError(.decoding, method: R.method, "host \(host): cannot read the daemon's answer: \(Envelope.describe(error))")
    }
    switch reply {
    case .success(let v): return v
    case .failure(let e) where e.errno == XCPeerPolicy.refusedErrno:
      throw IPCError(
        .permissionDenied, method: R.method,
        "host \(host): the daemon at \(relayInfo["socket"] ?? "its socket") refused the connection: \(e.value.text)",
        daemonError: e)
    case .failure(let e):
      throw IPCError(.daemon, method: R.method, "\(XCClient.errnoName(e.errno)): \(e.value.text)", daemonError: e)
    }
  }
}
