#!/usr/bin/env python3
"""Writes the seed corpus of the archive fuzz target (Tests/Fuzz/corpus/archive).

Each seed is a small tar exercising one trick an image archive may play: path traversal,
symlinks and hard links out of the root, whiteouts, huge or lying headers, bad checksums,
truncation, and OCI layouts whose blobs do not match their digests. Run once; the output is
committed.
"""
import hashlib, io, json, os, sys, tarfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "archive")
os.makedirs(out, exist_ok=True)

def tar(members, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for m in members:
            info = tarfile.TarInfo(m["name"])
            kind = m.get("kind", "file")
            data = m.get("data", b"")
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
            info.linkname = m.get("target", "")
            if kind == "dir":
                info.mode = 0o755
            t.addfile(info)
    return buf.getvalue()

def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

write("plain", tar([{"name": "etc", "kind": "dir"}, {"name": "etc/hostname", "data": b"box\n"},
                    {"name": "bin/sh", "data": b"#!"}, {"name": "bin/ash", "kind": "link", "target": "bin/sh"}]))
write("dotdot", tar([{"name": "../outside/escaped", "data": b"x"}]))
write("dotdot-inner", tar([{"name": "a/../../outside/escaped", "data": b"x"}]))
write("absolute", tar([{"name": "/etc/passwd-fuzz", "data": b"x"}]))
write("symlink-dir", tar([{"name": "a", "kind": "sym", "target": "../outside"},
                          {"name": "a/escaped", "data": b"x"}]))
write("symlink-abs", tar([{"name": "a", "kind": "sym", "target": "/tmp"},
                          {"name": "a/escaped", "data": b"x"}]))
write("symlink-then-file", tar([{"name": "f", "kind": "sym", "target": "../outside/escaped"},
                                {"name": "f", "data": b"overwrite"}]))
write("hardlink-out", tar([{"name": "h", "kind": "link", "target": "../outside/x"}]))
write("hardlink-via-symlink", tar([{"name": "s", "kind": "sym", "target": "/etc"},
                                   {"name": "h", "kind": "link", "target": "s/passwd"}]))
write("whiteouts", tar([{"name": "d", "kind": "dir"}, {"name": "d/f", "data": b"1"},
                        {"name": "d/.wh.f"}, {"name": "d/.wh..wh..opq"}, {"name": ".wh.."},
                        {"name": "x/.wh..."}]))
write("devices", tar([{"name": "dev/null", "kind": "chr"}, {"name": "p", "kind": "fifo"}]))
write("gnu-longname", tar([{"name": "d/" + "n" * 300, "data": b"long"},
                           {"name": "l" * 200, "kind": "sym", "target": "t" * 300}], tarfile.GNU_FORMAT))
write("pax-long", tar([{"name": "p/" + "q" * 400, "data": b"pax"}], tarfile.PAX_FORMAT))
plain = tar([{"name": "f", "data": b"hello"}], tarfile.USTAR_FORMAT)
bad = bytearray(plain); bad[148:156] = b"0000000\0"; write("bad-checksum", bytes(bad))
write("truncated-member", plain[:512 + 2])
write("truncated-header", plain[:300])
huge = bytearray(plain); huge[124:136] = b"77777777777\0"
# Keep the checksum right so the lying size is what the reader sees.
huge[148:156] = b"        "; s = sum(huge[:512]); huge[148:156] = b"%06o\0 " % s
write("huge-size", bytes(huge))
b256 = bytearray(plain); b256[124:136] = b"\x80" + b"\xff" * 11
b256[148:156] = b"        "; s = sum(b256[:512]); b256[148:156] = b"%06o\0 " % s
write("base256-size", bytes(b256))
pax = tarfile.TarInfo("f"); pax.size = 0
paxhdr = b"99999999 path=x\n"
write("pax-lying-length", tar([{"name": "f", "data": b""}])[:0] + paxhdr)

# An OCI layout: index -> manifest -> config + one layer; and one whose blob lies.
layer = tar([{"name": "hello", "data": b"hi\n"}])
def blob(b): return "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [blob(layer)]},
                     "config": {"Cmd": ["/hello"]}}).encode()
manifest = json.dumps({"schemaVersion": 2, "config": {"digest": blob(config), "size": len(config),
                        "mediaType": "application/vnd.oci.image.config.v1+json"},
                       "layers": [{"digest": blob(layer), "size": len(layer),
                                   "mediaType": "application/vnd.oci.image.layer.v1.tar"}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": blob(manifest), "size": len(manifest),
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "annotations": {"org.opencontainers.image.ref.name": "fuzz:1"}}]}).encode()
def oci(blobs):
    ms = [{"name": "oci-layout", "data": b'{"imageLayoutVersion":"1.0.0"}'},
          {"name": "index.json", "data": index}]
    for d, b in blobs:
        ms.append({"name": "blobs/sha256/" + d.split(":")[1], "data": b})
    return tar(ms)
write("oci-good", oci([(blob(x), x) for x in (layer, config, manifest)]))
write("oci-bad-digest", oci([(blob(layer), layer + b"!"), (blob(config), config), (blob(manifest), manifest)]))
write("oci-missing-blob", oci([(blob(config), config), (blob(manifest), manifest)]))
write("docker-save", tar([{"name": "manifest.json", "data": json.dumps(
    [{"Config": "c.json", "RepoTags": ["fuzz:1"], "Layers": ["l/layer.tar"]}]).encode()},
    {"name": "c.json", "data": config}, {"name": "l/layer.tar", "data": layer},
    {"name": "m/layer.tar", "kind": "sym", "target": "../l/layer.tar"}]))
write("empty", b"")
write("zeros", b"\0" * 1024)
