#!/usr/bin/env bash
# The README's commands as a new user types them (issue 15), run by two suites of the README's
# test command: tests/suite.d/05-readme-first.sh (root) before every other suite, so the first
# command and then the whole suite run in that order on one machine, and
# tests/suite.d/95-as-user.sh (user) last:
#   root: the README's first command (extracted from README.md) in the background; mu-ctl status
#         finds it and shows /var/lib/mu-server; mu-ctl stop returns once it has exited. Then
#         60-packaging must SKIP (exit 77) and leave that session byte-identical: a test suite
#         never deletes state it did not create. Finally this script removes the state the first
#         command created (only if it did not exist before), so that the test command after it
#         runs every suite.
#   user: a throwaway ordinary user runs the first command's binary and the "Without systemd"
#         recipe of docs/install.md as written (the cargo build line aside: the user reuses the
#         binaries built above); mu-ctl finds the socket under $XDG_RUNTIME_DIR; the session
#         lands in ~/.local/state/mu-server; 60-packaging skips with "not root"; a subset of
#         the persistence suite passes as that user.
# The daemons run in a network namespace of their own (unshare --net): the README's defaults
# bind all interfaces, and tests only ever listen on loopback. Every wait is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODE=${1:?usage: readme-commands.sh root|user}
say() { echo "readme-commands ($MODE): $*"; }
fail() { echo "readme-commands ($MODE): FAIL: $*" >&2; exit 1; }
skip() { echo "readme-commands ($MODE): SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root: this check runs the first command as root and creates a user"

# The first ```sh block after a heading of a Markdown file.
block() {
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
i = text.index(sys.argv[2])
print(re.search(r"```sh\n(.*?)\n```", text[i:], re.S).group(1))
PY
}
FIRST=$(block README.md "## The two commands")
case "$FIRST" in *"&& target/release/mu-serverd") ;; *) fail "unexpected first command: $FIRST" ;; esac

fingerprint() { (cd "$1" && find . -printf '%p %m %U %s %T@\n' | sort && find . -type f -print0 | sort -z | xargs -0r sha256sum); }

if [ "$MODE" = root ]; then
  # A session or runtime dir that exists already belongs to someone (a first command typed
  # before, an installed package): the first command would load and rotate it. Leave it alone.
  for p in /var/lib/mu-server /run/mu-server; do
    [ -e "$p" ] && skip "$p exists already (a session this test did not create); move it away to run this check"
  done
  WORK=$(mktemp -d /tmp/mu-readme.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  say "first command: $FIRST"
  # Build in the foreground (bounded), then run exactly the README's line in the background.
  timeout 1800 bash -c "$FIRST --version" >/dev/null
  unshare --net -- bash -c '
    set -euo pipefail
    bash -c "$1" >"$2/daemon.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do
      target/release/mu-ctl status >"$2/status.txt" 2>/dev/null && break
      kill -0 $pid 2>/dev/null || { cat "$2/daemon.log"; exit 1; }
      sleep 0.1
    done
    target/release/mu-ctl status
    target/release/mu-ctl stop
    kill -0 $pid 2>/dev/null && { echo "still running after mu-ctl stop returned"; exit 1; }
    wait $pid' _ "$FIRST" "$WORK" || { cat "$WORK/daemon.log"; fail "the first command did not serve and stop"; }
  grep -q 'state dir: */var/lib/mu-server$' "$WORK/status.txt" || { cat "$WORK/status.txt"; fail "status lacks the state dir"; }
  [ -e /var/lib/mu-server/mu-serverd.lock ] || fail "no session in /var/lib/mu-server"
  say "ran, mu-ctl status showed /var/lib/mu-server, mu-ctl stop returned after the exit"

  before=$(fingerprint /var/lib/mu-server)
  set +e
  bash tests/suite.d/60-packaging.sh >"$WORK/pkg.log" 2>&1
  rc=$?
  set -e
  [ $rc = 77 ] || { cat "$WORK/pkg.log"; fail "60-packaging exited $rc next to a session it did not create, want 77 (skipped)"; }
  grep -q 'SKIPPED: .*/var/lib/mu-server' "$WORK/pkg.log" || { cat "$WORK/pkg.log"; fail "the skip does not name /var/lib/mu-server"; }
  [ "$(fingerprint /var/lib/mu-server)" = "$before" ] || fail "60-packaging changed /var/lib/mu-server"
  say "60-packaging skipped and left /var/lib/mu-server byte-identical"
  rm -rf /var/lib/mu-server /run/mu-server # made by the first command above (neither existed)
  say "ok"
  exit 0
fi

# ---- user -------------------------------------------------------------------------------------
timeout 1800 cargo build -q --release -p mu-serverd -p mu-ctl # a no-op when 05 or 60 built them
U=mu-ci-user
getent passwd "$U" >/dev/null && skip "user $U exists already (not made by this run)"
HOMEDIR=$(mktemp -d /tmp/mu-ci-home.XXXXXX)
RUNDIR=""
cleanup() {
  local rc=$?
  set +e
  getent passwd "$U" >/dev/null && userdel "$U"
  [ -n "$RUNDIR" ] && rm -rf "$RUNDIR"
  rm -rf "$HOMEDIR" "/tmp/pytest-of-$U"
  exit $rc
}
trap cleanup EXIT
useradd --home-dir "$HOMEDIR" --no-create-home --shell /bin/bash "$U"
chown "$U:" "$HOMEDIR"
uid=$(id -u "$U")
[ -e "/run/user/$uid" ] && fail "/run/user/$uid exists already"
RUNDIR=/run/user/$uid
install -d -o "$U" -g "$U" -m 0700 "$RUNDIR"
# A checkout of the user's own with the binaries root built above.
install -d -o "$U" "$HOMEDIR/mu/target/release"
install -o "$U" -m 0755 target/release/mu-serverd target/release/mu-ctl "$HOMEDIR/mu/target/release/"
chown -R "$U:" "$HOMEDIR/mu"
as_user() { # with a login-like environment; NETNS=no for tests that bind loopback themselves
  local netns=(unshare --net --)
  [ "${NETNS:-yes}" = yes ] || netns=()
  "${netns[@]}" runuser -u "$U" -- env -i HOME="$HOMEDIR" USER="$U" PATH=/usr/bin:/bin \
    XDG_RUNTIME_DIR="$RUNDIR" bash -c "cd ~/mu && $1"
}

RUN=${FIRST##*&& }
as_user "
  set -euo pipefail
  trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT
  $RUN >first.log 2>&1 &
  for _ in \$(seq 100); do target/release/mu-ctl status >status.txt 2>&1 && break; sleep 0.1; done
  target/release/mu-ctl status
  target/release/mu-ctl stop" || { cat "$HOMEDIR/mu/first.log"; fail "the first command as $U"; }
grep -q "state dir: *$HOMEDIR/.local/state/mu-server\$" "$HOMEDIR/mu/status.txt" ||
  { cat "$HOMEDIR/mu/status.txt"; fail "the session is not in ~/.local/state/mu-server"; }
say "first command's daemon as $U: socket under \$XDG_RUNTIME_DIR, session in ~/.local/state/mu-server"

RECIPE=$(block docs/install.md "## Without systemd" | grep -v '^cargo build')
as_user "set -euo pipefail
trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT
$RECIPE" >"$HOMEDIR/recipe.log" 2>&1 || { cat "$HOMEDIR/recipe.log"; fail "the no-systemd recipe of docs/install.md"; }
pgrep -u "$U" mu-serverd >/dev/null && fail "mu-serverd still runs after the recipe's mu-ctl stop"
say "docs/install.md 'Without systemd' recipe works as written"

set +e
install -d -o "$U" "$HOMEDIR/mu/tests/suite.d"
install -o "$U" -m 0755 tests/suite.d/60-packaging.sh "$HOMEDIR/mu/tests/suite.d/"
chown -R "$U:" "$HOMEDIR/mu/tests"
runuser -u "$U" -- bash "$HOMEDIR/mu/tests/suite.d/60-packaging.sh" >"$HOMEDIR/pkg.log" 2>&1
rc=$?
set -e
[ $rc = 77 ] && grep -q 'SKIPPED: not root' "$HOMEDIR/pkg.log" || { cat "$HOMEDIR/pkg.log"; fail "60-packaging as $U: exit $rc"; }
say "60-packaging as $U: skipped (not root)"

# A subset of the persistence suite as $U: one daemon per state dir, mu-ctl stop, and the socket
# fallback on the non-root path itself. The user has no cargo and cannot read root's checkout or
# venv, so it gets copies: the tests, the venv's packages (run by the system python3, the
# version the venv was made with), and the binaries built above.
SITE=$(echo .venv/lib/python3*/site-packages)
install -d -o "$U" "$HOMEDIR/mu/tests" "$HOMEDIR/mu/site-packages"
cp -r tests/persistence tests/conformance "$HOMEDIR/mu/tests/"
cp -r "$SITE/." "$HOMEDIR/mu/site-packages/"
chown -R "$U:" "$HOMEDIR/mu"
NETNS=no as_user "cd tests/persistence && PYTHONPATH=\$HOME/mu/site-packages \
  MU_SERVERD_BIN=\$HOME/mu/target/release/mu-serverd MU_CTL_BIN=\$HOME/mu/target/release/mu-ctl \
  timeout 300 python3 -m pytest -q -rs -p no:cacheprovider test_one_daemon.py test_operator.py test_restart.py" \
  >"$HOMEDIR/pytest.log" 2>&1 || { cat "$HOMEDIR/pytest.log"; fail "persistence subset as $U"; }
tail -n 1 "$HOMEDIR/pytest.log"
say "persistence subset as $U: $(tail -n 1 "$HOMEDIR/pytest.log")"
say "ok"
