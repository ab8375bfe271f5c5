import Glibc

/// Linux interface names as the engine accepts them: the rule is `Names.interface` (one
/// place for every name the daemon checks); this keeps the engine's call sites short.
enum InterfaceName {
  static func validate(_ name: String, field: String) throws {
    try Names.interface(name, field: field)
  }
}
