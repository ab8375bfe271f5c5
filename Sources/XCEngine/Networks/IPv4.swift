import Glibc

/// An IPv4 address as a number, so ranges and subnets are arithmetic.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var value: UInt32

  public init(_ value: UInt32) { self.value = value }

  /// Parses dotted-quad text (`10.0.0.1`); nil for anything else (IPv6 included).
  public init?(_ text: String) {
    var addr = in_addr()
    guard !text.isEmpty, inet_pton(AF_INET, text, &addr) == 1 else { return nil }
    value = UInt32(bigEndian: addr.s_addr)
  }

  public var description: String {
    "\(value >> 24).\((value >> 16) & 0xff).\((value >> 8) & 0xff).\(value & 0xff)"
  }

  public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// An IPv4 subnet or interface address with its prefix (`10.1.2.3/24`). A bare address
/// means /32, as xc's `IpCidr` reads it.
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
  public var address: IPv4Address
  public var prefix: Int

  public init(address: IPv4Address, prefix: Int) {
    self.address = address
    self.prefix = prefix
  }

  /// Parses `a.b.c.d[/n]`; throws a message naming `field` for anything else.
  public init(parsing text: String, field: String) throws {
    let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard let address = IPv4Address(String(parts[0])) else {
      throw EngineError(
        .badRequest,
        "\(field): \"\(text)\" is not an IPv4 address or subnet"
          + (text.contains(":") ? " (IPv6 is not supported by the Linux xcd yet)" : ""),
        errno: .invalidArgument)
    }
    var prefix = 32
    if parts.count == 2 {
      guard let p = Int(parts[1]), (0...32).contains(p) else {
        throw EngineError(.badRequest, "\(field): bad prefix length in \"\(text)\"", errno: .invalidArgument)
      }
      prefix = p
    }
    self.init(address: address, prefix: prefix)
  }

  public var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
  public var network: IPv4Address { IPv4Address(address.value & mask) }
  public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }

  public func contains(_ a: IPv4Address) -> Bool { a.value & mask == address.value & mask }

  public var description: String { "\(address)/\(prefix)" }
}
