import XCShell

/// xc's nouns, as XCObjects registers them with the language: the types scripts and parameters
/// name (`fn f [c: container]`, `.object(.container)`) and how a terminal shows each.
extension ObjectType {
  public static let container: Self = "container"
  public static let image: Self = "image"
  public static let network: Self = "network"
  public static let volume: Self = "volume"
}

enum ObjectNouns {
  /// Every kind of object the daemon serves.
  static let all: [ObjectKind] = [
    ObjectKind(
      .container,
      columns: [
        .init("name", ["name"]), .init("id", ["id"]), .init("image", ["image_reference"]), .init("status", ["status"]),
        .init("ip", ["ip"]), .init("ports", ["ports"], format: joined), .init("age", ["created"]),
      ],
      brief: [
        .init("name", ["name"]), .init("id", ["id"]), .init("status", ["status"]), .init("image", ["image_reference"]),
        .init("ip", ["ip"]), .init("exit", ["exit_code"], format: { .string("exit \($0.plain)") }),
      ]),
    ObjectKind(
      .image,
      columns: [
        .init("reference", ["image_reference"]), .init("digest", ["digest"], format: shortDigest),
        .init("os", ["manifest", "os"]), .init("arch", ["manifest", "architecture"]),
        .init("layers", ["manifest", "rootfs", "diff_ids"], format: count),
      ],
      brief: [.init("reference", ["image_reference"]), .init("digest", ["digest"])]),
    ObjectKind(.network, brief: [.init("name", ["name"]), .init("subnet", ["subnet"]), .init("bridge", ["bridge_iface"])]),
    ObjectKind(.volume, brief: [.init("name", ["name"]), .init("driver", ["driver"]), .init("device", ["device"])]),
  ]

  /// Registers the nouns with the language; done as the object commands are made.
  static func register() { ObjectKinds.register(all) }

  /// A digest's first 12 hex digits, as `docker images` shows them.
  @Sendable static func shortDigest(_ v: Value) -> Value {
    guard case .string(let d) = v.kind else { return v }
    return .string(String(d.split(separator: ":").last?.prefix(12) ?? ""))
  }

  /// A list of strings as one cell, as `docker ps` shows its ports: `8080->80/tcp, 53->53/udp`.
  @Sendable static func joined(_ v: Value) -> Value {
    guard case .list(let l) = v.kind else { return v }
    return .string(l.map(\.plain).joined(separator: ", "))
  }

  /// A list's length (an image's layers).
  @Sendable static func count(_ v: Value) -> Value {
    guard case .list(let l) = v.kind else { return v }
    return .int(l.count)
  }
}
