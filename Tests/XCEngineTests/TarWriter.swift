import Foundation
import Glibc

/// Writes small tar archives in memory for tests, including malformed and hostile ones.
struct TarWriter {
  private(set) var bytes: [UInt8] = []

  enum Kind: UInt8 {
    case file = 48, hardLink = 49, symlink = 50, directory = 53, pax = 120, gnuLongName = 76
  }

  mutating func add(
    _ name: String, _ kind: Kind = .file, content: String = "", link: String = "",
    mode: UInt32 = 0o644
  ) {
    let data = Array(content.utf8)
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, _ offset: Int, _ length: Int) {
      for (i, b) in Array(text.utf8).prefix(length).enumerated() { header[offset + i] = b }
    }
    func octal(_ value: Int, _ offset: Int, _ length: Int) {
      put(String(value, radix: 8).leftPad(length - 1), offset, length - 1)
    }
    put(name, 0, 100)
    octal(Int(mode), 100, 8)
    octal(Int(getuid()), 108, 8)
    octal(Int(getgid()), 116, 8)
    octal(data.count, 124, 12)
    octal(0, 136, 12)
    header[156] = kind.rawValue
    put(link, 157, 100)
    put("ustar\0", 257, 6)
    put("00", 263, 2)
    for i in 148..<156 { header[i] = 0x20 }
    let sum = header.reduce(0) { $0 + Int($1) }
    put(String(sum, radix: 8).leftPad(6) + "\0 ", 148, 8)
    bytes += header
    bytes += data
    bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
  }

  /// A pax header giving the next member's path.
  mutating func addPaxPath(_ path: String) {
    var record = " path=\(path)\n"
    var length = record.utf8.count
    length += String(length).count
    if String(length).count != String(length - String(length).count).count { length += 1 }
    record = "\(length)" + record
    add("PaxHeader", .pax, content: record)
  }

  mutating func finish() -> [UInt8] {
    bytes + [UInt8](repeating: 0, count: 1024)
  }
}

extension String {
  func leftPad(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}

/// Applies `layers` (each an archive) with a LayerUnpacker onto a fresh directory.
func unpackLayers(_ layers: [[UInt8]], into root: String) throws {
  var unpacker = LayerUnpacker(root: root)
  for layer in layers {
    let path = root + ".layer"
    try Data(layer).write(to: URL(fileURLWithPath: path))
    let fd = open(path, O_RDONLY)
    defer {
      close(fd)
      unlink(path)
    }
    var reader = TarReader(fd: fd)
    try unpacker.apply(&reader)
  }
  unpacker.finish()
}

@testable import XCEngine
