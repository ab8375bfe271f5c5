#!/usr/bin/env python3
"""Generates the plain Codable structs of XCIPC from the compact tables below.

Why generated: xc's wire types are ~60 serde structs whose JSON keys, field order, optionality
and serde defaults must be mirrored exactly. Writing CodingKeys, memberwise inits and strict
decoders by hand for each is where typos hide; a table next to the spec is easy to review.

Each field line is `wire_key[ as swiftName]: SwiftType[ = default | ~ initDefault] [# doc]`.
* `T?`  -> Optional (serde Option): decodes missing or null as nil, encodes null.
* `= X` -> serde `#[serde(default)]`: a missing key decodes as X (still encoded always).
* `~ X` -> required on the wire, but the Swift initializer defaults to X (convenience only).
* anything else is required: a missing key is a decoding error naming the field.
Encoding always writes every key in declaration order, as serde does.

Run: python3 scripts/gen-ipc-models.py  (rewrites Sources/XCIPC/Generated/*.swift)
"""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "XCIPC", "Generated")

def camel(k):
    parts = k.split("_")
    s = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return s[:1].lower() + s[1:]

def parse(block):
    """block: (Name, doc, conformances-extra, [field lines])"""
    name, doc, extra, lines = block
    fields = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        fdoc = ""
        if "#" in line:
            line, fdoc = line.split("#", 1)
            line, fdoc = line.strip(), fdoc.strip()
        key, rest = line.split(":", 1)
        key = key.strip()
        sname = None
        if " as " in key:
            key, sname = [x.strip() for x in key.split(" as ")]
        rest = rest.strip()
        default = None
        init_only = None
        if " = " in rest:
            rest, default = [x.strip() for x in rest.split(" = ", 1)]
        elif " ~ " in rest:
            rest, init_only = [x.strip() for x in rest.split(" ~ ", 1)]
        typ = rest
        # `T?!`: an xcsh extension field xc does not know, left out of the JSON when nil so
        # that what xcsh sends xc's daemon stays byte for byte what xc's client sends.
        omit = typ.endswith("?!")
        if omit:
            typ = typ[:-1]
        fields.append(dict(key=key, name=sname or camel(key), type=typ, default=default,
                           init_only=init_only, doc=fdoc, omit=omit))
    return name, doc, extra, fields

def init_default(f):
    t = f["type"]
    if f["default"] is not None:
        return f["default"]
    if f["init_only"] is not None:
        return f["init_only"]
    if t.endswith("?"):
        return "nil"
    if t.startswith("[") and ":" in t:
        return "[:]"
    if t.startswith("["):
        return "[]"
    if t == "Bool":
        return "false"
    return None

SWIFT_KEYWORDS = {"extension", "protocol", "default", "init", "internal", "public", "operator", "repeat", "where", "in", "is", "as", "case", "func", "return", "self", "Type", "type", "var", "let", "struct", "enum", "class", "import", "static", "subscript", "true", "false", "nil", "throws", "try", "catch", "do", "for", "while", "if", "else", "switch", "break", "continue", "fallthrough", "guard", "defer", "super", "typealias", "associatedtype", "private", "fileprivate", "inout", "deinit", "rethrows", "Any"}

def q(n):
    return f"`{n}`" if n in SWIFT_KEYWORDS else n

def emit(block):
    name, doc, extra, fields = parse(block)
    conf = "Codable, Sendable, Equatable" + (", " + extra if extra else "")
    out = []
    for d in doc.strip().split("\n"):
        out.append(f"/// {d}".rstrip())
    out.append(f"public struct {name}: {conf} {{")
    for f in fields:
        if f["doc"]:
            out.append(f"  /// {f['doc']}")
        else:
            out.append(f"  /// Wire key `{f['key']}`.")
        out.append(f"  public var {q(f['name'])}: {f['type']}")
    out.append("")
    # memberwise init
    params = []
    for f in fields:
        d = init_default(f)
        params.append(f"{q(f['name'])}: {f['type']}" + (f" = {d}" if d is not None else ""))
    out.append("  /// Creates a value from all of its fields.")
    if not params:
        out.append("  public init() {}")
    else:
        out.append("  public init(")
        out.append("    " + ",\n    ".join(params))
        out.append("  ) {")
        for f in fields:
            out.append(f"    self.{f['name']} = {q(f['name'])}")  # self.x never needs escaping
        out.append("  }")
    out.append("")
    # coding keys
    if fields:
        out.append("  enum CodingKeys: String, CodingKey {")
        for f in fields:
            if f["name"] == f["key"]:
                out.append(f"    case {q(f['name'])}")
            else:
                out.append(f"    case {q(f['name'])} = \"{f['key']}\"")
        out.append("  }")
        out.append("")
    # decoder
    out.append("  public init(from decoder: any Decoder) throws {")
    if fields:
        out.append("    let c = try decoder.container(keyedBy: CodingKeys.self)")
        for f in fields:
            t = f["type"]
            n = f["name"]
            if t.endswith("?"):
                out.append(f"    self.{n} = try c.decodeIfPresent({t[:-1]}.self, forKey: .{n})")
            elif f["default"] is not None:
                out.append(f"    self.{n} = try c.decodeIfPresent({t}.self, forKey: .{n}) ?? {f['default']}")
            else:
                out.append(f"    self.{n} = try c.decode({t}.self, forKey: .{n})")
    else:
        out.append("    // Any JSON object (unknown keys ignored, as serde does); `null` is an error.")
        out.append("    _ = try decoder.container(keyedBy: AnyCodingKey.self)")
    out.append("  }")
    out.append("")
    out.append("  public func encode(to encoder: any Encoder) throws {")
    if fields:
        out.append("    var c = encoder.container(keyedBy: CodingKeys.self)")
        for f in fields:
            if f["omit"]:
                out.append(f"    if let {q(f['name'])} {{ try c.encode({q(f['name'])}, forKey: .{f['name']}) }}")
            else:
                # Optional.encode writes an explicit null, as serde does for None.
                out.append(f"    try c.encode({q(f['name'])}, forKey: .{f['name']})")
    else:
        out.append("    _ = encoder.container(keyedBy: AnyCodingKey.self)")
    out.append("  }")
    out.append("}")
    return "\n".join(out)

def write(fname, header, blocks):
    text = "// Generated by scripts/gen-ipc-models.py from the tables there; do not edit by hand.\n"
    text += header + "\n\n" + "\n\n".join(emit(b) for b in blocks) + "\n"
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, fname), "w") as fh:
        fh.write(text)

def B(name, doc, fields, extra=""):
    return (name, doc, extra, [l for l in fields.strip().split("\n")])

# ---------------------------------------------------------------------------------------------
# Object model (spec section 3)

CONTAINER = [
    B("ContainerManifest", "A container as the daemon reports it (`xc/src/container/mod.rs`).\n\nThere is no status field: derive it from `started`, `fault`, `finishedAt` and the processes.", """
devfs_ruleset_id: Int  # devfs ruleset number.
jid: Int  # Jail id.
name: String  # Jail name (the given name or `xc-<id>`).
root: String  # Root filesystem mount point.
id: String  # Container id: 12 lowercase hex characters.
vnet: Bool
main_norun: Bool
init_norun: Bool
deinit_norun: Bool
persist: Bool
no_clean: Bool
linux: Bool
linux_no_create_sys_dir: Bool
linux_no_create_proc_dir: Bool
processes: [String: ProcessStat]  # Keyed `main`, `init.0`…, `deinit.0`…, and 12-hex exec ids.
init_proto: [Jexec]
deinit_proto: [Jexec]
main_proto: Jexec?  # nil when the container has no main process.
ip_alloc: [IpAssign]  # Static addresses first, then allocations.
mount_req: [MountEntry]
zfs_origin: String?  # `<image_dataset>/<chain id>` the root was cloned from.
origin_image: JailImage?
allowing: [String]  # `allow.*` jail parameters enabled.
image_reference: String?
fault: String?  # Set when main could not be spawned.
created: Int?  # Epoch **nanoseconds**.
started: Int?  # Epoch **nanoseconds**.
finished_at: Int?  # Epoch **nanoseconds**.
main_address: String?  # The selected main IP address.
xcsh_resources: ResourceLimits?!  # xcsh extension: the limits the container was created with (absent from xc's records).
xcsh_oom_killed: Bool?!  # xcsh extension: true once the kernel's OOM killer killed a process of the container.
xcsh_restart: RestartPolicySpec?!  # xcsh extension: when main is started again after it ends (absent: never).
xcsh_restart_count: Int?!  # xcsh extension: how many times main was started again.
xcsh_last_exit: Int?!  # xcsh extension: main's raw wait status at the end of the run before the current one.
xcsh_restarting: Bool?!  # xcsh extension: true while main has ended and waits to be started again.
xcsh_health_check: HealthCheckSpec?!  # xcsh extension: the container's health check.
xcsh_health: HealthStatus?!  # xcsh extension: where the health check stands.
"""),
    B("RestartPolicySpec", "xcsh extension: a restart policy (Docker's `--restart`), applied by the Linux daemon (docs/ipc.md).", """
mode: String  # `no`, `on-failure` or `always`.
max_retries: Int?  # With `on-failure`: the most restarts (absent: no bound).
""", "Hashable"),
    B("HealthCheckSpec", "xcsh extension: a health check (Docker's `HEALTHCHECK`), run by the Linux daemon as an exec in the container (docs/ipc.md).", """
command: [String]  # argv of the check (`/bin/sh -c CMD` for xcsh's `--health-cmd`).
interval_ms: Int  # Between checks.
timeout_ms: Int  # A check running longer fails.
retries: Int  # Failures in a row that make the container unhealthy.
start_period_ms: Int  # From main's start: failures meanwhile do not count.
""", "Hashable"),
    B("HealthStatus", "xcsh extension: where a container's health check stands.", """
status: String  # `starting`, `healthy` or `unhealthy`.
failing_streak: Int  # Failures in a row that counted.
last_output: String?  # The last check's output (at most 4096 bytes).
last_exit_code: Int?  # The last check's exit code; absent when it timed out or could not run.
last_check_at: Int?  # Epoch **nanoseconds**.
"""),
    B("ResourceLimits", "xcsh extension: resource limits of a container, applied by the Linux daemon through the container's cgroups (docs/ipc.md).", """
memory: Int?  # Memory limit in bytes (swap included, so no swapping beyond it).
cpus: Double?  # CPU time as a number of CPUs (0.5 = half of one), enforced by the CFS quota.
pids: Int?  # Most processes and threads at once.
""", "Hashable"),
    B("ProcessStat", "One process of a container (`xc/src/container/process.rs`).", """
started: Int?  # Epoch **seconds**.
exited: Int?  # Epoch **seconds**.
tree_exited: Int?  # Epoch **seconds** at which all descendants had exited.
exec: Jexec
exit_code: Int?  # Raw wait(2) status (exit(1) is 256); see `WaitStatus`.
spawn_info: SpawnInfo?
description: String?
"""),
    B("Jexec", "A resolved command inside a container (`xc/src/models/exec.rs`).", """
arg0: String
args: [String]
envs: [String: String]
uid: Int?
gid: Int?
user: String?
group: String?
output_mode: StdioMode  # fd numbers inside are the supervisor's own.
notify: Int?  # Daemon-side fd number; meaningless to clients.
work_dir: String?
"""),
    B("SpawnInfo", "What the daemon reports about a spawned process; the response of `exec`.", """
pid: Int
stdout_log_file: String?
stderr_log_file: String?
terminal_socket: String?  # UNIX socket serving the pty (tty processes only).
""", "Hashable"),
    B("IpAssign", "Addresses bound to one interface of a container.", """
network: String?  # nil for static addresses.
addresses: [String]  # CIDR strings, e.g. `172.16.0.2/24`.
interface: String
""", "Hashable"),
    B("MountEntry", "A mount the daemon performed for a container (`Mount` in `xc/src/container/request.rs`).", """
source: String
dest: String
fs: String  # `nullfs`, `procfs`, `fdescfs`.
options: [String]
""", "Hashable"),
]

IMAGE = [
    B("JailImage", "An image: an OCI image config whose inner config may carry xc's `xc_extension`.", """
architecture: String
os: String
config: ImageConfig?
rootfs: RootFS
history: [HistoryEntry] = []
"""),
    B("ImageConfig", "The OCI inner config (PascalCase keys) flattened with xc's `xc_extension`.", """
AttachStderr as attachStderr: Bool?
AttachStdin as attachStdin: Bool?
AttachStdout as attachStdout: Bool?
Entrypoint as entrypoint: [String]?
Cmd as cmd: [String]?
Env as env: [String]?
Tty as tty: Bool?
WorkingDir as workingDir: String?
Volumes as volumes: [String: JSONValue]?  # A set: keys map to `{}`.
ExposedPorts as exposedPorts: [String: JSONValue]?  # A set: keys map to `{}`.
User as user: String?
Labels as labels: [String: String]?
StopSignal as stopSignal: String?
xc_extension: JailConfig?
"""),
    B("RootFS", "The layers of an image, as OCI diff ids.", """
type as kind: String = "layers"
diff_ids: [String]
""", "Hashable"),
    B("HistoryEntry", "One OCI history entry.", """
created: String?
created_by: String?
empty_layer: Bool?
""", "Hashable"),
    B("JailConfig", "xc's image extension: entry points, mounts, jail parameters (`xc/src/models/jail_image.rs`).", """
version: String = "0.0.0+0"
secure_level: Int
vnet: Bool = false
ports: [String: String]  # Expose spec (`80/tcp`) to description.
devfs_rules: [String]
allow: [String]
sysv_msg: SystemVPropValue = .disable
sysv_shm: SystemVPropValue = .disable
sysv_sem: SystemVPropValue = .disable
envs: [String: EnvSpec] = [:]
entry_points: [String: ExecSpec]
default_entry_point: String?
special_mounts: [SpecialMount]
mounts: [String: MountSpec]
datasets: [String: DatasetSpec] = [:]
init as initSteps: [ExecSpec] = []
deinit as deinitSteps: [ExecSpec] = []
linux: Bool = false
linux_osname: String?
linux_osrelease: String?
linux_oss_version: String?
labels: [String: String] = [:]
osrelease: String?
osreldate: Int?
"""),
    B("EnvSpec", "An environment variable an image declares.", """
description: String?
required: Bool
default_value: String?
""", "Hashable"),
    B("ExecSpec", "An image entry point or init/deinit step (`Exec` in `xc/src/models/exec.rs`).", """
exec: String
args: [String]
environ: [String: String]
clear_env: Bool = false
default_args: [String]
required_envs: [String]
work_dir: String?
user: String?
group: String?
"""),
    B("SpecialMount", "A special filesystem an image wants mounted.", """
mount_point: String
mount_type: String
""", "Hashable"),
    B("MountSpec", "A volume mount point an image declares.", """
description: String
destination: String
volume_hints: [String: JSONValue]
read_only: Bool
required: Bool = false
"""),
    B("DatasetSpec", "A ZFS dataset an image wants jailed.", """
name: String
required: Bool
required_props: [String: String]
"""),
    B("ImageRecord", "One tag of a stored image (`list_all_images`); the same manifest appears once per tag.", """
image_reference: String
digest: String  # SHA-256 of xc's own JSON of the JailImage, not the registry digest.
manifest: JailImage
"""),
    B("DescribeImageResponse", "The response of `describe_image` (and elements of `describe_images`).", """
image_reference: String
chain_id: String
digest: String
jail_image: JailImage
dataset_id: String  # Same value as `chainID`.
"""),
    B("ImportImageStatus", "Pull progress, the response of `download_stat`.\n\nOnly `state == .done` reliably means success; any `fault` other than the in-progress\nquirk `\"cannot find usable config\"` means failure (spec section 5.12).", """
state: DownloadState
manifest: OCIManifest?
config: JSONValue?  # Whatever JSON the registry served.
layers: [LayerDownload]?  # Only layers still downloading.
fault: String?
"""),
    B("OCIManifest", "An OCI image manifest (camelCase keys).", """
schemaVersion: Int
mediaType: String?
config: OCIDescriptor
layers: [OCIDescriptor]
""", "Hashable"),
    B("OCIDescriptor", "An OCI content descriptor.", """
mediaType: String
size: Int
digest: String
""", "Hashable"),
    B("LayerDownload", "Progress of one layer being downloaded.", """
digest: String
downloaded: Int
total: Int?
""", "Hashable"),
    B("PushImageStatus", "Push progress, the response of `upload_stat` (`PushImageStatusDesc`).", """
layers: [String] = []
current_upload_idx: Int?
push_config: Bool = false
push_manifest: Bool = false
done: Bool = false
fault: String?
bytes: Int?
duration_ms: Int?
current_layer_size: Int?
""", "Hashable"),
]

NETVOL = [
    B("NetworkInfo", "A network as `list_networks` reports it.", """
name: String
subnet: String?
start_addr: String?
end_addr: String?
last_addr: String?  # The last allocated address.
alias_iface: String?
bridge_iface: String?
""", "Hashable"),
    B("PortRedirection", "A pf rdr rule toward a container (`xc/src/models/network.rs`).", """
ifaces: [String]?  # nil means the daemon's `ext_ifs`.
proto: [NetProto]
origin: [String]
addresses: [String]?  # Host addresses (CIDR) that trigger the rule.
source_port: PortNum
dest_port: Int
dest_addr: String?  # Filled in by the daemon.
""", "Hashable"),
    B("Volume", "A volume; `list_volumes` keys them by name.", """
rw_users: [String]?  # nil means no restriction.
device: String  # Directory or dataset.
authorized_users: [String]?  # nil means no restriction.
driver: VolumeDriverKind = .directory  # serde default (`#[default] Directory`).
mount_options: [String] = []
driver_options: [String: String] = [:]
""", "Hashable"),
    B("XcConfig", "The daemon's configuration, as `info` returns it.", """
ext_ifs: [String]
image_dataset: String
container_dataset: String
default_volume_driver: String?
default_volume_dataset: String?
default_volume_directory: String?
image_database_store: String = "/var/db/xc.sqlite"  # serde default `default_database_store` (xcd/src/config/mod.rs).
layers_dir: String = "/var/cache"
logs_dir: String = "/var/log/xc"
devfs_id_offset: Int = 1000
database_store: String = "/var/db/xc.sqlite"
socket_path: String = "/var/run/xc.sock"
registries: String = "/var/db/xc.registries.json"
force_devfs_ruleset: Int?
inventory: String = "/usr/local/etc/inventory.json"
warn_only: Bool = false
""", "Hashable"),
    B("EngineInfo", "Which daemon answers (an xcd extension in `info`; xc's own daemon sends none).", """
name: String  # The daemon: `xcd` (this project's Linux daemon).
version: String  # Its release, e.g. `0.1.0`.
commit: String  # The git commit it was built from (`-dirty`: with uncommitted changes).
os: String  # The kernel it runs on (`uname -sr`).
""", "Hashable"),
]

# ---------------------------------------------------------------------------------------------
# Request and response payloads (spec section 2). Requests whose payload is `null` or a bare
# string are hand-written in Methods/.

REQ = [
    B("InfoRequest", "`info` request: `{}` (not `null`).", ""),
    B("InfoResponse", "`info` response.", """
config: XcConfig
engine: EngineInfo?  # xcd's addition: absent from xc's own daemon, so clients must not need it.
"""),
    B("CreateChannelRequest", "`create_channel` request: start another listener at `socketPath`.", "socket_path: String"),
    B("LoginRequest", "`login` request: store registry credentials under `server`.", """
username: String
password: String
server: String
insecure: Bool
"""),
    B("PullImageRequest", "`pull_image` request.", """
image_reference: String
rename_reference: String?  # An extra local tag to apply.
"""),
    B("PullImageResponse", "`pull_image` response; `existed` is always false from xcd.", "existed: Bool"),
    B("DownloadStatRequest", "`download_stat` request; spell the reference exactly as in `pull_image`.", "image_reference: String"),
    B("PushImageRequest", "`push_image` request.", """
image_reference: String
remote_reference: String
insecure: Bool
"""),
    B("UploadStatRequest", "`upload_stat` request; the pair exactly as pushed.", """
image_reference: String
remote_reference: String
"""),
    B("ListAllImagesRequest", "`list_all_images` request: `{}` (not `null`).", ""),
    B("ListAllImagesResponse", "`list_all_images` response: one record per tag.", "manifests: [ImageRecord]"),
    B("DescribeImagesRequest", "`describe_images` request: a repository name without host or tag.", "image_name: String"),
    B("ReplaceMetaRequest", "`replace_meta` request: replace an image's `xc_extension`.", """
image_reference: String
config: JailConfig
"""),
    B("FdImportRequest", "`fd_import` request: import a tar layer from a passed file.", """
fd: FDRef  # A readable, seekable regular file with a (plain, gzip or zstd) tar layer.
config: JailConfig
image_reference: String
"""),
    B("CommitRequest", "`commit` request: snapshot a container into a new image (or into `altOut`).", """
container_name: String
name: String
tag: String
alt_out: FDRef?  # When set, the layer goes only to this descriptor.
"""),
    B("CommitResponse", "`commit` response.", "commit_id: String"),
    B("InstantiateRequest", "`instantiate` request: create (and normally start) a container.\n\nDescriptor fields are encoded as indices in declaration order, as the reference client does.", """
image_reference: String
envs: [String: String]
vnet: Bool
enable_usdt: Bool
ips: [IpAssign]
ipreq: [NetworkAllocRequest]
mount_req: [MountRequest]
copies: [CopyFile]
entry_point: EntryPoint?  # nil means no main process at all.
hostname: String?
main_norun: Bool
init_norun: Bool
deinit_norun: Bool
persist: Bool
no_clean: Bool
name: String?
dns: DnsSetting ~ .inherit
extra_layers: [FDRef]
main_started_notify: FDRef?  # eventfd written once main started (or failed to).
create_only: Bool
linux_no_create_sys_dir: Bool
linux_no_mount_sys: Bool
linux_no_create_proc_dir: Bool
linux_no_mount_proc: Bool
user: String?
group: String?
override_props: [String: String]
jail_datasets: [String]
children_max: Int ~ 0
netgroups: [String]
main_ip_selector: MainAddressSelector?
tap_interfaces: [String]?
tun_interfaces: [String]?
main_exited_fd: FDRef?  # eventfd receiving the encoded exit status of main.
stdin: FDRef?
stdout: FDRef?
stderr: FDRef?
use_tty: Bool
port_redirections: [PortRedirection]
enable_pf: Bool
xcsh_restart: RestartPolicySpec?!  # xcsh extension, sent only when set: the restart policy (xcsh checks first that the daemon serves `xcsh.stats`).
xcsh_health: HealthCheckSpec?!  # xcsh extension, sent only when set: the health check (checked as `xcsh_restart`).
xcsh_resources: ResourceLimits?!  # xcsh extension, sent only when set: resource limits (xcsh checks first that the daemon serves `xcsh.stats`, since xc's daemon would ignore the key).
"""),
    B("MountRequest", "A mount asked for in `instantiate`: a volume name or an absolute host path with evidence.", """
source: OsString
dest: OsString
evid: FDRef?  # Required for host paths: an fd opened on `source`.
read_only: Bool
"""),
    B("CopyFile", "A file copied into the root filesystem at `instantiate`.", """
source: FDRef
destination: OsString
"""),
    B("EntryPoint", "The main process of `instantiate`; `entryPoint` nil means the image default.", """
entry_point: String?
entry_point_args: [String]
""", "Hashable"),
    B("InstantiateResponse", "`instantiate` response; a non-empty `requireClearence` means call `continue_instantiate`.", """
id: String
require_clearence: [String]
""", "Hashable"),
    B("ContinueInstantiateRequest", "`continue_instantiate` request.", """
id: String
clearences: [String]
"""),
    B("ContainerIDResponse", "`{\"id\": …}`: the response of `continue_instantiate` and `run_main`.", "id: String", "Hashable"),
    B("RunMainRequest", "`run_main` request: start the main process of a created container.", """
name: String
notify: FDRef?  # eventfd signalled when main starts.
"""),
    B("ShowContainerRequest", "`show_container` request: any alias (id, jid, name).", "id: String"),
    B("ShowContainerNocacheRequest", "`show_container_nocache` request: asks the supervisor for fresh data.", "id: String"),
    B("ShowContainerResponse", "`show_container` / `show_container_nocache` response.", """
running_container: ContainerManifest
container_dead: Bool
"""),
    B("KillContainerRequest", "`kill_container` request; the reply comes before teardown.", "name: String"),
    B("ExecRequest", "`exec` request (`ExecCommandRequest`).", """
name: String
arg0: String
args: [String]
envs: [String: String]  # The full environment; nothing is inherited.
stdin: FDRef?
stdout: FDRef?
stderr: FDRef?
user: String?
group: String?
notify: FDRef?  # eventfd receiving the encoded exit status.
use_tty: Bool
xcsh_log: Bool?!  # xcsh extension, sent only when set: log the streams passed no descriptor (and a tty's output) as the process's records (`xcsh.logs` with the exec id); xcsh checks first that the daemon serves `xcsh.stats`.
"""),
    B("LinkRequest", "`link` request: tie the container's lifetime to this connection.", """
name: String
fd: FDRef  # A process descriptor on FreeBSD.
"""),
    B("RdrRequest", "`rdr` request (echoed back as the response).", """
name: String
redirection: PortRedirection
""", "Hashable"),
    B("ListSiteRdrRequest", "`list_site_rdr` request. xcd never registered this method: it answers errno 2.", "name: String"),
    B("CreateNetworkRequest", "`create_network` request.", """
name: String
alias_iface: String?
bridge_iface: String?
subnet: String?
start_addr: String?
end_addr: String?
default_router: String?
""", "Hashable"),
    B("ListNetworksRequest", "`list_networks` request: `{}` (not `null`).", ""),
    B("ListNetworksResponse", "`list_networks` response.", "network_info: [NetworkInfo]"),
    B("AddNetgroupRequest", "`add-netgroup` request (the one hyphenated method name).", """
netgroup_name: String
container_name: String
auto_create_netgroup: Bool
commit_immediately: Bool
""", "Hashable"),
    B("CommitNetgroupRequest", "`commit_netgroup` request: rewrite `/etc/hosts` of every member.", "netgroup_name: String"),
    B("CreateVolumeRequest", "`create_volume` request.", """
name: String
template: VolumeTemplate?
device: String?
zfs_props: [String: String]
kind: VolumeDriverKind
"""),
    B("EmptyResponse", "The `{}` response of `create_channel`, `push_image`, `kill_container` and `link`.", ""),
    B("LogsRequest", "Request of the xcsh extension method `xcsh.logs`.", """
name: String
process: String = "main"  # `main`, `init.0`, … or an exec id.
"""),
    B("LogsResponse", "Response of `xcsh.logs`: the log file paths of one process.", """
stdout_log_file: String?
stderr_log_file: String?
"""),
]

write("Models+Container.swift", "// The container object model (spec section 3.1).", CONTAINER)
write("Models+Image.swift", "// The image object model (spec section 3.2).", IMAGE)
write("Models+NetworkVolume.swift", "// Networks, port redirections, volumes and the daemon config (spec 3.3, 3.4, 2.1).", NETVOL)
write("Payloads.swift", "// Request and response payloads of the methods (spec section 2).", REQ)
print("generated", len(CONTAINER) + len(IMAGE) + len(NETVOL) + len(REQ), "structs into", OUT)
