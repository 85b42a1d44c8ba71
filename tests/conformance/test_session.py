"""The protocol as an unmodified client sees it: upload, joins, relays, locks, deletes,
metadata, kicks, leaving. Every test runs against mu-serverd and the reference server; where a
deliberate difference of PROTOCOL.md applies, the test says which and expects it."""

import pytest
from replication import porcelain
from replication.constants import STATE_ACTIVE, STATE_INITIAL, STATE_LOBBY
from replication.objects import Kick

import toy
from conftest import build_scene, host, join, pump, pump_for, wait_same


def test_host_init_and_join_with_snapshot(server, peers):
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    assert b.nodes() == a.nodes()
    assert len(b.nodes()) == len(objs) + 2
    pump([a, b], lambda: set(a.users()) == {"host", "bob"} and set(b.users()) == {"host", "bob"},
         what="user lists")
    pump([a, b], lambda: a.users()["bob"]["status"] == STATE_ACTIVE, what="bob ACTIVE in the list")
    # the blob's bytes and the nested types survive the round trip through the server
    if server.kind == "mu":   # the phrases admins grep for
        log = server.wait_log("bob: user online")
        assert "Auth request from host (ADMIN)" in log and "Auth request from bob (CLIENT)" in log
        assert "host: user online" in log
    bnode = b.repo.graph.get(blob.uuid)
    assert bnode.data["payload"] == blob.payload
    assert b.instance(objs[1].uuid).rotation == tuple(objs[1].rotation)


def test_lobby_client_served_after_init(server, peers):
    a = peers(server, "host", admin=True)
    pump([a], lambda: a.state == STATE_LOBBY, what="host LOBBY")
    b = peers(server, "early")
    pump([a, b], lambda: b.state == STATE_LOBBY, what="early LOBBY")
    build_scene(a)
    a.session.init()
    pump([a, b], lambda: a.state == STATE_ACTIVE and b.state == STATE_ACTIVE, what="both ACTIVE")
    assert b.nodes() == a.nodes() and len(a.nodes()) == 5


def test_delta_commits_and_full_node_updates(server, peers):
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    o = objs[0]
    o.location[0] = 42.5
    o.props["label"] = "hello"          # None -> str: type change
    o.props["pass_index"] = 3
    o.tags |= {"new", "tags"}           # set items added
    o.modifiers.append({"kind": "bevel", "width": 0.1})
    a.commit_push(o.uuid)
    assert a.repo.graph.get(o.uuid).last_commit is None  # pushed
    blob.payload = bytes(range(256)) * 8
    a.commit_push(blob.uuid)            # use_delta=False: a whole Node
    wait_same([a, b])
    bo = b.repo.graph.get(o.uuid).data
    assert bo["location"][0] == 42.5 and bo["props"]["label"] == "hello" and "new" in bo["tags"]
    assert b.repo.graph.get(blob.uuid).data["payload"] == blob.payload
    # the other way round, from a client that received the scene
    bo_inst = b.instance(o.uuid)
    bo_inst.location = [1.0, 2.0, 3.0]
    bo_inst.tags.discard("new")
    b.commit_push(o.uuid)
    wait_same([a, b])
    # a late joiner gets the server's copy, which must equal the live clients'
    c = join(server, peers, "carol", others=[a, b])
    assert c.nodes() == a.nodes()


def test_late_joiner_after_many_commits(server, peers):
    a, scene, objs, blob = host(server, peers, n_objs=4)
    b = join(server, peers, "bob", others=[a])
    for i in range(60):
        who = a if i % 2 == 0 else b
        o = who.instance(objs[i % 4].uuid)
        o.location[i % 3] += 0.25 * i
        o.rotation = (float(i), 0.0, -float(i))
        o.props["pass_index"] = i
        if i % 5 == 0:
            o.tags.add(f"tag{i}")
        if i % 7 == 0:
            o.modifiers.append({"kind": "array", "count": i})
        if i % 11 == 0 and o.modifiers:
            o.modifiers.pop(0)
        who.commit_push(o.uuid)
        wait_same([a, b])
        for p in (a, b):
            porcelain.apply(p.repo, objs[i % 4].uuid, force=True)
    c = join(server, peers, "carol", others=[a, b])
    assert c.nodes() == a.nodes() == b.nodes()


def test_locks_and_unlocks(server, peers):
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    uid = objs[0].uuid
    porcelain.lock(a.repo, [uid], affect_dependencies=False)
    pump([a, b], lambda: b.repo.graph.get(uid).owner == "host" and a.repo.graph.get(uid).owner == "host",
         what="lock echoed to both")
    assert not b.repo.is_node_readonly(uid)  # (sic) False means: not modifiable by bob
    porcelain.unlock(a.repo, [uid], affect_dependencies=False)
    pump([a, b], lambda: b.repo.graph.get(uid).owner == "COMMON" and a.repo.graph.get(uid).owner == "COMMON",
         what="unlock echoed")
    # a late joiner sees the server's owners
    porcelain.lock(b.repo, [uid], affect_dependencies=False)
    pump([a, b], lambda: a.repo.graph.get(uid).owner == "bob", what="bob's lock")
    c = join(server, peers, "carol", others=[a, b])
    assert c.repo.graph.get(uid).owner == "bob"


def test_delete(server, peers):
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    gone = objs[2].uuid
    assert gone in a.repo.graph.get(scene.uuid).dependencies
    porcelain.rm(a.repo, gone, remove_dependencies=False)
    pump([a, b], lambda: gone not in a.repo.graph and gone not in b.repo.graph, what="delete echoed")
    assert gone not in a.repo.graph.get(scene.uuid).dependencies
    c = join(server, peers, "carol", others=[a, b])
    assert gone not in c.repo.graph
    assert c.nodes() == a.nodes() == b.nodes()


def test_metadata_with_a_set(server, peers):
    a, *_ = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    meta = {"color": [1.0, 0.2, 0.2, 1.0], "frame_current": 12, "selected_objects": {"Cube", "Lamp"},
            "view_matrix": ((1.0, 0.0), (0.0, 1.0))}
    porcelain.update_user_metadata(a.repo, meta)
    pump([a, b], lambda: b.users().get("host", {}).get("metadata", {}).get("selected_objects") == {"Cube", "Lamp"},
         what="metadata forwarded")
    porcelain.update_user_metadata(a.repo, {"frame_current": 13})
    pump([a, b], lambda: b.users()["host"]["metadata"].get("frame_current") == 13, what="update merged")
    # the sender sees its own (merged) metadata in the next UpdateClientsState (no 20 Hz storm)
    pump([a, b], lambda: a.users().get("host", {}).get("metadata") == {**meta, "frame_current": 13},
         timeout=4, what="own metadata in UpdateClientsState")
    # and a late joiner gets everyone's metadata from the server
    c = join(server, peers, "carol", others=[a, b])
    pump([a, b, c], lambda: c.users().get("host", {}).get("metadata", {}).get("color") == meta["color"],
         timeout=4, what="metadata in the late joiner's user list")


def test_kick_by_admin(server, peers):
    a, *_ = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    pump([a, b], lambda: "bob" in a.users(), what="bob listed")
    porcelain.kick(a.repo, "bob")
    pump([a, b], lambda: b.state == STATE_INITIAL, what="bob disconnected")
    assert b.exit_reason == {"reason": "kicked by admin"}
    pump([a], lambda: "bob" not in a.users(), timeout=4, what="bob gone from the list")
    if server.kind == "mu":
        log = server.wait_log("bob kicked from the session by host")
        assert "disconnected from the server [kicked]" in log


@pytest.mark.difference(3)
def test_kick_by_non_admin_refused(server, peers):
    a, *_ = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    pump([a, b], lambda: "bob" in a.users(), what="bob listed")
    # porcelain.kick refuses locally for a non-admin, so send the Kick as a hostile client would
    b.repo.push(b.repo.remote.command, Kick(owner="bob", data={"user": "host"}))
    if server.kind == "reference":
        # the reference kicks anyone on anyone's request
        pump([a, b], lambda: a.state == STATE_INITIAL, what="reference kicks the host")
        return
    pump_for([a, b], 1.5)
    assert a.state == STATE_ACTIVE and "host" in b.users()
    server.wait_log("Kick from bob")


def test_vanish_releases_locks_and_updates_user_list(start_server, peers):
    server = start_server(timeout_ms=2000)
    a, scene, objs, blob = host(server, peers)
    b = join(server, peers, "bob", others=[a])
    uid = objs[1].uuid
    porcelain.lock(b.repo, [uid], affect_dependencies=False)
    pump([a, b], lambda: a.repo.graph.get(uid).owner == "bob", what="bob's lock")
    # the heartbeat has started (measured latency) ...
    pump([a, b], lambda: a.users().get("bob", {}).get("latency", 999) < 999, timeout=10,
         what="bob's heartbeat")
    b.session._ttl.kill()   # ... and stops: bob vanishes without a word
    b.session._ttl.wait(3)
    pump([a], lambda: "bob" not in a.users() and a.repo.graph.get(uid).owner == "COMMON",
         timeout=12, what="bob lost and his lock released")
    # the server's own copy was released too: a late joiner sees COMMON
    c = join(server, peers, "carol", others=[a])
    assert c.repo.graph.get(uid).owner == "COMMON"


@pytest.mark.difference(11)
def test_last_client_vanishing_releases_locks_on_server(start_server, peers):
    server = start_server(timeout_ms=2000)
    a, scene, objs, blob = host(server, peers)
    uid = objs[0].uuid
    porcelain.lock(a.repo, [uid], affect_dependencies=False)
    pump([a], lambda: a.repo.graph.get(uid).owner == "host", what="lock")
    pump([a], lambda: a.users().get("host", {}).get("latency", 999) < 999, timeout=10, what="heartbeat")
    a.session._ttl.kill()
    a.session._ttl.wait(3)
    server.wait_log("host disconnected from the server" if server.kind == "reference"
                    else "disconnected from the server [connection lost", timeout=10)
    c = join(server, peers, "carol")
    # the reference resets its own copy only if someone else is online: the lock stays forever
    assert c.repo.graph.get(uid).owner == ("COMMON" if server.kind == "mu" else "host")


def test_five_clients_consistent(server, peers):
    a, scene, objs, blob = host(server, peers, n_objs=5)
    others = []
    for name in ("b", "c", "d", "e"):
        others.append(join(server, peers, name, others=[a, *others]))
    everyone = [a, *others]
    for rnd in range(6):
        for k, p in enumerate(everyone):
            o = p.instance(objs[k].uuid)
            o.location[rnd % 3] = float(rnd * 10 + k)
            o.props["pass_index"] = rnd
            p.commit_push(objs[k].uuid)
        wait_same(everyone)
        for p in everyone:
            for o in objs:
                porcelain.apply(p.repo, o.uuid, force=True)
    pump(everyone, lambda: all(len(p.users()) == 5 for p in everyone), what="five users listed")
    late = join(server, peers, "late", others=everyone)
    assert late.nodes() == a.nodes()
    for p in everyone:
        assert p.nodes() == a.nodes()


@pytest.mark.difference(11)
def test_heartbeat_that_never_starts(start_server, peers):
    server = start_server(timeout_ms=2000)
    a, scene, objs, blob = host(server, peers)
    b = peers(server, "bob")
    b.session._ttl.kill()   # before ttl.py could send INIT
    b.session._ttl.wait(3)
    pump([a], lambda: "bob" in a.users(), what="bob logged in")
    if server.kind == "mu":
        server.wait_log("heartbeat never started", timeout=14)   # after max(2 x timeout, 8 s)
        pump([a], lambda: "bob" not in a.users(), timeout=3, what="bob gone from the list")
    else:
        # the reference keeps such a client forever
        pump_for([a], 4.5)
        assert "bob" in a.users()
