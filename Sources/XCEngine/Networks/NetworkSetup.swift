import Foundation

/// A container's networking being set up (see `Engine.startNetwork`).
final class NetworkSetup: Sendable {
  let interfaces: BackgroundWork
  let rules: BackgroundWork?

  init(interfaces: BackgroundWork, rules: BackgroundWork?) {
    self.interfaces = interfaces
    self.rules = rules
  }

  /// Once the namespace exists (runc can join it); an error if making it failed.
  func waitNamespace() -> (any Error)? { interfaces.waitReady() }

  /// Once everything is done; the first error.
  func wait() -> (any Error)? {
    let a = interfaces.wait()
    let b = rules?.wait()
    return a ?? b
  }
}
