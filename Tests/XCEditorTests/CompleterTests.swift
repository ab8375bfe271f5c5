import Foundation
import Testing
import XCShell

@testable import XCEditor

/// Completion without a terminal: what Tab offers for the text before the cursor.
@Suite struct CompleterTests {
  let shell: Shell
  let completer: Completer

  init() throws {
    shell = Shell(options: ShellOptions())
    _ = try shell.evaluate(SourceMap.shared.add(name: "<t>", text: "let server = {name: web, ports: {http: 80}}\nfn deploy [name: string, --replicas: int] { }"))
    completer = Completer(shell: shell, objectNames: { t in t == "container" ? ["web-1", "web-2", "db"] : [] })
  }

  func texts(_ s: String) -> [String] { completer.complete(s).candidates.map(\.text) }

  @Test func commandsAndFunctions() {
    #expect(texts("sort-") == ["sort-by"])
    #expect(texts("depl") == ["deploy"])
    #expect(texts("[1] | firs") == ["first"])
  }

  /// Inside `on HOST { … }` object names come from that host (docs/remote.md).
  @Test func objectNamesComeFromTheEnclosingOnHost() {
    func host(_ s: String) -> String? { Completer.enclosingHost(Array(s)) }
    #expect(host("on web1 { kill ") == "web1")
    #expect(host("on web1 { ps }; kill ") == nil)
    #expect(host("on a { each {|x| kill ") == "a")
    #expect(host("on a { on b { ps ") == "b")
    #expect(host("on a { on b { ps }; kill ") == "a")
    #expect(host("on $h { kill ") == nil)
    #expect(host("on a { print \"}\"; kill ") == "a")
    #expect(host("on ssh://ops@x:2222 { kill ") == "ssh://ops@x:2222")
    shell.evaluator.registry.register(
      Builtin(Signature("kill-test", category: .objects, summary: "t", parameters: [.required("c", .object("container"), "")])) { _, _ in .empty })
    let byHost = Completer(shell: shell, hostObjectNames: { t, h in t == "container" ? ["\(h ?? "here")-1"] : [] })
    #expect(byHost.complete("on web1 { kill-test w").candidates.map(\.text) == ["web1-1"])
    #expect(byHost.complete("on web1 { ps }; kill-test h").candidates.map(\.text) == ["here-1"])
    // The one-host form offers nothing inside another host's block rather than wrong names.
    #expect(texts("on web1 { kill-test w") == [])
    #expect(texts("kill-test w") == ["web-1", "web-2"])
  }

  @Test func newKeywords() {
    #expect(texts("matc") == ["match"])
    #expect(texts("cons") == ["const"])
  }

  @Test func subCommands() {
    #expect(texts("str up") == ["upcase"])
    #expect(texts("math s").contains("sum"))
  }

  @Test func flagsWithDescriptions() {
    let c = completer.complete("sort-by --").candidates
    #expect(c.map(\.text) == ["--reverse", "--natural", "--help"])
    #expect(c[0].description == "Descending order.")
    #expect(texts("deploy web --rep") == ["--replicas"])
  }

  @Test func variablesAndFields() {
    #expect(texts("print $serv") == ["$server"])
    #expect(texts("print $server.po") == ["$server.ports"])
    #expect(texts("print $server.ports.h") == ["$server.ports.http"])
    #expect(texts("print $nothing.x").isEmpty)
  }

  @Test func filePaths() throws {
    let dir = NSTemporaryDirectory() + "xcsh-complete-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: dir + "/file.txt", contents: Data())
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let c = completer.complete("open \(dir)/").candidates
    #expect(c.map(\.text) == ["\(dir)/file.txt", "\(dir)/sub/"])
    #expect(c[1].suffix == "")
  }

  @Test func objectNamesWhereACommandExpectsThem() {
    let registry = shell.evaluator.registry
    registry.register(
      Builtin(Signature("kill-test", category: .objects, summary: "t", parameters: [.required("c", .object("container"), "")])) { _, _ in .empty })
    #expect(texts("kill-test web") == ["web-1", "web-2"])
  }

  @Test func neverThrowsOnOddInput() {
    for s in ["", "|", "$", "$.", "(((", "\"unterminated", "--", "^", "{|x|", "print $server.ports.http.x"] {
      _ = completer.complete(s)
    }
  }

  @Test func commonPrefix() {
    #expect(Completer.commonPrefix([.init(text: "web-1"), .init(text: "web-2")]) == "web-")
  }
}
