import Foundation
import Testing
import XCShell
import XCSystem

@testable import XCEditor

/// The default prompt names the daemon socket and whether it answers, trying each candidate
/// socket once per prompt.
@Suite struct PromptTests {
  final class NoEditor: LineEditor {
    func read(prompt: String) -> EditorInput { .endOfInput }
    func remember(_ entry: String) {}
    func setMode(_ mode: String) {}
  }

  /// A listening socket and the number of connections made to it since the last count.
  final class Listener {
    let path: String
    let socket: Socket
    init(_ dir: String, _ name: String) throws {
      path = dir + "/" + name
      socket = try Socket.listen(onUnixPath: path)
    }
    func connections() throws -> Int {
      var n = 0
      while try socket.waitReadable(milliseconds: 0) {
        try socket.accept().close()
        n += 1
      }
      return n
    }
  }

  func repl(_ dir: String, socket: String) -> REPL {
    REPL(shell: Shell(options: ShellOptions()), editor: NoEditor(), history: HistoryStore(path: dir + "/history"), socketPath: socket)
  }

  @Test func eachSocketIsTriedOncePerPrompt() throws {
    let dir = NSTemporaryDirectory() + "xcsh-prompt-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let standard = try Listener(dir, "xc.sock")
    let local = try Listener(dir, "xcd.sock")
    defer {
      try? standard.socket.close()
      try? local.socket.close()
    }
    let r = repl(dir, socket: standard.path)
    r.promptSockets = [standard.path, local.path]
    // The default path answers: it is shown, tried once; the local one is not tried.
    #expect(r.makePrompt() == "xcsh [xc.sock up] > ")
    #expect(try standard.connections() == 1 && local.connections() == 0)
    // Nothing at the default path: the local xcd's socket, tried once.
    try standard.socket.close()
    try Socket.unlink(path: standard.path)
    #expect(r.makePrompt() == "xcsh [xcd.sock up] > ")
    #expect(try local.connections() == 1)
    // Neither: the last candidate, down.
    try local.socket.close()
    try Socket.unlink(path: local.path)
    #expect(r.makePrompt() == "xcsh [xcd.sock down] > ")
    // One socket of its own (no candidates set): tried once.
    let own = try Listener(dir, "own.sock")
    defer { try? own.socket.close() }
    #expect(repl(dir, socket: own.path).makePrompt() == "xcsh [own.sock up] > ")
    #expect(try own.connections() == 1)
  }
}
