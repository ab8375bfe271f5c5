// libFuzzer target: the xcsh language, from text to result.
//
// Each input is a script: it is parsed (every syntax error must be a diagnostic whose span
// lies inside the text, and must render), then, if it parses, run by a fresh evaluator with
// a command table of pure built-ins (nothing that touches files, sleeps, exits or runs
// programs; PATH is empty so no external command is found). A watchdog interrupts a script
// that runs longer than `budget` (as SIGALRM would); a script that still does not return is a
// hang, reported by libFuzzer's -timeout. Built and run by scripts/fuzz.
import CSupport
import Foundation
import Synchronization

@testable import XCShell

/// Built-ins a fuzzed script must not reach: side effects and waits.
let excluded: Set<String> = [
  "exit", "sleep", "open", "save", "complete", "retry", "timeout", "par-each", "help",
  "glob", "path exists", "path expand", "cd",
]
let registry = CommandRegistry(Builtins.all.filter { !excluded.contains($0.signature.name) })

/// How long one script may run before the watchdog interrupts it.
let budget: UInt64 = 200_000_000  // ns
let started = Atomic<UInt64>(0)  // 0: idle

let setUp: Void = {
  // The scripts' output goes nowhere; libFuzzer reports on stderr.
  let null = open("/dev/null", O_WRONLY)
  dup2(null, 1)
  let watchdog = Thread {
    while true {
      usleep(10_000)
      let t = started.load(ordering: .acquiring)
      if t != 0, DispatchTime.now().uptimeNanoseconds - t > budget {
        cs_signal_raise_pending(SIGALRM)
      }
    }
  }
  watchdog.start()
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  _ = setUp
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let source = Source(id: SourceID(rawValue: 1), name: "fuzz.xcs", text: text)

  var parser = Parser(source: source, context: registry)
  _ = parser.parseProgram()
  for e in parser.errors {
    for label in e.labels {
      precondition(
        label.span.start <= label.span.end && Int(label.span.end) <= source.bytes.count,
        "diagnostic span \(label.span) outside the \(source.bytes.count)-byte source: \(e)")
    }
    precondition(!e.message.isEmpty, "empty diagnostic message")
    _ = DiagnosticRenderer().render(e)
  }
  guard parser.errors.isEmpty else { return 0 }

  var options = ShellOptions()
  options.scriptName = "-"
  let shell = Shell(options: options, registry: registry)
  shell.evaluator.environment = ["PATH": ""]
  // `> file` would let a generated script write anywhere.
  shell.evaluator.allowsRedirections = false
  started.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
  _ = shell.runScript(source)
  started.store(0, ordering: .releasing)
  cs_signal_clear()
  return 0
}
