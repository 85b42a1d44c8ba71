#!/usr/bin/env bash
# Issue #7: the Debian package, end to end, as root on Debian 12.
#   1. build it (packaging/build-deb.sh) and inspect it with dpkg-deb: file list, modes,
#      conffiles, Depends, stripped binaries, no default password;
#   2. dpkg -i: user and group, config ownership, units installed but not enabled;
#   3. systemd-analyze verify on both installed units and security --offline=yes <= 2.0.
#      systemd is NOT PID 1 on CI (PID 1 is the VM's init), so `systemctl start` cannot be
#      tested here; step 4 runs the installed binary the way the unit would instead;
#   4. the installed /usr/sbin/mu-serverd as user mu-server with the installed config (ports
#      moved to 24100-24102 on 127.0.0.1) and the runtime/state dirs the unit would create;
#      real replication clients (host + join) work; /usr/bin/mu-ctl by a member of group
#      mu-server works (users, status, kick), by another user is refused; the daemon user
#      can reload (ExecReload); a second instance as mu-serverd@blue would run it is reached
#      with `mu-ctl --instance blue`; mu-ctl stop;
# Skips (exit 77, loudly) when not root, or when the package, /etc/mu-server*, /var/lib/mu-server,
# /run/mu-server or one of its users already exists: its cleanup deletes exactly those.
#   5. dpkg --purge leaves nothing behind (files, dirs, units, enablement). The mu-server
#      user and group remain, as Debian policy wants; the test deletes them afterwards.
# Cleans up on every exit path (trap). Ports: 24100-24105 (helper F's range 24000-24999).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${MU_TEST_PYTHON:-$ROOT/.venv/bin/python}
PORT=24100
MEMBER=mu-pkgtest-member
STRANGER=mu-pkgtest-stranger
ADMIN_PWD=pkg-admin-secret

say() { echo "60-packaging: $*"; }
fail() { echo "60-packaging: FAIL: $*" >&2; exit 1; }
# Exit 77: skipped (tests/run.sh counts it apart). Loud, because a skipped suite proves nothing.
skip() {
  echo "60-packaging: ************************************************************************"
  echo "60-packaging: SKIPPED: $*"
  echo "60-packaging: This suite installs the .deb system-wide and purges it afterwards, which"
  echo "60-packaging: deletes /etc/mu-server.toml, /etc/mu-server, /var/lib/mu-server and the"
  echo "60-packaging: mu-server user. It runs only where none of them exists (a fresh machine, CI)."
  echo "60-packaging: ************************************************************************"
  exit 77
}

# Tests never destroy what they did not create: everything the cleanup below removes must be
# absent now, else the suite does not start.
[ "$(id -u)" = 0 ] || skip "not root (dpkg -i and system users need root; CI runs as root)"
[ -x "$PY" ] || fail "$PY missing: run tests/setup.sh"
if dpkg -s mu-server >/dev/null 2>&1; then
  skip "package mu-server is installed on this machine; it is left alone"
fi
# /etc/mu-server* covers the config, instance configs and an admin's saved copies.
found=$(ls -d /etc/mu-server* /var/lib/mu-server /run/mu-server 2>/dev/null | tr '\n' ' ' || true)
if [ -n "$found" ]; then
  skip "${found}exists: a session or configuration this suite did not create (the README's first
60-packaging: command run as root keeps its session in /var/lib/mu-server). Move it away to run this suite"
fi
for u in mu-server "$MEMBER" "$STRANGER"; do
  if getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; then
    skip "user or group $u already exists (this suite creates and deletes it)"
  fi
done
if ss -ltn 2>/dev/null | grep -qE "127\.0\.0\.1:2410[0-5] |\*:2410[0-5] "; then
  fail "ports 24100-24105 are busy"
fi

WORK=$(mktemp -d /tmp/mu-pkgtest.XXXXXX)
chmod 0755 "$WORK"
DAEMON_PID=""
CLIENT_PID=""
BLUE_PID=""
cleanup() {
  local rc=$?
  set +e
  for pid in "$CLIENT_PID" "$DAEMON_PID" "$BLUE_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
  done
  if [ $rc -ne 0 ] && [ -f "$WORK/daemon.log" ]; then
    echo "--- daemon log (last 40 lines)"; tail -n 40 "$WORK/daemon.log"
  fi
  if [ $rc -ne 0 ] && [ -f "$WORK/client.log" ]; then
    echo "--- client log (last 40 lines)"; tail -n 40 "$WORK/client.log"
  fi
  dpkg -s mu-server >/dev/null 2>&1 && dpkg --purge mu-server >/dev/null 2>&1
  for u in "$MEMBER" "$STRANGER" mu-server; do
    getent passwd "$u" >/dev/null && userdel "$u" 2>/dev/null
    getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null
  done
  # Checked absent before the trap was set: this suite (or the package it installed) made them.
  rm -rf "$WORK" /run/mu-server /var/lib/mu-server /etc/mu-server
  exit $rc
}
trap cleanup EXIT

# ------------------------------------------------------------------------------------------
say "1. build"
t0=$(date +%s)
if [ -n "${MU_DEB:-}" ]; then
  DEB=$MU_DEB # a package built before (debugging this suite)
else
  DEB=$(bash packaging/build-deb.sh 2>"$WORK/build.log" | tail -n 1) || {
    tail -n 30 "$WORK/build.log"; fail "packaging/build-deb.sh failed"; }
fi
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ "$(basename "$DEB")" = "mu-server_${VERSION}_amd64.deb" ] || fail "unexpected package name $DEB"
say "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes) in $(($(date +%s) - t0)) s"

field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = mu-server ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
DEPENDS=$(field Depends)
grep -q 'adduser' <<<"$DEPENDS" || fail "Depends lacks adduser: $DEPENDS"
grep -q 'libc6 (>= ' <<<"$DEPENDS" || fail "Depends lacks a versioned libc6 (dpkg-shlibdeps): $DEPENDS"
[ "$(field Recommends)" = bash-completion ] || fail "Recommends: $(field Recommends), want bash-completion"
say "Depends: $DEPENDS; Recommends: bash-completion"

dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' | sed 's| \./| /|; s| 0/0 | root/root |' >"$WORK/contents"
want() { # mode owner path
  grep -qxF -e "$1 $2 $3" "$WORK/contents" || {
    cat "$WORK/contents"; fail "package lacks '$1 $2 $3'"; }
}
want -rwxr-xr-x root/root /usr/sbin/mu-serverd
want -rwxr-xr-x root/root /usr/bin/mu-ctl
want -rw-r----- root/root /etc/mu-server.toml
want -rw-r--r-- root/root /usr/lib/systemd/system/mu-serverd.service
want -rw-r--r-- root/root /usr/lib/systemd/system/mu-serverd@.service
want -rw-r--r-- root/root /usr/share/man/man8/mu-serverd.8.gz
want -rw-r--r-- root/root /usr/share/man/man1/mu-ctl.1.gz
for b in mu-serverd mu-ctl; do
  want -rw-r--r-- root/root "/usr/share/bash-completion/completions/$b"
  want -rw-r--r-- root/root "/usr/share/zsh/vendor-completions/_$b"
  want -rw-r--r-- root/root "/usr/share/fish/vendor_completions.d/$b.fish"
done
for d in README.md MIGRATION.md install.md mu-ctl.md copyright; do
  want -rw-r--r-- root/root "/usr/share/doc/mu-server/$d"
done
say "file list and modes ok ($(grep -vc '^d' "$WORK/contents") files)"

mkdir "$WORK/ctl" "$WORK/x"
dpkg-deb -e "$DEB" "$WORK/ctl"
[ "$(cat "$WORK/ctl/conffiles")" = /etc/mu-server.toml ] || fail "conffiles: $(cat "$WORK/ctl/conffiles")"
for s in postinst prerm postrm; do
  [ -x "$WORK/ctl/$s" ] || fail "maintainer script $s missing"
  sh -n "$WORK/ctl/$s" || fail "maintainer script $s: syntax error"
  grep -q 'Automatically added by cargo-deb' "$WORK/ctl/$s" || fail "$s lacks the systemd snippets"
done
dpkg-deb -x "$DEB" "$WORK/x"
for b in usr/sbin/mu-serverd usr/bin/mu-ctl; do
  if readelf -S "$WORK/x/$b" | grep -q '\.symtab'; then fail "$b is not stripped"; fi
done
# mu-ctl never links libzmq: nothing ZeroMQ in its dependency graph, and no C++ runtime (the
# vendored libzmq would bring libstdc++) among its shared libraries.
if cargo tree -p mu-ctl -e normal,build --prefix none 2>/dev/null | grep -qi zmq; then
  fail "mu-ctl depends on a zmq crate"
fi
if readelf -d "$WORK/x/usr/bin/mu-ctl" | grep NEEDED | grep -qE 'zmq|stdc\+\+'; then
  fail "mu-ctl links $(readelf -d "$WORK/x/usr/bin/mu-ctl" | grep NEEDED)"
fi
if grep -qE '^[[:space:]]*(admin|server)_password[[:space:]]*=' "$WORK/x/etc/mu-server.toml"; then
  fail "the shipped config sets a password"
fi
zcat "$WORK/x/usr/share/man/man1/mu-ctl.1.gz" | grep -q '^\.TH' || fail "mu-ctl.1.gz is not a man page"
# One page for mu-ctl with a section per subcommand: no pointers to pages that do not exist.
for sec in COMMANDS EXAMPLES FILES "EXIT STATUS" "SEE ALSO"; do
  zcat "$WORK/x/usr/share/man/man1/mu-ctl.1.gz" | grep -q "^\.SH \"\?$sec" || fail "mu-ctl(1) lacks $sec"
  [ "$sec" = COMMANDS ] ||
    zcat "$WORK/x/usr/share/man/man8/mu-serverd.8.gz" | grep -q "^\.SH \"\?$sec" || fail "mu-serverd(8) lacks $sec"
done
if zcat "$WORK/x/usr/share/man/man1/mu-ctl.1.gz" | grep -q 'mu-ctl-[a-z]*(1)\|mu\\-ctl\\-[a-z]*(1)'; then
  fail "mu-ctl(1) refers to per-subcommand pages that are not shipped"
fi
zcat "$WORK/x/usr/share/man/man8/mu-serverd.8.gz" | grep -q '^\.TH' || fail "mu-serverd.8.gz is not a man page"
say "conffiles, maintainer scripts, stripped binaries, mu-ctl without libzmq, no default password, man pages ok"

# ------------------------------------------------------------------------------------------
say "2. dpkg -i"
dpkg -i "$DEB" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log"; fail "dpkg -i failed"; }
getent group mu-server >/dev/null || fail "group mu-server missing"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd mu-server) || fail "user mu-server missing"
[ "$uid" -lt 1000 ] || fail "mu-server is not a system user (uid $uid)"
[ "$gid" = "$(getent group mu-server | cut -d: -f3)" ] || fail "mu-server's primary group"
[ "$shell" = /usr/sbin/nologin ] || fail "mu-server has a login shell: $shell"
[ "$(stat -c '%a %U %G' /etc/mu-server.toml)" = "640 root mu-server" ] ||
  fail "/etc/mu-server.toml is $(stat -c '%a %U %G' /etc/mu-server.toml)"
[ "$(stat -c '%a %U %G' /etc/mu-server)" = "750 root mu-server" ] || fail "/etc/mu-server dir"
# Not enabled on install: the admin configures first, then `systemctl enable --now`.
state=$(systemctl is-enabled mu-serverd.service 2>/dev/null || true)
[ "$state" = disabled ] || fail "mu-serverd.service is '$state' after install, want disabled"
# Installing again runs postinst as an upgrade ("configure <old-version>"): it must be
# idempotent and keep the config's ownership.
dpkg -i "$DEB" >"$WORK/dpkg-i2.log" 2>&1 || { cat "$WORK/dpkg-i2.log"; fail "reinstall (upgrade path) failed"; }
[ "$(stat -c '%a %U %G' /etc/mu-server.toml)" = "640 root mu-server" ] || fail "config perms after upgrade"
/usr/sbin/mu-serverd --version >/dev/null || fail "installed mu-serverd does not run"
/usr/bin/mu-ctl --version >/dev/null || fail "installed mu-ctl does not run"
say "user mu-server (uid $uid, home $home), config 0640 root:mu-server, units installed, disabled"

# ------------------------------------------------------------------------------------------
say "3. systemd-analyze (offline; systemd is not PID 1 here, so no systemctl start)"
if command -v man >/dev/null; then MANCHECK=yes; else MANCHECK=no; fi
for unit in mu-serverd.service mu-serverd@blue.service; do
  systemd-analyze verify --man=$MANCHECK "$unit" >"$WORK/verify.log" 2>&1 || {
    cat "$WORK/verify.log"; fail "systemd-analyze verify $unit"; }
  [ ! -s "$WORK/verify.log" ] || { cat "$WORK/verify.log"; fail "verify $unit printed warnings"; }
  score=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] || fail "no exposure level for $unit"
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$unit exposure $score > 2.0"
  say "$unit: verify ok (man check: $MANCHECK), exposure $score <= 2.0"
done

# ------------------------------------------------------------------------------------------
say "4. installed daemon as user mu-server"
# What RuntimeDirectory=/StateDirectory= (modes 0750) would create.
install -d -o mu-server -g mu-server -m 0750 /run/mu-server /var/lib/mu-server
# The installed config with the test's ports and loopback address (the rest as shipped).
"$PY" - /etc/mu-server.toml "$WORK/mu-server.toml" "$PORT" "$ADMIN_PWD" <<'PYEOF'
import sys, tomllib
src, dst, port, admin = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(src, "rb") as f:
    cfg = tomllib.load(f)
cfg.setdefault("server", {}).update(bind="127.0.0.1", port=port)
cfg.setdefault("auth", {})["admin_password"] = admin
cfg.setdefault("control", {}).update(socket="/run/mu-server/control.sock", group="mu-server")
cfg.setdefault("storage", {})["state_dir"] = "/var/lib/mu-server"
cfg.setdefault("log", {})["target"] = "stderr"

def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise SystemExit(f"unsupported TOML value {v!r}")

lines = []
for table, body in cfg.items():
    if not isinstance(body, dict):
        raise SystemExit(f"unexpected top-level key {table}")
    lines.append(f"[{table}]")
    lines += [f"{k} = {value(v)}" for k, v in body.items()]
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n")
PYEOF
chown root:mu-server "$WORK/mu-server.toml"
chmod 0640 "$WORK/mu-server.toml"
# As the unit's ExecStartPre does: every file read as the service user.
/usr/sbin/mu-serverd --check-config --user mu-server --config "$WORK/mu-server.toml" >"$WORK/check.log" 2>&1 || {
  cat "$WORK/check.log"; fail "the installed config (ports changed) does not validate as user mu-server"; }
grep -q "read as user mu-server" "$WORK/check.log" && grep -q "admin login: *enabled" "$WORK/check.log" || {
  cat "$WORK/check.log"; fail "--check-config --user did not report the effective settings"; }

setpriv --reuid mu-server --regid mu-server --init-groups --inh-caps=-all \
  env -u NOTIFY_SOCKET /usr/sbin/mu-serverd --config "$WORK/mu-server.toml" \
  >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
  [ -S /run/mu-server/control.sock ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "mu-serverd exited early"
  sleep 0.1
done
[ -S /run/mu-server/control.sock ] || fail "no control socket after 10 s"
[ "$(stat -c '%a %U %G' /run/mu-server/control.sock)" = "660 mu-server mu-server" ] ||
  fail "control socket is $(stat -c '%a %U %G' /run/mu-server/control.sock)"
[ "$(ps -o user= -p "$DAEMON_PID")" = mu-server ] || fail "daemon is not running as mu-server"
say "mu-serverd pid $DAEMON_PID runs as mu-server; control socket 0660 mu-server:mu-server"

# Real replication 0.9.10 clients (the conformance suite's Peer helpers): an admin hosts a
# scene, a second user joins and receives it; both stay connected until told to finish.
cat >"$WORK/client.py" <<'PYEOF'
import os, sys, time
root, work, port, admin = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, os.path.join(root, "tests", "conformance"))
from conftest import Peer, host, join, pump

class Server:
    pass

srv = Server()
srv.port, srv.admin_password, srv.server_password, srv.timeout_ms = port, admin, None, 5000
made = []

def make(server, name, **kw):
    p = Peer(server, name, **kw)
    made.append(p)
    return p

try:
    a, scene, objs, blob = host(srv, make, name="pkg-host")
    b = join(srv, make, "pkg-bob", others=[a])
    assert b.nodes() == a.nodes() and len(b.nodes()) == len(objs) + 2, "bob's scene differs"
    open(os.path.join(work, "client.ready"), "w").write("ok")
    deadline = time.monotonic() + 90
    while not os.path.exists(os.path.join(work, "client.done")):
        if time.monotonic() > deadline:
            raise SystemExit("never told to finish")
        for p in made:
            p.listen()
        time.sleep(0.005)
    pump(made, lambda: b.exit_reason is not None, timeout=10, what="bob's Disconnect")
    print("bob exit reason:", b.exit_reason, flush=True)
    open(os.path.join(work, "client.kicked"), "w").write(str(b.exit_reason))
finally:
    for p in made:
        p.close()
PYEOF
"$PY" "$WORK/client.py" "$ROOT" "$WORK" "$PORT" "$ADMIN_PWD" >"$WORK/client.log" 2>&1 &
CLIENT_PID=$!
for _ in $(seq 300); do
  [ -f "$WORK/client.ready" ] && break
  kill -0 "$CLIENT_PID" 2>/dev/null || fail "the Python client session failed"
  sleep 0.1
done
[ -f "$WORK/client.ready" ] || fail "the Python client session did not get ready in 30 s"
say "replication clients: pkg-host uploaded a scene, pkg-bob joined and received it"

useradd --system --no-create-home --shell /usr/sbin/nologin "$MEMBER"
useradd --system --no-create-home --shell /usr/sbin/nologin "$STRANGER"
adduser --quiet "$MEMBER" mu-server
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

as "$MEMBER" /usr/bin/mu-ctl users >"$WORK/users.txt" 2>&1 || {
  cat "$WORK/users.txt"; fail "mu-ctl users by a member of mu-server failed"; }
grep -q '^pkg-host ' "$WORK/users.txt" && grep -q '^pkg-bob ' "$WORK/users.txt" || {
  cat "$WORK/users.txt"; fail "mu-ctl users does not list both clients"; }
as "$MEMBER" /usr/bin/mu-ctl --json users >"$WORK/users.json" || fail "mu-ctl --json users"
"$PY" - "$WORK/users.json" <<'PYEOF' || fail "mu-ctl --json users: unexpected JSON"
import json, sys
v = json.load(open(sys.argv[1]))
names = {u["name"]: u for u in v["users"]}
assert v["ok"] is True and set(names) == {"pkg-host", "pkg-bob"}, v
assert names["pkg-host"]["admin"] is True and names["pkg-bob"]["admin"] is False, v
PYEOF
as "$MEMBER" /usr/bin/mu-ctl status >"$WORK/status.txt" || fail "mu-ctl status"
grep -q "$PORT" "$WORK/status.txt" || { cat "$WORK/status.txt"; fail "status lacks the port"; }
# ExecReload= runs `mu-ctl reload` as the daemon's own user.
as mu-server /usr/bin/mu-ctl reload >"$WORK/reload.txt" 2>&1 || {
  cat "$WORK/reload.txt"; fail "mu-ctl reload as user mu-server (ExecReload) failed"; }
say "member $MEMBER: mu-ctl users/--json/status ok; mu-server: mu-ctl reload ok"

# A second session the way mu-serverd@blue.service runs it (docs/install.md): its own config
# in /etc/mu-server with its own ports and no paths; the state dir and socket come from the
# STATE_DIRECTORY/RUNTIME_DIRECTORY that the unit's StateDirectory=/RuntimeDirectory= set;
# `mu-ctl --instance blue` finds it.
cat >/etc/mu-server/blue.toml <<TOML
[server]
bind = "127.0.0.1"
port = $((PORT + 3))
[control]
group = "mu-server"
[log]
target = "stderr"
TOML
chown root:mu-server /etc/mu-server/blue.toml
chmod 0640 /etc/mu-server/blue.toml
install -d -o mu-server -g mu-server -m 0750 /run/mu-server/blue /var/lib/mu-server/blue
setpriv --reuid mu-server --regid mu-server --init-groups --inh-caps=-all \
  env -u NOTIFY_SOCKET STATE_DIRECTORY=/var/lib/mu-server/blue RUNTIME_DIRECTORY=/run/mu-server/blue \
  /usr/sbin/mu-serverd --config /etc/mu-server/blue.toml \
  >"$WORK/blue.log" 2>&1 &
BLUE_PID=$!
for _ in $(seq 100); do
  [ -S /run/mu-server/blue/control.sock ] && break
  kill -0 "$BLUE_PID" 2>/dev/null || { cat "$WORK/blue.log"; fail "instance blue exited early"; }
  sleep 0.1
done
as "$MEMBER" /usr/bin/mu-ctl --instance blue --json status >"$WORK/blue.json" || {
  cat "$WORK/blue.log"; fail "mu-ctl --instance blue status"; }
"$PY" - "$WORK/blue.json" "$((PORT + 3))" <<'PYEOF' || fail "instance blue status: unexpected"
import json, sys
s = json.load(open(sys.argv[1]))["status"]
p = int(sys.argv[2])
assert s["ports"] == [p, p + 1, p + 2] and s["config_file"] == "/etc/mu-server/blue.toml", s
assert s["state_dir"] == "/var/lib/mu-server/blue", s
PYEOF
as "$MEMBER" /usr/bin/mu-ctl --instance blue stop >/dev/null || fail "mu-ctl --instance blue stop"
for _ in $(seq 100); do kill -0 "$BLUE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$BLUE_PID" || fail "instance blue exited non-zero"
BLUE_PID=""
rm /etc/mu-server/blue.toml # the admin's file; purge would keep it (and say so)
say "instance blue (ports $((PORT + 3))-$((PORT + 5))): mu-ctl --instance blue status/stop ok"

set +e
as "$STRANGER" /usr/bin/mu-ctl users >"$WORK/stranger.txt" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "a user outside group mu-server could use mu-ctl"
grep -qi 'permission denied' "$WORK/stranger.txt" || {
  cat "$WORK/stranger.txt"; fail "the refusal does not say 'permission denied'"; }
say "stranger $STRANGER refused (exit $rc): $(head -n 1 "$WORK/stranger.txt")"

as "$MEMBER" /usr/bin/mu-ctl kick pkg-bob --reason "packaging test" >"$WORK/kick.txt" 2>&1 || {
  cat "$WORK/kick.txt"; fail "mu-ctl kick"; }
touch "$WORK/client.done"
for _ in $(seq 150); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CLIENT_PID" || fail "the client session ended with an error"
CLIENT_PID=""
grep -q 'packaging test' "$WORK/client.kicked" || fail "bob's Disconnect reason: $(cat "$WORK/client.kicked")"
say "kick: pkg-bob received Disconnect with the reason ($(cat "$WORK/client.kicked"))"

as "$MEMBER" /usr/bin/mu-ctl stop >/dev/null || fail "mu-ctl stop"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "mu-serverd still running 10 s after mu-ctl stop"
wait "$DAEMON_PID" || fail "mu-serverd exited non-zero after mu-ctl stop"
DAEMON_PID=""
[ ! -e /run/mu-server/control.sock ] || fail "control socket left behind after stop"
say "mu-ctl stop: daemon exited 0 and removed its socket"

# ------------------------------------------------------------------------------------------
say "5. dpkg --purge"
systemctl enable mu-serverd.service mu-serverd@blue.service >/dev/null 2>&1 ||
  fail "systemctl enable (offline) failed"
[ "$(systemctl is-enabled mu-serverd.service)" = enabled ] || fail "enable did not take"
dpkg --purge mu-server >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge"; }
left=()
while read -r _ _ path; do
  [ "$path" = / ] && continue
  if [ -e "$path" ] && ! [ -d "$path" ]; then left+=("$path"); fi
  # Package directories that are ours alone must be gone too.
  case "$path" in /usr/share/doc/mu-server/) [ -d "$path" ] && left+=("$path") ;; esac
done <"$WORK/contents"
for p in /etc/mu-server.toml /etc/mu-server /var/lib/mu-server /run/mu-server \
  /usr/share/doc/mu-server; do
  [ -e "$p" ] && left+=("$p")
done
while read -r p; do left+=("$p"); done < <(find /etc/systemd /usr/lib/systemd /lib/systemd \
  /var/lib/systemd -name 'mu-serverd*' 2>/dev/null)
[ ${#left[@]} -eq 0 ] || fail "left behind after purge: ${left[*]}"
getent passwd mu-server >/dev/null && say "user mu-server kept after purge (Debian policy); the test deletes it"
say "purge left no files, directories, units or enablement links"
say "ok"
