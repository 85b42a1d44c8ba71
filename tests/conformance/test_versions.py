"""Addon generations (issue 17), through the real binary with real clients of three replication
releases: this process's 0.9.9 (.venv-099), a 0.9.10 one in a subprocess (.venv), and a 0.10.3
one that speaks no ZeroMQ (.venv-0103). tests/suite.d/30-conformance.sh runs this file with
the 0.9.9 interpreter, next to test_session.py against a server that admits 0.9.9."""

import os
import re
import socket
import subprocess

import pytest
from replication import porcelain
from replication.constants import STATE_ACTIVE, STATE_INITIAL

from conftest import CLIENT_VERSION, HERE, host, join, pump

pytestmark = [
    pytest.mark.mu_only,
    pytest.mark.skipif(CLIENT_VERSION != "0.9.9",
                       reason="runs with the replication 0.9.9 client set (.venv-099)"),
]

PY_0910 = os.environ.get("MU_VENV_0910_PYTHON")
PY_0103 = os.environ.get("MU_VENV_0103_PYTHON")


def other(python, *args, timeout=30):
    """Runs other_client.py / new_transport_client.py with another release's interpreter."""
    if not python:
        pytest.fail("MU_VENV_0910_PYTHON / MU_VENV_0103_PYTHON not set (see 30-conformance.sh)")
    return subprocess.run([python, *args], cwd=HERE, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class Holder:
    """A 0.9.10 client hosting a scene in a subprocess until closed."""

    def __init__(self, server, name="host0910"):
        if not PY_0910:
            pytest.fail("MU_VENV_0910_PYTHON not set (see 30-conformance.sh)")
        self.proc = subprocess.Popen([PY_0910, "other_client.py", str(server.port), name, "host"],
                                     cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()   # bounded: the helper's own waits are bounded
        assert line.strip() == "ACTIVE", line

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def test_a_default_server_refuses_0_9_9(mu_server, peers):
    server = mu_server(client_versions=None)       # no client_versions: ["0.9.10"]
    p = peers(server, "old")
    pump([p], lambda: p.state == STATE_INITIAL and p.exit_reason, what="refusal")
    assert "FAILED: wrong client version (0.9.9 != 0.9.10)" in p.exit_reason
    assert "Auth refused for old peer" in server.wait_log("wrong client version (0.9.9")
    info = porcelain.request_session_info(f"127.0.0.1:{server.port}", timeout=2000)
    assert info["version"] == "0.9.10"


def test_a_session_held_by_0_9_10_refuses_0_9_9_until_reset(mu_server, peers):
    server = mu_server(client_versions=["0.9.10", "0.9.9"])
    holder = Holder(server)
    try:
        info = porcelain.request_session_info(f"127.0.0.1:{server.port}", timeout=2000)
        assert info["version"] == "0.9.10"
        p = peers(server, "old")
        pump([p], lambda: p.state == STATE_INITIAL and p.exit_reason, what="refusal")
        assert "FAILED: wrong client version (0.9.9 != 0.9.10)" in p.exit_reason
        assert "holds replication 0.9.10 clients until it is reset" in server.log()
    finally:
        holder.close()
    # Nobody is logged in now, but the session keeps the 0.9.10 scene.
    q = peers(server, "old2")
    pump([q], lambda: q.state == STATE_INITIAL and q.exit_reason, what="refusal")
    assert "FAILED: wrong client version (0.9.9 != 0.9.10)" in q.exit_reason


def test_a_0_9_9_session_survives_a_restart_with_its_version(mu_server, peers, tmp_path):
    state = tmp_path / "state"
    first = mu_server(client_versions=["0.9.10", "0.9.9"], state_dir=state)
    a, scene, objs, blob = host(first, peers)
    assert "the session now holds replication 0.9.9 clients" in first.log()
    a.close()
    first.stop()
    second = mu_server(client_versions=["0.9.10", "0.9.9"], state_dir=state)
    assert "replication 0.9.9 clients" in second.wait_log("session installed")
    info = porcelain.request_session_info(f"127.0.0.1:{second.port}", timeout=2000)
    assert info["version"] == "0.9.9"
    got = other(PY_0910, "other_client.py", str(second.port), "new", "login")
    assert "REFUSED" in got.stdout and "(0.9.10 != 0.9.9)" in got.stdout, got.stdout + got.stderr
    b = join(second, peers, "back")
    assert len(b.nodes()) == len(objs) + 2


def test_a_0_10_3_client_gets_one_warn_line_and_nobody_else_notices(mu_server, peers):
    server = mu_server()
    a, *_ = host(server, peers)
    got = other(PY_0103, "new_transport_client.py", str(server.port), "2")
    assert "replication 0.10" in got.stdout, got.stdout + got.stderr
    log = server.wait_log("does not speak ZeroMQ")
    lines = [l for l in log.splitlines() if "does not speak ZeroMQ" in l]
    assert len(lines) == 1, lines                  # several connections, one line per host
    assert re.search(r"WARN .*peer 127\.0\.0\.1:\d+ on the command port "
                     + str(server.port), lines[0]), lines[0]
    assert "replication 0.9.12 and later use a single-port transport" in lines[0]
    assert server.alive()
    b = join(server, peers, "bob", others=[a])
    assert b.nodes() == a.nodes() and b.state == STATE_ACTIVE


def test_zeromq_clients_and_port_checks_get_no_such_line(mu_server, peers):
    server = mu_server()
    a, *_ = host(server, peers)
    for off in range(3):
        socket.create_connection(("127.0.0.1", server.port + off)).close()
    join(server, peers, "bob", others=[a])
    # bob's login went through the same loop after the port checks' events
    assert "does not speak ZeroMQ" not in server.wait_log("bob: user online")
