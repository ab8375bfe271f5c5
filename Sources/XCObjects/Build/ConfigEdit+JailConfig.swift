import XCIPC
import XCJailfile

extension ConfigEdit {
  /// Applies the edit to an image's configuration, as xc's Jailfile directives do (spec
  /// xc-cli.md §4.2).
  func apply(to c: inout JailConfig) {
    switch self {
    case .workdir(let ep, let dir):
      c.entryPoints[ep, default: ExecSpec(exec: "")].workDir = dir
    case .entryPoint(let name, let program, let environment):
      if c.entryPoints[name] != nil {
        c.entryPoints[name]!.exec = program
      } else {
        c.entryPoints[name] = ExecSpec(exec: program, environ: environment)
      }
    case .cmd(let ep, let arguments):
      c.entryPoints[ep, default: ExecSpec(exec: "")].defaultArgs = arguments
    case .volume(let v):
      c.mounts[v.name] = MountSpec(
        description: v.description ?? "", destination: v.destination,
        volumeHints: v.hints.mapValues { .string($0) }, readOnly: v.readOnly, required: v.required)
    case .addEnv(let name, let value, let required, let description):
      c.envs[name] = EnvSpec(description: description, required: required, defaultValue: value)
    case .env(let name, let value):
      c.envs[name, default: EnvSpec()].defaultValue = value
    case .allow(let names, let replace):
      for n in names {
        if n.hasPrefix("-") {
          if !replace { c.allow.removeAll { $0 == String(n.dropFirst()) } }
        } else if !c.allow.contains(n) {
          c.allow.append(n)
        }
      }
    case .noInit:
      c.initSteps = []
    case .noDeinit:
      c.deinitSteps = []
    case .sysvipc(let words):
      for w in words {
        let value: SystemVPropValue = w.hasPrefix("-") ? .disable : .new
        switch String(w.drop(while: { $0 == "-" })) {
        case "shm": c.sysvShm = value
        case "msg": c.sysvMsg = value
        case "sem": c.sysvSem = value
        default: break
        }
      }
    case .mount(let fsType, let mountPoint):
      let m = SpecialMount(mountPoint: mountPoint, mountType: fsType)
      if !c.specialMounts.contains(m) { c.specialMounts.append(m) }
    case .device(let rule):
      c.devfsRules.append(rule)
    }
  }
}
