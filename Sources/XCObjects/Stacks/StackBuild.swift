import Foundation
import XCIPC
import XCJailfile
import XCShell

/// The images a stack's services build (`build:`), made with xcsh's `build` before any
/// network, volume or container: an image already on the daemon is used as it is (as
/// `docker compose up` does) unless `stack up --build` rebuilds it (`build --force`).
struct StackBuild {
  let s: DaemonSession
  let call: Call

  /// Builds what `plan` needs and returns the `{action, object}` per image and the plan with
  /// each built service labelled with its image's digest (so a rebuilt image replaces the
  /// containers, and an unchanged one keeps them).
  func run(_ plan: StackPlan) throws -> (steps: [Value], plan: StackPlan) {
    var plan = plan
    var steps: [Value] = []
    var digests: [String: String] = [:]  // by image reference
    for svc in plan.services {
      guard let b = svc.build, digests[svc.image] == nil else { continue }
      let images = try s.call(ListAllImagesRequest(), at: call.head).manifests
      let existing = images.first { $0.imageReference == svc.image }
      if let existing, !call.has("build") {
        digests[svc.image] = existing.digest
        steps.append(ObjectArgs.ensured("unchanged", try DaemonSession.value(existing, as: .image)))
        continue
      }
      let image = try build(b, service: svc.name, replacing: existing != nil)
      let digest = try s.call(ListAllImagesRequest(), at: call.head).manifests.first { $0.imageReference == svc.image }?.digest
      digests[svc.image] = digest ?? "dry-run"
      steps.append(ObjectArgs.ensured(existing == nil ? "created" : "replaced", image))
    }
    for i in plan.services.indices where plan.services[i].build != nil {
      plan.services[i].environment[StackPlan.imageLabel] = digests[plan.services[i].image]
      plan.services[i].environment[StackPlan.hashLabel] = StackPlan.hash(plan.services[i].settings)
    }
    return (steps, plan)
  }

  private func build(_ b: StackPlan.Build, service: String, replacing: Bool) throws -> Value {
    func fail(_ why: String) -> ShellError { ShellError(.stackInvalid, "\(b.at): service `\(service)`: \(why)", at: call.head) }
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: b.context, isDirectory: &isDir), isDir.boolValue else {
      throw fail("the build context `\(b.context)` is not a directory")
    }
    let name = b.dockerfile ?? (FileManager.default.fileExists(atPath: b.context + "/Jailfile") ? "Jailfile" : "Dockerfile")
    let path = name.hasPrefix("/") ? name : b.context + "/" + name
    guard let data = FileManager.default.contents(atPath: path) else {
      throw fail("cannot read `\(path)` (a build context holds a `Jailfile` or a `Dockerfile`; `dockerfile:` names another)")
    }
    let plan: BuildPlan
    do {
      plan = try BuildPlan.parse(String(decoding: data, as: UTF8.self), file: path)
    } catch {
      throw JailfileBuilder.shellError(error, at: call.head)
    }
    let builder = JailfileBuilder(
      session: s, call: call, plan: plan, context: b.context, target: .init(name: b.name, tag: b.tag), buildArgs: b.args,
      verbose: isatty(2) == 1)
    builder.force = replacing
    return try builder.build()
  }
}
