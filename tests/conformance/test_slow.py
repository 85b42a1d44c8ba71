"""Difference 9: a client that stops reading is disconnected (with a log line) once its bounded
queue is full, while the other clients keep receiving every update."""

import pytest

from conftest import host, join, pump, pump_for, wait_same

pytestmark = [pytest.mark.mu_only, pytest.mark.difference(9)]


def test_slow_client_disconnected_others_get_everything(mu_server, peers):
    server = mu_server(timeout_ms=4000, queue_limit=100)
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    d = join(server, peers, "dave", others=[a, b])
    slow = join(server, peers, "slow", others=[a, b, d])
    # slow stops reading from now on (its ttl.py keeps answering PINGs, so it is not "lost")
    live = [a, b, d]
    o = objs[0]
    n = 0
    for i in range(2500):
        o.modifiers.append({"i": i})
        a.commit_push(o.uuid)
        blob.payload = bytes([i % 256]) * 16_000
        a.commit_push(blob.uuid)
        n += 1
        for p in (b, d):
            p.listen(rounds=4)
        if i % 50 == 0 and "outbound queue overflow" in server.log():
            break
    server.wait_log("outbound queue overflow", timeout=10)
    assert "slow" in server.log()
    final = wait_same(live, timeout=30)
    mods = final[o.uuid][2]["modifiers"]
    assert [m["i"] for m in mods if "i" in m] == list(range(n))
    pump(live, lambda: all("slow" not in p.users() for p in live), timeout=4, what="slow gone from the list")
