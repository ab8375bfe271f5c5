import Foundation
import Glibc

/// The `{"errors": [{"code", "message", "detail"}]}` body registries answer errors with.
struct RegistryErrorBody: Decodable {
  struct Item: Decodable {
    var code: String?
    var message: String?
  }
  var errors: [Item]?

  /// "MANIFEST_UNKNOWN: manifest unknown; …", or the body's first line when it is not JSON.
  static func summary(_ body: [UInt8]) -> String? {
    if let parsed = try? JSONDecoder().decode(Self.self, from: Data(body)), let items = parsed.errors,
      !items.isEmpty
    {
      return items.map { item in
        [item.code, item.message].compactMap { $0 }.joined(separator: ": ")
      }.joined(separator: "; ")
    }
    let text = String(decoding: body.prefix(200), as: UTF8.self)
      .split(separator: "\n").first.map(String.init)?
      .trimmingCharacters(in: .whitespaces)
    return text?.isEmpty == false ? text : nil
  }

  static func codes(_ body: [UInt8]) -> [String] {
    ((try? JSONDecoder().decode(Self.self, from: Data(body)))?.errors ?? []).compactMap(\.code)
  }
}
