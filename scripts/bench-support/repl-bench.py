#!/usr/bin/env python3
"""Interactive xcsh timings on a real pseudo-terminal.

- start-up to first prompt: spawn `xcsh` on a pty, time until the prompt is drawn;
- Tab completion of live container names with N containers on the daemon: type `kill web-99`,
  press Tab, time until the ten candidates `web-990` … `web-999` are drawn (names fetched from
  the daemon, cache cold: a new session each run).

The daemon is a small fake that speaks xc's wire protocol (16-byte big-endian header, JSON
envelope) and answers `list_containers` with N records cloned from the real daemon's example
answer (Tests/XCIPCTests/Snapshots/responses/list_containers.json), so only xcsh is measured.
Prints one JSON object: {"first_prompt_ms": [...], "completion_ms": [...]}.
"""
import json, os, pty, select, socket, statistics, struct, sys, tempfile, threading, time

XCSH, ROOT, N, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

sample = json.load(open(os.path.join(ROOT, "Tests/XCIPCTests/Snapshots/responses/list_containers.json")))["value"][0]
containers = []
for i in range(N):
    c = json.loads(json.dumps(sample))
    c["name"] = f"web-{i}"
    c["id"] = f"{i:012x}"
    containers.append(c)
answer = json.dumps({"errno": 0, "value": containers}, separators=(",", ":")).encode()

def serve(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn,), daemon=True).start()

def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf

def handle(conn):
    while True:
        header = read_exact(conn, 16)
        if header is None:
            return
        length, _fds = struct.unpack(">QQ", header)
        body = json.loads(read_exact(conn, length))
        if body.get("method") == "list_containers":
            reply = answer
        else:
            reply = json.dumps({"errno": 0, "value": {}}).encode()
        conn.sendall(struct.pack(">QQ", len(reply), 0) + reply)

tmp = tempfile.mkdtemp(prefix="xcsh-repl-bench-")
sock_path = os.path.join(tmp, "xc.sock")
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sock_path)
listener.listen(16)
threading.Thread(target=serve, args=(listener,), daemon=True).start()

def read_until(fd, needle, deadline):
    seen = b""
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"waiting for {needle!r}; saw {seen[-200:]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen

first, completion = [], []
env = dict(os.environ, HOME=tmp, XDG_STATE_HOME=os.path.join(tmp, "state"), NO_COLOR="1", TERM="xterm")
for _ in range(RUNS):
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(XCSH, [XCSH, "--socket", sock_path], env)
    read_until(fd, b"up] > ", start + 10)
    first.append((time.monotonic() - start) * 1000)
    os.write(fd, b"kill web-99")
    read_until(fd, b"web-99", time.monotonic() + 10)
    t = time.monotonic()
    os.write(fd, b"\t")
    read_until(fd, b"web-999", t + 10)  # the listing of web-990 … web-999
    completion.append((time.monotonic() - t) * 1000)
    os.write(fd, b"\x15\x04")  # Ctrl-U, Ctrl-D
    os.waitpid(pid, 0)
    os.close(fd)
listener.close()
print(json.dumps({"first_prompt_ms": first, "completion_ms": completion}))
