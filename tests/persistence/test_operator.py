"""mu-ctl as an operator meets it (issue 15): `mu-ctl stop` returns only once the daemon's
process is gone (scripts stop, then back up or start again), and a daemon run by hand by an
ordinary user, who cannot create /run/mu-server, puts its control socket under
$XDG_RUNTIME_DIR/mu-server/ where mu-ctl finds it without --socket."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import binary, free_base_port, helpers

pump, host, join = helpers.pump, helpers.host, helpers.join


def test_mu_ctl_stop_returns_after_the_daemon_has_exited(daemon, peers):
    d = daemon().start()
    a, *_ = host(d, peers, n_objs=20, blob_size=200_000)
    b = join(d, peers, "bob", others=[a])
    out = d.ctl("stop")
    # The daemon is our child: once it has exited it is a zombie until we reap it, and
    # poll() reaps it right away. Without waiting, mu-ctl returns while the daemon still
    # disconnects clients and writes the final snapshot (hundreds of ms).
    assert d.proc.poll() == 0, f"mu-ctl stop returned while mu-serverd runs: {out.stdout}"
    assert "final snapshot" in d.log()
    for p in (a, b):
        p.close()


def test_mu_ctl_stop_no_wait_returns_at_once(daemon):
    d = daemon().start()
    t = time.monotonic()
    d.ctl("stop", "--no-wait")
    assert time.monotonic() - t < 5
    assert d.wait_exit(15) == 0


def as_user():
    """(uid, gid, argv prefix) to run as an ordinary user: ourselves, or nobody when root."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid(), []
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid, ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                                          "--clear-groups"]


@pytest.mark.skipif(os.path.exists("/run/mu-server/control.sock"),
                    reason="a packaged mu-serverd runs here: mu-ctl would find its socket first")
def test_a_non_root_daemon_puts_its_socket_under_xdg_runtime_dir():
    # pytest's tmp_path lives under a 0700 directory of root's; the other user needs a way in.
    tmp_path = Path(tempfile.mkdtemp(prefix="mu-xdg-"))
    try:
        run_as_user(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def run_as_user(tmp_path):
    uid, gid, prefix = as_user()
    os.chmod(tmp_path, 0o755)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    state = tmp_path / "state"
    state.mkdir()
    os.chown(runtime, uid, gid)
    os.chown(state, uid, gid)
    port = free_base_port()
    cfg = tmp_path / "mu.toml"
    # No [control] socket: the built-in default /run/mu-server/control.sock, which this user
    # cannot create.
    cfg.write_text(f'[server]\nbind = "127.0.0.1"\nport = {port}\n[storage]\nstate_dir = "{state}"\n'
                   '[log]\ntarget = "stderr"\n')
    os.chmod(cfg, 0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "RUNTIME_DIRECTORY", "STATE_DIRECTORY")}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    log = open(tmp_path / "daemon.log", "wb")
    proc = subprocess.Popen([*prefix, str(binary("mu-serverd")), "--config", str(cfg)], env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    sock = runtime / "mu-server" / "control.sock"
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None, (tmp_path / "daemon.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()
            time.sleep(0.05)
        ctl = [*prefix, str(binary("mu-ctl")), "--timeout", "20"]
        out = subprocess.run([*ctl, "status"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert str(port) in out.stdout and str(state) in out.stdout, out.stdout
        # The same settings --check-config prints, as the running daemon holds them.
        assert re.search(rf"^pid: +{proc.pid}$", out.stdout, re.M), out.stdout
        assert re.search(rf"^socket: +{sock}$", out.stdout, re.M), out.stdout
        assert re.search(r"^server pw: +not set", out.stdout, re.M), out.stdout
        assert re.search(r"^admin: +disabled", out.stdout, re.M), out.stdout
        out = subprocess.run([*ctl, "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert proc.poll() == 0
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()
