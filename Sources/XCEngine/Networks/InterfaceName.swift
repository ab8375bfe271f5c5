import Glibc

/// Linux interface names as the engine accepts them: 1 to 15 characters of letters, digits,
/// `_`, `-` and `.`. Checked before any name reaches `ip` or `nft` (whose inputs are
/// line- and token-based).
enum InterfaceName {
  static func validate(_ name: String, field: String) throws {
    let ok =
      (1...15).contains(name.utf8.count)
      && name.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
          || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
      } && name != "." && name != ".."
    guard ok else {
      throw EngineError(
        .badRequest,
        "\(field): \"\(name)\" is not a valid interface name (1-15 letters, digits, _ - .)",
        errno: EINVAL)
    }
  }
}
