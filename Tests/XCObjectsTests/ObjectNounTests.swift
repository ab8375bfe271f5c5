import Testing
@testable import XCShell

@testable import XCObjects

/// The language core knows no nouns: XCObjects registers xc's, and from then on a script may
/// name them as types and a terminal shows them with their views.
struct ObjectNounTests {
  @Test func theObjectCommandsRegisterXcsNouns() throws {
    let session = DaemonSession(socketPath: "/nonexistent/xc.sock")
    _ = ObjectCommands.all(session)
    for noun in ["container", "image", "network", "volume"] {
      let kind = try #require(ObjectKinds.kind(named: noun), "`\(noun)` is not registered")
      #expect(Shape.named(noun) == .object(kind.type))
      #expect(!kind.brief.isEmpty)
    }
    #expect(Shape.named("pod") == nil, "an unregistered name is no type")
  }

  @Test func aBriefContainerShowsItsExitCodeAsWords() throws {
    ObjectNouns.register()
    var fields = Record()
    fields["name"] = .string("web")
    fields["id"] = .string("5f3c9a7e21b4")
    fields["status"] = .string("exited")
    fields["exit_code"] = .int(3)
    var o = ObjectValue(type: .container, fields: fields)
    o.brief = true
    let shown = try #require(ObjectViews.briefLine(Value(.object(o))))
    #expect(shown == "container web 5f3c9a7e21b4 exited exit 3")
  }
}
