// libFuzzer target: the Jailfile parser (xcsh build's input, written by users and CI).
//
// Each input is a Jailfile: parsed as a syntax tree and as a build plan. It must parse or be
// refused with a located error whose line lies within the text and whose message is not
// empty; a parsed plan's steps must describe themselves. Compiled in one module with the
// XCJailfile sources (see scripts/fuzz), which have no dependencies.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  var lines = 1
  for c in text.unicodeScalars where c == "\n" || c == "\r" { lines += 1 }
  func check(_ e: JailfileError) {
    precondition(e.location.line >= 1 && e.location.line <= lines + 1, "error line out of range: \(e)")
    precondition(e.location.column >= 1, "error column out of range: \(e)")
    precondition(!e.message.isEmpty, "empty error message")
    _ = e.description
  }
  do throws(JailfileError) {
    _ = try Jailfile.parse(text)
  } catch {
    check(error)
  }
  do throws(JailfileError) {
    let plan = try BuildPlan.parse(text)
    for step in plan.steps { _ = step.summary }
  } catch {
    check(error)
  }
  return 0
}
