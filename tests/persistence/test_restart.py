"""The session survives a clean restart (SIGTERM, start again): a new real client gets RUNNING,
pulls the scene, and holds exactly what the old clients had, with every lock released."""

from replication import porcelain
from replication.constants import STATE_ACTIVE

from conftest import helpers, released

pump, host, join, wait_same = helpers.pump, helpers.host, helpers.join, helpers.wait_same


def edit_a_lot(a, b, objs, blob, rounds=30):
    for i in range(rounds):
        who = a if i % 2 == 0 else b
        o = who.instance(objs[i % len(objs)].uuid)
        o.location[i % 3] += 0.5 * i
        o.props["pass_index"] = i
        o.tags.add(f"t{i}")
        if i % 4 == 0:
            o.modifiers.append({"kind": "array", "count": i})
        who.commit_push(o.uuid)
        wait_same([a, b])
        for p in (a, b):
            porcelain.apply(p.repo, objs[i % len(objs)].uuid, force=True)
    blob_inst = a.instance(blob.uuid)
    blob_inst.payload = bytes(range(200)) * 5
    a.commit_push(blob.uuid)
    return wait_same([a, b])


def test_restart_keeps_the_session_and_releases_locks(daemon, peers):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers, n_objs=4)
    b = join(d, peers, "bob", others=[a])
    expected = edit_a_lot(a, b, objs, blob)
    # a lock held at shutdown must not survive the restart: its holder is gone
    porcelain.lock(a.repo, [objs[0].uuid], affect_dependencies=False)
    # both views: the locker reads its own lock only when the server echoes it back
    pump([a, b], lambda: all(c.repo.graph.get(objs[0].uuid).owner == "host" for c in (a, b)),
         what="lock echoed")
    before = a.nodes()
    assert before[objs[0].uuid][0] == "host"
    assert before == b.nodes()
    assert d.stop() == 0
    log = d.log()
    assert "final snapshot" in log, log[-3000:]

    d.start()
    d.wait_log("loaded session from")
    c = peers(d, "carol")
    # RUNNING at login: the client pulls the scene instead of waiting in the lobby to upload
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined a RUNNING session")
    assert c.nodes() == released(before)
    assert len(c.nodes()) == len(expected) == 4 + 2
    # the restored session keeps working: carol edits, a late joiner sees it
    porcelain.apply(c.repo, objs[1].uuid, force=True)
    o = c.instance(objs[1].uuid)
    o.props["label"] = "after restart"
    c.commit_push(o.uuid)
    e = join(d, peers, "erin", others=[c])
    wait_same([c, e])
    assert e.repo.graph.get(objs[1].uuid).data["props"]["label"] == "after restart"


def test_restart_twice_with_nothing_in_between(daemon, peers):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers)
    before = a.nodes()
    a.close()
    d.stop()
    d.start()
    d.stop()
    d.start()
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined")
    assert c.nodes() == released(before)


def test_fresh_state_dir_starts_waiting(daemon, peers):
    d = daemon().start()
    d.wait_log("no saved session")
    a, *_ = host(d, peers)  # host() asserts LOBBY then a successful upload
    assert d.ctl("status").returncode == 0
