#!/usr/bin/env bash
# Issue #18: the OCI image (packaging/container/Containerfile), built and run with podman.
#   - podman never reads or writes the machine's own configuration or storage: CONTAINERS_CONF,
#     CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF point into a temp dir, which holds
#     the image store, the CNI config and the events log, and is removed at the end;
#   - no registry is reachable, so the base is a Debian 12 minbase made with mmdebstrap from the
#     machine's apt sources, cached in tests/.work/ (about 35 s once; MU_CONTAINER_FRESH_BASE=1
#     makes it again) and imported as the BASE_IMAGE;
#   - the image is built the BINARIES=prebuilt way, from the release binaries built here (the
#     BINARIES=source way needs a Rust image from a registry);
#   - the image's labels, user and healthcheck are checked, then tests/container/scenario.py runs
#     the containers with real replication clients (see there).
# Skips with one line where podman cannot run (not root, no podman/runc/mmdebstrap, runtime
# broken). Everything it makes is named mu-ctrtest-<pid>-* and removed by name on every exit path
# (also the per-network IPAM directory CNI keeps in /var/lib/cni/networks/).
# Ports 25500-25511 on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${MU_TEST_PYTHON:-$ROOT/.venv/bin/python}
PORT=25500
PREFIX=mu-ctrtest-$$
IMAGE=localhost/$PREFIX:test
BASE=localhost/$PREFIX-base:bookworm
COMPOSE_IMAGE=localhost/mu-server:latest # compose.yaml's image:, in this suite's own store
CACHE=$ROOT/tests/.work/container
BASE_TAR=$CACHE/debian-bookworm-minbase.tar

say() { echo "65-container: $*"; }
skip() { echo "65-container: SKIP: $*"; exit 77; } # 77: tests/run.sh counts it as skipped
fail() { echo "65-container: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (rootful podman with runc; CI runs as root)"
for tool in podman runc mmdebstrap podman-compose; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (tests/setup.sh installs it as root)"
done
[ -x "$PY" ] || fail "$PY missing: run tests/setup.sh"
if ss -ltn 2>/dev/null | grep -qE ":255(0[0-9]|1[01]) "; then fail "ports $PORT-$((PORT + 11)) are busy"; fi

source tests/container/podman-env.sh
WORK=$(mktemp -d /tmp/mu-ctrtest.XXXXXX)
chmod 0755 "$WORK"
podman_env "$WORK"

cleanup() {
  local rc=$?
  set +e
  # scenario.py removes its containers, volumes and secrets; these are the suite's own.
  for name in "$IMAGE" "$COMPOSE_IMAGE" "$BASE"; do
    podman image exists "$name" 2>/dev/null && podman rmi -f "$name" >/dev/null 2>&1
  done
  podman_env_remove "$WORK"
  exit $rc
}
trap cleanup EXIT

if ! podman info >"$WORK/info.log" 2>&1; then
  skip "podman cannot run here: $(grep -m1 -i error "$WORK/info.log" || tail -n 1 "$WORK/info.log")"
fi

say "1. release binaries, Debian base"
t0=$(date +%s)
cargo build -q --release -p mu-serverd -p mu-ctl
debian_base_tar "$BASE_TAR" "$WORK/mmdebstrap.log" || fail "mmdebstrap failed"
podman import -q "$BASE_TAR" "$BASE" >/dev/null || fail "podman import of the base failed"
if ! podman run --rm --network none "$BASE" true >"$WORK/probe.log" 2>&1; then
  skip "podman cannot start a container here: $(grep -m1 -i error "$WORK/probe.log" || tail -n 1 "$WORK/probe.log")"
fi
say "binaries and base ready in $(($(date +%s) - t0)) s"

say "2. podman build (BINARIES=prebuilt, BASE_IMAGE=$BASE)"
t0=$(date +%s)
# No VERSION build-arg: the Containerfile's default must be the workspace version.
podman build --format docker --network host -f packaging/container/Containerfile \
  --build-arg BINARIES=prebuilt --build-arg BASE_IMAGE="$BASE" -t "$IMAGE" . \
  >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; fail "podman build failed"; }
# The stage that held the binaries stays as an unnamed image: remove it by id. The store is this
# suite's own (in $WORK), so every dangling image in it is one this build made.
for id in $(podman images -q --filter dangling=true); do podman rmi "$id" >/dev/null; done
grep -q 'library/rust' "$WORK/build.log" && { cat "$WORK/build.log"; fail "the prebuilt build touched the Rust stage"; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
LICENSE=$(sed -n 's/^license = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
label() { podman image inspect "$IMAGE" --format "{{index .Labels \"org.opencontainers.image.$1\"}}"; }
[ "$(label version)" = "$VERSION" ] || fail "label version '$(label version)' != Cargo.toml $VERSION"
[ "$(label licenses)" = "$LICENSE" ] || fail "label licenses '$(label licenses)' != Cargo.toml $LICENSE"
[ -n "$(label source)" ] || fail "no org.opencontainers.image.source label"
conf() { podman image inspect "$IMAGE" --format "$1"; }
[ "$(conf '{{.Config.User}}')" = mu-server:mu-server ] || fail "image user: $(conf '{{.Config.User}}')"
[ "$(conf '{{.Config.StopSignal}}')" = SIGTERM ] || fail "stop signal: $(conf '{{.Config.StopSignal}}')"
conf '{{json .HealthCheck}}' | grep -q 'mu-ctl' || fail "no mu-ctl HEALTHCHECK: $(conf '{{json .HealthCheck}}')"
conf '{{json .Config.Volumes}}' | grep -q '/var/lib/mu-server' || fail "no volume /var/lib/mu-server"
SIZE=$(podman image inspect "$IMAGE" --format '{{.Size}}')
BASE_SIZE=$(podman image inspect "$BASE" --format '{{.Size}}')
say "built in $(($(date +%s) - t0)) s: version $VERSION, $LICENSE, user mu-server, SIGTERM," \
  "healthcheck; $((SIZE / 1000000)) MB on disk, $(((SIZE - BASE_SIZE) / 1000)) kB above the base"

podman tag "$IMAGE" "$COMPOSE_IMAGE"

say "3. containers with real replication clients"
timeout 300 "$PY" tests/container/scenario.py "$ROOT" "$WORK" "$IMAGE" "$PREFIX" "$PORT"
say "ok"
