"""Login and server info: the four FAILED answers, their precedence, LOBBY/RUNNING, the
`private` flag and public servers."""

import pytest
from replication import porcelain
from replication.constants import STATE_ACTIVE, STATE_INITIAL

from conftest import host, pump


def test_server_info(kind, start_server):
    public = start_server()
    info = porcelain.request_session_info(f"127.0.0.1:{public.port}", timeout=2000)
    assert info["version"] == "0.9.10"
    # difference 6: the reference says private=True without a password ('None' is truthy)
    assert info["private"] is (kind == "reference")
    private = start_server(server_password="pw")
    info = porcelain.request_session_info(f"127.0.0.1:{private.port}", timeout=2000)
    assert info == {"private": True, "version": "0.9.10"}


def test_auth_failures_and_their_order(start_server, raw):
    server = start_server(server_password="pw")
    first = raw(server.port)
    assert first.auth("alice", server_pwd="pw") == "LOBBY"
    r = raw(server.port)
    # every check fails at once: the first in the reference's order wins
    assert r.auth("alice", admin_pwd="bad", server_pwd="bad", version="0.0.1", auth_type="ADMIN") \
        == "FAILED: client already logged in"
    assert r.auth("zoe", admin_pwd="bad", server_pwd="bad", version="0.0.1", auth_type="ADMIN") \
        == "FAILED: wrong admin password"
    assert r.auth("zoe", server_pwd="bad", version="0.0.1") == "FAILED: wrong server password"
    assert r.auth("zoe", server_pwd=None, version="0.0.1") == "FAILED: wrong server password"
    assert r.auth("zoe", server_pwd="pw", version="0.0.1") == "FAILED: wrong client version (0.0.1 != 0.9.10)"
    assert r.auth("zoe", server_pwd="pw", version=None) == "FAILED: wrong client version (None != 0.9.10)"
    # and finally a good one
    assert r.auth("zoe", admin_pwd=server.admin_password, server_pwd="pw", auth_type="ADMIN") == "LOBBY"


def test_real_client_refused_disconnects(start_server, peers):
    server = start_server(server_password="pw")
    p = peers(server, "eve", server_password="wrong")
    pump([p], lambda: p.state == STATE_INITIAL, what="refusal")
    assert "FAILED: wrong server password" in p.exit_reason
    server.admin_password = "not-the-admin-password"   # what this client will send
    q = peers(server, "mallory", admin=True, server_password="pw")
    pump([q], lambda: q.state == STATE_INITIAL, what="refusal")
    assert "FAILED: wrong admin password" in q.exit_reason


def test_running_answer_after_init(server, peers, raw):
    a, *_ = host(server, peers)
    r = raw(server.port)
    assert r.auth("late") == "RUNNING"


def test_admin_flag_in_user_list(server, peers):
    a, *_ = host(server, peers)
    pump([a], lambda: a.users().get("host", {}).get("admin") is True
         and a.users()["host"]["status"] == STATE_ACTIVE, timeout=4, what="admin flag, ACTIVE")


@pytest.mark.difference(10)
def test_public_server_accepts_any_password(kind, server, raw):
    r = raw(server.port)
    assert r.auth("nopwd", server_pwd=None) == "LOBBY"
    r2 = raw(server.port)
    expected = "LOBBY" if kind == "mu" else "FAILED: wrong server password"
    assert r2.auth("empty", server_pwd="") == expected     # what the addon sends for "no password"
    r3 = raw(server.port)
    assert r3.auth("anything", server_pwd="whatever") == expected
