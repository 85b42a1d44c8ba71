#!/usr/bin/env bash
# Measures the image against the Python server's, built the same way (docs/install.md,
# "Containers"): bash packaging/container/measure.sh   (root, podman; a few minutes)
#
# Both images on the same local Debian 12 minbase (tests/.work/container, as the test suite
# makes it): mu-server from target/release (BINARIES=prebuilt), the Python server as python3 +
# `pip install replication==0.9.10` (which pulls its dependencies). Prints, for each:
#   - on disk: `podman image inspect .Size` (uncompressed layers, base included);
#   - compressed: the bytes of `podman push --compress IMAGE dir:` (gzip layers, as a registry
#     stores them), base included; and the compressed size of the layers above the base;
#   - start to ready: `podman run -d` until RequestServerInfo is answered on a published
#     loopback port (median of RUNS);
#   - RSS of the server process in the container, idle and with two real clients connected to
#     a session holding an uploaded scene.
# Uses a throwaway podman setup under /tmp and removes everything it made.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${MU_TEST_PYTHON:-$ROOT/.venv/bin/python}
RUNS=${RUNS:-5}
PORT=25520
source tests/container/podman-env.sh
WORK=$(mktemp -d /tmp/mu-ctrmeasure.XXXXXX)
chmod 0755 "$WORK"
podman_env "$WORK"
trap 'podman rm -f -v -t 0 mu-measure >/dev/null 2>&1; podman_env_remove "$WORK"' EXIT

cargo build -q --release -p mu-serverd -p mu-ctl
debian_base_tar tests/.work/container/debian-bookworm-minbase.tar "$WORK/mmdebstrap.log"
podman import -q tests/.work/container/debian-bookworm-minbase.tar localhost/measure-base >/dev/null
podman build -q --format docker --network host -f packaging/container/Containerfile \
  --build-arg BINARIES=prebuilt --build-arg BASE_IMAGE=localhost/measure-base \
  -t localhost/measure-mu . >/dev/null
cat >"$WORK/Containerfile.python" <<'CF'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG PIP_CERT=
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip \
    && pip install --no-cache-dir --break-system-packages ${PIP_CERT:+--cert "$PIP_CERT"} \
       replication==0.9.10 \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 5555-5557
ENTRYPOINT ["python3", "-m", "replication.server", "-lf", "/tmp/server.log"]
CF
# Where pip on this machine is told to trust a TLS-intercepting proxy's CA, the build gets it
# too (mounted for the RUN only, not stored in the image).
ca=()
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
  ca=(--volume "$PIP_CERT:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
fi
podman build -q --format docker --network host -f "$WORK/Containerfile.python" "${ca[@]}" \
  --build-arg BASE_IMAGE=localhost/measure-base -t localhost/measure-py "$WORK" >/dev/null

compressed() { # image -> bytes of its gzip layers + config
  rm -rf "$WORK/push"
  podman push -q --compress "$1" "dir:$WORK/push" >/dev/null
  du -sb "$WORK/push" | cut -f1
}
base_c=$(compressed localhost/measure-base)
for kind in mu py; do
  img=localhost/measure-$kind
  if [ $kind = mu ]; then
    args=(-e "PORT=$PORT" -e ADMIN_PASSWORD=measure-admin -e TIMEOUT=5000)
  else
    args=(-p "$PORT" -t 5000 -apwd measure-admin)
  fi
  size=$(podman image inspect "$img" --format '{{.Size}}')
  comp=$(compressed "$img")
  echo "$kind: on disk $((size / 1000000)) MB, compressed $((comp / 1000000)) MB" \
    "($(((comp - base_c) / 1000)) kB above the base's $((base_c / 1000000)) MB)"
  "$PY" - "$ROOT" "$img" "$PORT" "$RUNS" "$kind" "${args[@]}" <<'PYEOF'
import os, statistics, subprocess, sys, time
root, img, port, runs, kind, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6:]
sys.path.insert(0, os.path.join(root, "tests", "conformance"))
from conftest import Peer, host, join, server_info

def pm(*a):
    return subprocess.run(["podman", *a], check=True, capture_output=True, text=True).stdout

pub = f"127.0.0.1:{port}-{port + 2}:{port}-{port + 2}"
ready, proc = [], []
for i in range(runs):
    t0 = time.monotonic()
    # The image's entrypoint plus args: mu-server takes -e settings, the Python server flags.
    if kind == "mu":
        pm("run", "-d", "--name", "mu-measure", "--health-interval", "disable", "-p", pub, *args, img)
    else:
        pm("run", "-d", "--name", "mu-measure", "-p", pub, img, *args)
    deadline = t0 + 30
    while server_info(port, timeout_ms=100) is None:
        assert time.monotonic() < deadline, pm("logs", "mu-measure")
    t_ready_wall = time.time()
    ready.append(time.monotonic() - t0)
    # From the container's process start (podman's StartedAt) to the answer: without podman's
    # own work (storage, network, the anonymous volume, runc create).
    started = pm("inspect", "mu-measure", "--format", "{{.State.StartedAt.UnixNano}}").strip()
    proc.append(t_ready_wall - int(started) / 1e9)
    if i < runs - 1:
        pm("rm", "-f", "-v", "-t", "0", "mu-measure")

def rss():
    # Every process in the container but the `cat` itself; the Python server is one process.
    out = pm("exec", "mu-measure", "sh", "-c",
             "for s in /proc/[0-9]*/status; do grep -H -e '^Name' -e '^VmRSS' $s; done")
    procs = {}
    for line in out.splitlines():
        path, key, *val = line.replace(":", " ", 2).split()
        procs.setdefault(path, {})[key] = val
    return sum(int(p["VmRSS"][0]) for p in procs.values()
               if "VmRSS" in p and p["Name"][0] not in ("cat", "grep", "sh"))

idle = rss()

class Srv:
    pass

srv = Srv()
srv.port, srv.admin_password, srv.server_password, srv.timeout_ms = port, "measure-admin", None, 5000
made = []
def make(s, name, **kw):
    p = Peer(s, name, **kw)
    made.append(p)
    return p
a, *_ = host(srv, make, name="m-host", n_objs=50, blob_size=200_000)
b = join(srv, make, "m-bob", others=[a])
busy = rss()
for p in made:
    p.close()
pm("rm", "-f", "-v", "-t", "0", "mu-measure")
print(f"{kind}: start to ready median {statistics.median(ready):.2f} s "
      f"(min {min(ready):.2f}, max {max(ready):.2f}, {runs} runs), of which after the process "
      f"started {statistics.median(proc) * 1000:.0f} ms; RSS idle {idle / 1024:.1f} MiB, "
      f"with 2 clients and a {len(a.nodes())}-node scene {busy / 1024:.1f} MiB")
PYEOF
done
podman rmi localhost/measure-mu localhost/measure-py localhost/measure-base >/dev/null
for id in $(podman images -q --filter dangling=true); do podman rmi "$id" >/dev/null; done
