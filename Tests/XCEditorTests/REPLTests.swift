import Foundation
import Testing
import XCTestSupport

/// The interactive shell driven through a real pseudo-terminal (tmux).
@Suite(.serialized) struct REPLTests {
  /// capture-pane drops trailing spaces, so the prompt is matched without its last one.
  let prompt = "[none.sock down] >"

  @Test func typingAndEvaluation() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("print (1 + 2)")
    try t.press("Enter")
    try t.waitFor("\n3\n")
  }

  @Test func tabCompletesCommandsFlagsVariablesAndFields() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("sort-b")
    try t.press("Tab")
    try t.waitFor("completed command") { $0.contains("> sort-by") }
    try t.type("--")
    try t.press("Tab", "Tab")
    try t.waitFor("--reverse  Descending order.")
    try t.press("C-u")
    try t.type("let myrecord = {name: web, port: 80}")
    // The completion listing redrew the prompt, so count the prompts already on the screen.
    let prompts = try t.screen().components(separatedBy: prompt).count - 1
    try t.press("Enter")
    try t.waitForEditor(prompt, count: prompts + 1)
    try t.type("print $myr")
    try t.press("Tab")
    try t.waitFor("completed variable") { $0.contains("> print $myrecord") }
    try t.type(".po")
    try t.press("Tab")
    try t.waitFor("completed field") { $0.contains("> print $myrecord.port") }
    try t.press("Enter")
    try t.waitFor("\n80\n")
    try t.type("str up")
    try t.press("Tab")
    try t.waitFor("completed sub-command") { $0.contains("> str upcase") }
  }

  @Test func multiLineBlockContinues() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("if true {")
    try t.press("Enter")
    try t.waitFor("...")
    try t.type("print inside")
    try t.press("Enter")
    try t.type("}")
    try t.press("Enter")
    try t.waitFor("\ninside\n")
  }

  @Test func ctrlCStopsSleepAndTheSessionContinues() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("let kept = 42")
    try t.press("Enter")
    // The echo of the line comes before evaluation starts; `started` says the line is running
    // (a Ctrl-C before that would only clear libedit's line).
    try t.type("print started; sleep 30s")
    try t.press("Enter")
    try t.waitFor("sleep started") { $0.contains("\nstarted\n") }
    try t.press("C-c")
    try t.waitFor("[130] >")
    try t.type("print $kept")
    try t.press("Enter")
    try t.waitFor("\n42\n")
  }

  @Test func ctrlCClearsTheLineBeingTyped() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("this is not run")
    try t.press("C-c")
    try t.waitForEditor(prompt, count: 2)
    try t.type("print fresh")
    try t.press("Enter")
    try t.waitFor("\nfresh\n")
    #expect(!(try t.screen()).contains("error"))
  }

  @Test func errorThenWorkingLineKeepsVariables() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.type("let a = 5")
    try t.press("Enter")
    try t.type("print $nope")
    try t.press("Enter")
    try t.waitFor("error: no variable named `$nope`")
    try t.waitFor("--> <repl>:1:7")
    try t.type("print $a")
    try t.press("Enter")
    try t.waitFor("\n5\n")
  }

  @Test func historyIsRecalledAfterARestartAndSearchedWithCtrlR() throws {
    let home = NSTemporaryDirectory() + "xcsh-pty-" + UUID().uuidString
    let first = try TmuxSession(home: home)
    try first.waitForEditor(prompt)
    try first.type("print remembered-line")
    try first.press("Enter")
    try first.type(" print secret")  // a leading space keeps it out of history
    try first.press("Enter")
    try first.waitFor("\nsecret\n")
    try first.press("C-d")
    try first.waitFor("exit", timeout: 10) { _ in !first.isRunning }
    _ = try? first.tmux(["kill-server"])

    let second = try TmuxSession(home: home)
    defer { second.close() }
    try second.waitForEditor(prompt)
    try second.press("C-r")
    try second.type("rememb")
    try second.waitFor("searched") { $0.contains("print remembered-line") }
    try second.press("Enter")
    try second.waitFor("\nremembered-line\n")
    try second.press("Up")
    try second.waitFor("recalled") { $0.contains(">print remembered-line") || $0.hasSuffix("> print remembered-line\n") || $0.components(separatedBy: "> print remembered-line").count >= 3 }
    let history = try String(contentsOfFile: home + "/.local/state/xcsh/history", encoding: .utf8)
    // The file is an append log (compacted when it grows): the line is there, the secret never.
    #expect(history.contains("print remembered-line\n"))
    #expect(!history.contains("secret"))
  }

  @Test func ctrlDOnAnEmptyLineExits() throws {
    let t = try TmuxSession()
    defer { t.close() }
    try t.waitForEditor(prompt)
    try t.press("C-d")
    try t.waitFor("exit") { _ in !t.isRunning }
  }
}
