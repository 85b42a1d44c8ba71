#!/usr/bin/env bash
# Installs everything the tests need, idempotently: Debian packages (when root on Debian),
# Python venvs with the real replication clients, and cargo tools.
#   .venv       replication 0.9.10, pyzmq 26.2.1, deepdiff 8.1.1, orderly-set 5.2.3 (what the addon ships)
#   .venv-dd57  replication 0.9.10, pyzmq 25.0.2, deepdiff 5.7.0, ordered-set 4.0.2 (replication's own pins)
#   .venv-099   replication 0.9.9 with .venv's pyzmq/deepdiff (the upstream addon 0.5.8-0.6.8 generation)
#   .venv-0103  replication 0.10.3, deepdiff 8.1.1, orderly-set 5.2.3 (its pins; no ZeroMQ: the
#               single-port transport mu-serverd does not serve, issue 17)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# podman, runc, mmdebstrap, podman-compose: the container suite (65-container; runc because
# crun cannot start containers on CI's hybrid cgroups). g++: libzmq is built from source with
# mu-serverd (zeromq-src).
APT_PACKAGES=(python3-venv dpkg-dev fakeroot systemd adduser util-linux procps iproute2 psmisc
  podman runc mmdebstrap podman-compose g++)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

PY=${PYTHON:-python3}
make_venv() { # dir, then pip specs installed with --no-deps
  local dir=$1; shift
  local stamp="$dir/.mu-stamp" want="$*"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check --no-deps "$@"
  "$dir/bin/pip" install -q --disable-pip-version-check pytest==8.3.4
  echo "$want" >"$stamp"
}
make_venv .venv replication==0.9.10 pyzmq==26.2.1 deepdiff==8.1.1 orderly-set==5.2.3
make_venv .venv-dd57 replication==0.9.10 pyzmq==25.0.2 deepdiff==5.7.0 ordered-set==4.0.2
make_venv .venv-099 replication==0.9.9 pyzmq==26.2.1 deepdiff==8.1.1 orderly-set==5.2.3
make_venv .venv-0103 replication==0.10.3 deepdiff==8.1.1 orderly-set==5.2.3
echo "setup: venvs ready (.venv-099: replication $("$ROOT/.venv-099/bin/python" -c 'import replication;print(replication.__version__)'); $("$ROOT/.venv/bin/python" -c 'import zmq,deepdiff;print("pyzmq",zmq.__version__,"deepdiff",deepdiff.__version__)'); $("$ROOT/.venv-dd57/bin/python" -c 'import zmq,deepdiff;print("pyzmq",zmq.__version__,"deepdiff",deepdiff.__version__)'))"

for s in tests/setup.d/*.sh; do
  [ -e "$s" ] || continue
  bash "$s"
done
