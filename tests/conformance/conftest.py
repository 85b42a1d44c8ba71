"""Fixtures of the conformance suite: start a server (mu-serverd or the reference
`python -m replication.server`) on a free loopback port of our range, real replication clients
with the toy protocol, raw pyzmq peers, and bounded pump/wait helpers.

Every wait is bounded; nothing sleeps longer than needed."""

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import zmq

import replication
from replication import porcelain
from replication.constants import STATE_ACTIVE, STATE_INITIAL, STATE_LOBBY
from replication.interface import Session
from replication.repository import Repository

import toy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PORT_LO, PORT_HI = 21000, 21999
ADMIN_PWD = "admin-secret"
SERVERS = os.environ.get("MU_CONFORMANCE_SERVERS", "mu reference").split()
# The replication release this process's clients speak (0.9.10 in .venv, 0.9.9 in .venv-099).
CLIENT_VERSION = replication.__version__
# `[server] client_versions` for mu-serverd (unset: the server's default, ["0.9.10"]).
CLIENT_VERSIONS = os.environ.get("MU_CONFORMANCE_CLIENT_VERSIONS", "").split() or None


def pytest_configure(config):
    config.addinivalue_line("markers", "difference(n): asserts a deliberate difference (PROTOCOL.md #n)")
    config.addinivalue_line("markers", "mu_only: mu-serverd behaviour the reference lacks or would crash on")


# ---------------------------------------------------------------------------------------------
# ports

class PortTriples:
    """Free loopback port triples (P, P+1, P+2) in [lo, hi], taken round-robin from a start that
    depends on the process id (parallel test processes start apart). The persistence suite
    uses its own range through this class too."""

    def __init__(self, lo, hi, spread):
        self.lo, self.hi = lo, hi
        self.next = lo + (os.getpid() % spread) * 3

    @staticmethod
    def is_free(port):
        for p in (port, port + 1, port + 2):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # libzmq binds with SO_REUSEADDR: connections of a killed server in TIME_WAIT do not
            # keep it from binding again, so they must not keep us waiting either.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
            finally:
                s.close()
        return True

    def take(self):
        for _ in range((self.hi - self.lo) // 3):
            port = self.next
            self.next = port + 3 if port + 3 + 2 <= self.hi else self.lo
            if self.is_free(port):
                return port
        raise RuntimeError(f"no free port triple in {self.lo}-{self.hi}")


_ports = PortTriples(PORT_LO, PORT_HI, 50)


def free_base_port():
    return _ports.take()


# ---------------------------------------------------------------------------------------------
# servers

def _die_with_parent():
    """Servers get SIGTERM if the test process dies (e.g. killed by a timeout)."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def mu_binary():
    b = os.environ.get("MU_SERVERD_BIN")
    return Path(b) if b else ROOT / "target" / "debug" / "mu-serverd"


class Server:
    """One running server process; `kind` is 'mu' or 'reference'."""

    def __init__(self, kind, tmp, timeout_ms=2000, server_password=None, admin_password=ADMIN_PWD,
                 queue_limit=None, max_clients=None, max_message_bytes=None,
                 client_versions=CLIENT_VERSIONS, state_dir=None, join_window=None, server_extra=()):
        self.kind = kind
        self.port = free_base_port()
        self.timeout_ms = timeout_ms
        self.server_password = server_password
        self.admin_password = admin_password
        self.log_path = Path(tmp) / f"{kind}-{self.port}.log"
        self._log = open(self.log_path, "wb")
        if kind == "mu":
            cfg = Path(tmp) / f"mu-{self.port}.toml"
            lines = ["[server]", 'bind = "127.0.0.1"', f"port = {self.port}", f"timeout_ms = {timeout_ms}"]
            if queue_limit:
                lines.append(f"client_queue_limit = {queue_limit}")
            if max_clients:
                lines.append(f"max_clients = {max_clients}")
            if max_message_bytes:
                lines.append(f"max_message_bytes = {max_message_bytes}")
            if client_versions is not None:
                lines.append("client_versions = [" + ", ".join(f'"{v}"' for v in client_versions) + "]")
            if join_window is not None:
                lines.append(f"join_window = {join_window}")
            lines += list(server_extra)     # more `key = value` lines of [server]
            lines.append("[auth]")
            if admin_password is not None:
                lines.append(f'admin_password = "{admin_password}"')
            if server_password is not None:
                lines.append(f'server_password = "{server_password}"')
            lines += ["[storage]"] + ([f'state_dir = "{state_dir}"'] if state_dir else ["enabled = false"])
            lines += ["[control]", "enabled = false",
                      "[log]", 'level = "debug"', 'target = "stderr"']
            cfg.write_text("\n".join(lines) + "\n")
            argv = [str(mu_binary()), "--config", str(cfg)]
        else:
            argv = [sys.executable, "-m", "replication.server", "-p", str(self.port),
                    "-t", str(timeout_ms), "-apwd", str(admin_password), "-l", "DEBUG",
                    "-lf", str(Path(tmp) / f"ref-{self.port}.file.log")]
            if server_password is not None:
                argv += ["-spwd", server_password]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=tmp, preexec_fn=_die_with_parent)
        self._wait_ready()

    def _wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.log()}")
            if server_info(self.port, timeout_ms=200) is not None:
                return
        raise RuntimeError(f"{self.kind} server not answering on {self.port}: {self.log()}")

    def log(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_log(self, needle, timeout=5.0):
        """Waits until `needle` appears in the server log; returns the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if needle in text:
                return text
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} not in {self.kind} log:\n{self.log()[-3000:]}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        self._log.close()


@pytest.fixture(params=[s for s in ("mu", "reference") if s in SERVERS])
def kind(request):
    return request.param


@pytest.fixture
def start_server(kind, tmp_path):
    started = []

    def start(**kw):
        s = Server(kind, tmp_path, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def mu_server(tmp_path):
    if "mu" not in SERVERS:
        pytest.skip("mu-serverd not selected")
    started = []

    def start(**kw):
        s = Server("mu", tmp_path, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


# ---------------------------------------------------------------------------------------------
# WAN link (issue 16)

def bench_binary():
    b = os.environ.get("MU_BENCH_BIN")
    return Path(b) if b else ROOT / "target" / "debug" / "mu-bench"


class Wan:
    """`mu-bench wan-proxy` in front of a server's three ports: a fixed one-way delay each
    direction. Has what `Peer` reads of a server, with the proxy's port."""

    def __init__(self, server, delay_ms, tmp):
        self.server = server
        self.port = free_base_port()
        self.timeout_ms = server.timeout_ms
        self.admin_password = server.admin_password
        self.server_password = server.server_password
        self.log_path = Path(tmp) / f"wan-{self.port}.log"
        self._log = open(self.log_path, "wb")
        argv = [str(bench_binary()), "wan-proxy", "--listen", str(self.port),
                "--target", str(server.port), "--delay-ms", str(delay_ms)]
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while b"ready" not in self.log_path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"wan-proxy did not start: {self.log_path.read_text()}")
            time.sleep(0.01)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(3)
        self._log.close()


@pytest.fixture
def wan(tmp_path):
    made = []

    def make(server, delay_ms):
        w = Wan(server, delay_ms, tmp_path)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


# ---------------------------------------------------------------------------------------------
# real clients

class Peer:
    """A real replication client (0.9.10, or 0.9.9 in .venv-099: interface.Session + porcelain +
    Repository, ttl.py heartbeat subprocess) with its own toy world."""

    def __init__(self, server, name, admin=False, server_password=None, timeout_ms=None):
        self.name = name
        self.world = toy.World()
        self.repo = Repository(rdp=toy.make_protocol(self.world), username=name)
        admin_password = server.admin_password if admin else None
        if server_password is None:
            server_password = server.server_password
        porcelain.remote_add(self.repo, "origin", "127.0.0.1", server.port,
                             server_password=server_password, admin_password=admin_password)
        self.session = Session()
        self.exit_reason = None
        self.session.register("on_exit")(self._on_exit)
        self.session.connect(repository=self.repo, timeout=timeout_ms or max(server.timeout_ms, 2000),
                             server_password=server_password, admin_password=admin_password)

    def _on_exit(self, reason):
        self.exit_reason = reason

    @property
    def state(self):
        return self.session.state

    def listen(self, rounds=20):
        for _ in range(rounds):
            self.session.listen(timeout=0)

    def users(self):
        return self.session.online_users or {}

    def nodes(self):
        """uuid -> (owner, dependencies, data): what must agree between clients."""
        return {u: (n.owner, list(n.dependencies or []), n.data)
                for u, n in self.repo.object_store.items()}

    def apply_all(self):
        for u in list(self.repo.object_store.keys()):
            porcelain.apply(self.repo, u)

    def instance(self, node_uuid):
        return self.world.by_uuid.get(node_uuid) or self.repo.graph.get(node_uuid).instance

    def commit_push(self, node_uuid):
        porcelain.commit(self.repo, node_uuid)
        porcelain.push(self.repo, "origin", node_uuid)

    def close(self):
        if self.session.state not in (STATE_INITIAL,):
            try:
                self.session.disconnect(reason="test over")
            except Exception:
                pass
        ttl = getattr(self.session, "_ttl", None)
        if ttl is not None and ttl.poll() is None:
            ttl.kill()
            ttl.wait(3)


def pump(peers, until, timeout=10.0, what="condition"):
    """Lets the clients process messages until `until()` holds (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        for p in peers:
            p.listen()
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def pump_for(peers, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in peers:
            p.listen()
        time.sleep(0.001)


@pytest.fixture
def peers():
    made = []

    def make(server, name, **kw):
        p = Peer(server, name, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def build_scene(peer, n_objs=3, blob_size=2000, seed=1):
    objs = [toy.Obj(f"{peer.name}-obj{i}") for i in range(n_objs)]
    for i, o in enumerate(objs):
        o.location = [float(i), 0.5 * i, -1.0]
        o.tags = {f"t{i}"}
        o.modifiers = [{"kind": "subsurf", "levels": i}]
    blob = toy.Blob("blob", bytes((seed * 7 + k) % 256 for k in range(blob_size)))
    scene = toy.Scene("scene", objs + [blob])
    porcelain.add(peer.repo, scene)
    return scene, objs, blob


def host(server, make_peer, name="host", **kw):
    """A client that logs in while the session is WAITING and uploads its scene."""
    p = make_peer(server, name, admin=True)
    pump([p], lambda: p.state == STATE_LOBBY, what="LOBBY")
    scene, objs, blob = build_scene(p, **kw)
    p.session.init()
    pump([p], lambda: p.state == STATE_ACTIVE, what="upload DONE")
    return p, scene, objs, blob


def join(server, make_peer, name, others=(), **kw):
    p = make_peer(server, name, **kw)
    pump([p, *others], lambda: p.state == STATE_ACTIVE, what=f"{name} joined")
    p.apply_all()
    return p


def wait_same(peers, timeout=10.0):
    """Waits until every client holds the same nodes; returns them."""
    def same():
        first = peers[0].nodes()
        return all(p.nodes() == first for p in peers[1:])
    pump(peers, same, timeout=timeout, what="clients to agree")
    return peers[0].nodes()


# ---------------------------------------------------------------------------------------------
# raw peers

def frames_cmd(type_num, data, owner="raw"):
    return [pickle.dumps(type_num, protocol=4), owner.encode(), pickle.dumps(data, protocol=4)]


class Raw:
    """Three DEALER sockets with one identity, speaking frames directly."""

    def __init__(self, port, identity=None):
        self.ctx = zmq.Context()
        self.identity = identity or uuid.uuid4().bytes
        self.sock = {}
        for ch, off in (("cmd", 0), ("data", 1), ("hb", 2)):
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.IDENTITY, self.identity)
            s.linger = 0
            s.connect(f"tcp://127.0.0.1:{port + off}")
            self.sock[ch] = s

    def send(self, ch, frames):
        self.sock[ch].send_multipart(frames)

    def recv(self, ch="cmd", timeout_ms=2000):
        s = self.sock[ch]
        if s.poll(timeout_ms):
            return s.recv_multipart()
        return None

    def recv_cmd(self, want_type=None, timeout_ms=2000):
        """Next command (type, owner, data) of `want_type`, skipping others (bounded)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            f = self.recv("cmd", max(1, int((deadline - time.monotonic()) * 1000)))
            if f is None:
                return None
            t = pickle.loads(f[0])
            if want_type is None or t == want_type:
                return t, f[1].decode(), pickle.loads(f[2])
        return None

    def auth(self, name, admin_pwd=None, server_pwd=None, version=CLIENT_VERSION, auth_type=None):
        data = {"AUTH_TYPE": auth_type or ("ADMIN" if admin_pwd else "CLIENT"), "AUTH_ID": name,
                "S_PWD": server_pwd, "A_PWD": admin_pwd, "VERSION": version}
        self.send("cmd", frames_cmd(9, data, owner=name))
        got = self.recv_cmd(9)
        return got[2] if got else None

    def close(self):
        for s in self.sock.values():
            s.close(0)
        self.ctx.term()


def server_info(port, timeout_ms=500):
    r = Raw(port)
    try:
        r.send("cmd", frames_cmd(14, "RQ_INFO", owner="guest"))
        got = r.recv_cmd(14, timeout_ms)
        return got[2] if got else None
    finally:
        r.close()


@pytest.fixture
def raw():
    made = []

    def make(port, **kw):
        r = Raw(port, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()
