import Foundation
import Glibc

/// Port redirections (xc's `rdr`) of live containers; the rules themselves are `Redirects`'.
extension Engine {
  /// Adds a redirection to the container's main address (xc's `rdr`); returns it with
  /// `destAddr` filled in.
  public func addRedirect(_ name: String, _ redirect: PortRedirect) throws -> PortRedirect {
    try checkOpen()
    let c = try find(name)
    guard let main = c.record.main_address else {
      throw EngineError(
        .noAddress, "container \(name) has no main address to redirect to",
        help: "give it an address with a network (ipreq) or ips", errno: .invalidArgument)
    }
    let rule = try Redirects.validated(redirect, to: main, container: c.id)
    try portRedirects.install([rule], container: c.id, vnetBridge: networking.bridgeOf(c.record))
    return rule
  }

  /// Every redirection of every container (xc's `list_rdr_rules`).
  public func redirects() throws -> [PortRedirect] { try portRedirects.all() }
}
