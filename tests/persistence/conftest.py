"""Fixtures of the persistence suite: mu-serverd with a state directory (and a control socket
for mu-ctl), restarted or killed between steps, and the real replication clients of the
conformance suite (its Peer/pump/host/join helpers are reused, loaded under another name).

Ports: 23000-23999. Every wait is bounded."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"
PORT_LO, PORT_HI = 23000, 23999

sys.path.insert(0, str(CONFORMANCE))
_spec = importlib.util.spec_from_file_location("conformance_helpers", CONFORMANCE / "conftest.py")
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


def binary(name):
    env = {"mu-serverd": "MU_SERVERD_BIN", "mu-ctl": "MU_CTL_BIN"}[name]
    b = os.environ.get(env)
    return Path(b) if b else ROOT / "target" / "debug" / name


_ports = helpers.PortTriples(PORT_LO, PORT_HI, 100)


def free_base_port():
    return _ports.take()


class Daemon:
    """mu-serverd with persistence in `state_dir`. `start()` may be called again after `stop()`
    or `kill()`: same state directory, same port when it is free again, a fresh log file."""

    admin_password = "admin-secret"
    server_password = None
    timeout_ms = 2000

    def __init__(self, tmp, state_dir=None, fsync="batch", snapshot_interval_s=3600, extra_storage=(),
                 user=None, extra_control=(), auth=None):
        self.tmp = Path(tmp)
        self.state_dir = Path(state_dir) if state_dir else self.tmp / "state"
        self.fsync = fsync
        self.snapshot_interval_s = snapshot_interval_s
        self.extra_storage = list(extra_storage)
        self.extra_control = list(extra_control)
        self.auth = auth  # lines replacing the [auth] admin_password line
        self.user = user  # (uid, gid) to run as, through setpriv
        self.port = free_base_port()
        self.socket = self.tmp / f"ctl-{self.port}.sock"
        self.proc = None
        self.runs = 0
        self.log_path = None

    def config(self):
        cfg = self.tmp / f"mu-{self.port}.toml"
        lines = ["[server]", 'bind = "127.0.0.1"', f"port = {self.port}", f"timeout_ms = {self.timeout_ms}",
                 "[auth]", *(self.auth if self.auth is not None else [f'admin_password = "{self.admin_password}"']),
                 "[storage]", "enabled = true", f'state_dir = "{self.state_dir}"', f'fsync = "{self.fsync}"',
                 "fsync_interval_ms = 200", f"snapshot_interval_s = {self.snapshot_interval_s}",
                 "max_backups = 3", *self.extra_storage,
                 "[control]", "enabled = true", f'socket = "{self.socket}"', *self.extra_control,
                 "[log]", 'level = "debug"', 'target = "stderr"']
        cfg.write_text("\n".join(lines) + "\n")
        return cfg

    def start(self, *flags, expect_ready=True, timeout=20.0):
        assert self.proc is None or self.proc.poll() is not None
        self.runs += 1
        self.log_path = self.tmp / f"mu-{self.port}-run{self.runs}.log"
        self._log = open(self.log_path, "wb")
        argv = [str(binary("mu-serverd")), "--config", str(self.config()), *flags]
        if self.user:
            uid, gid = self.user
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp)
        if expect_ready:
            self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mu-serverd exited ({self.proc.returncode}): {self.log()}")
            if helpers.server_info(self.port, timeout_ms=200) is not None:
                return
        raise RuntimeError(f"mu-serverd not answering on {self.port}: {self.log()}")

    def wait_exit(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_log(self, needle, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if needle in text:
                return text
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} not in the log:\n{self.log()[-4000:]}")

    def stop(self):
        """SIGTERM and wait: the clean shutdown writes the final snapshot."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.wait_exit(15)
            self._wait_ports_free()
            return rc
        return self.proc.returncode if self.proc else None

    def kill(self):
        """kill -9: no shutdown code runs at all."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.wait_exit(10)
            self._wait_ports_free()

    def _wait_ports_free(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not helpers.PortTriples.is_free(self.port):
            time.sleep(0.02)

    def ctl(self, *args, check=True):
        out = subprocess.run([str(binary("mu-ctl")), "--socket", str(self.socket), "--timeout", "20", *args],
                             capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"mu-ctl {args} failed ({out.returncode}): {out.stdout}{out.stderr}")
        return out


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(workdir=None, **kw):
        d = Daemon(workdir or tmp_path, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        if d.proc and d.proc.poll() is None:
            d.proc.kill()
            d.wait_exit(5)


@pytest.fixture
def peers():
    made = []

    def make(server, name, **kw):
        p = helpers.Peer(server, name, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def released(nodes):
    """What a restarted server must hold: the same nodes, every lock released."""
    return {u: ("COMMON", deps, data) for u, (owner, deps, data) in nodes.items()}
