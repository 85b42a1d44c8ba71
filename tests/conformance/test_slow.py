"""Difference 9: a client that stops reading is disconnected (with a log line) once its bounded
queue is full, while the other clients keep receiving every update, in order."""

import pytest
from replication.objects import Commit

from conftest import host, join, pump, wait_same

pytestmark = [pytest.mark.mu_only, pytest.mark.difference(9)]


def record_updates(peer, obj_uuid, blob_uuid):
    """Every data update the client applies: ('commit', pass_index) / ('node', name)."""
    seen = []
    original = peer.repo.do_commit

    def do_commit(update, *a, **kw):
        original(update, *a, **kw)
        node_id = getattr(update, "uuid", getattr(update, "node_id", None))
        data = peer.repo.graph.get(node_id).data
        if node_id == obj_uuid and isinstance(update, Commit):
            seen.append(("commit", data["props"]["pass_index"]))
        elif node_id == blob_uuid:
            seen.append(("node", data["name"]))

    peer.repo.do_commit = do_commit
    return seen


def test_slow_client_disconnected_others_get_everything(mu_server, peers):
    server = mu_server(timeout_ms=4000, queue_limit=100)
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    d = join(server, peers, "dave", others=[a, b])
    slow = join(server, peers, "slow", others=[a, b, d])
    # from now on `slow` stops reading (its ttl.py keeps answering PINGs: it is not "lost")
    o = objs[0]
    seen = {p.name: record_updates(p, o.uuid, blob.uuid) for p in (b, d)}
    n = 0
    for i in range(6000):
        o.props["pass_index"] = i + 1   # 0 is the initial value: no diff
        a.commit_push(o.uuid)
        blob.name = f"v{i}"
        blob.payload = bytes([i % 256]) * 8_000
        a.commit_push(blob.uuid)
        n += 1
        for p in (b, d):
            p.listen(rounds=4)
        if i % 100 == 0 and "outbound queue overflow" in server.log():
            break
    text = server.wait_log("outbound queue overflow", timeout=10)
    print(f"slow client dropped after {n} rounds ({2 * n} updates)")
    assert "slow (" in text.split("outbound queue overflow")[0].splitlines()[-1]
    wait_same([a, b, d], timeout=30)
    expected = [x for i in range(n) for x in (("commit", i + 1), ("node", f"v{i}"))]
    for name, got in seen.items():
        assert got == expected, f"{name} missed or reordered updates"
    pump([a, b, d], lambda: all("slow" not in p.users() for p in (a, b, d)), timeout=4,
         what="slow gone from the user list")
    # the slow client, once it reads again, finds the Disconnect after its backlog
    pump([slow], lambda: slow.exit_reason is not None, timeout=20, what="slow's Disconnect")
    assert "overflow" in str(slow.exit_reason)
