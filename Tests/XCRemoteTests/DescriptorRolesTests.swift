import SystemPackage
import Testing
import XCIPC
import XCRemote

/// What each descriptor field of a request becomes on a remote host: by field, never by looking
/// at the local descriptor.
struct DescriptorRolesTests {
  func fd(_ n: Int32) -> FDRef { FDRef(FileDescriptor(rawValue: n)) }

  @Test func hostPathMountsArePathsThereNamedByTheirSource() throws {
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [
      MountRequest(source: "/srv/data", dest: "/data", evid: fd(40)),
      MountRequest(source: "cache", dest: "/cache"),  // a volume: no descriptor
      MountRequest(source: OsString(bytes: [0x2f, 0xff, 0x61]), dest: "/raw", evid: fd(41), readOnly: true),
    ]
    r.stdin = fd(30)
    r.stdout = fd(31)
    let kinds = try DescriptorRoles.kinds(of: r)
    #expect(kinds.count == 4)
    #expect(kinds[40] == RemoteDescriptor(FileDescriptor(rawValue: 40), .path, path: Array("/srv/data".utf8)))
    // Not UTF-8: the bytes go as they are.
    #expect(kinds[41]?.path == [0x2f, 0xff, 0x61])
    #expect(kinds[30]?.kind == .input)
    #expect(kinds[31]?.kind == .output)
  }

  @Test func aRelativeHostPathIsRefusedNamingTheMount() {
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [
      MountRequest(source: "/ok", dest: "/a", evid: fd(40)),
      MountRequest(source: "./data", dest: "/b", evid: fd(41)),
    ]
    let e = #expect(throws: IPCError.self) { _ = try DescriptorRoles.kinds(of: r) }
    #expect(e?.code == .encoding)
    #expect(e?.method == "instantiate")
    #expect(e?.message.contains("mount_req[1].source `./data` is not an absolute path") == true)
  }

  @Test func aPathTheRelayCannotTakeIsRefusedHere() {
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [MountRequest(source: OsString("/" + String(repeating: "a", count: DescriptorRoles.maxPathBytes)), dest: "/a", evid: fd(40))]
    let e = #expect(throws: IPCError.self) { _ = try DescriptorRoles.kinds(of: r) }
    #expect(e?.message.contains("mount_req[0].source is not a usable path there") == true)
  }

  @Test func oneDescriptorForTwoPathsIsRefused() {
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [
      MountRequest(source: "/one", dest: "/a", evid: fd(40)),
      MountRequest(source: "/two", dest: "/b", evid: fd(40)),
    ]
    let e = #expect(throws: IPCError.self) { _ = try DescriptorRoles.kinds(of: r) }
    #expect(e?.message.contains("descriptor 40") == true)
  }

  @Test func linkPassesAProcessHandle() throws {
    let kinds = try DescriptorRoles.kinds(of: LinkRequest(name: "web", fd: fd(50)))
    #expect(kinds == [50: RemoteDescriptor(FileDescriptor(rawValue: 50), .process)])
  }

  @Test func theWireCodesAndCapabilityBitsAreFixed() {
    #expect(DescriptorKind.path.rawValue == 8)
    #expect(DescriptorKind.process.rawValue == 9)
    #expect(DescriptorKind.path.capability == 1 << 8)
    #expect(DescriptorKind.process.capability == 1 << 9)
  }
}
