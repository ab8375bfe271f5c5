import Testing
import XCIPC

/// `--dry-run` relies on this table: a method missing from it would count as mutating.
@Suite struct MethodEffectsTests {
  @Test func everyMethodIsClassified() {
    let methods = (XCMethods.all + XCMethods.unregistered + XCMethods.extensions).map { $0.method }
    let missing = methods.filter { XCMethods.effects[$0] == nil }
    #expect(missing.isEmpty, "unclassified methods: \(missing)")
    let stale = Set(XCMethods.effects.keys).subtracting(methods)
    #expect(stale.isEmpty, "classified but not methods: \(stale)")
  }

  @Test func readsAndChanges() {
    #expect(XCMethods.effect(of: "list_containers") == .read)
    #expect(XCMethods.effect(of: "show_container") == .read)
    #expect(XCMethods.effect(of: "instantiate") == .mutating)
    #expect(XCMethods.effect(of: "xcsh.remove_network") == .mutating)
    // Unknown methods are never sent during a dry run.
    #expect(XCMethods.effect(of: "no_such_method") == .mutating)
  }
}
