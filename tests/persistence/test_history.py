"""The session's history (issue 20): `mu-ctl export --at` rebuilds the session exactly as a real
replication 0.9.10 client held it at many moments of a scripted day (uploads, delta Commits,
Deletes, locks, a clean restart and a kill -9), read back by the real `Repository.loads`; and
`mu-ctl restore --at` puts the live session back: connected clients get a Disconnect naming the
restore, a rejoining client receives exactly the state at T, and a second restore to a later T
brings the undone changes back."""

import json
import time

from replication import porcelain
from replication.constants import STATE_ACTIVE
from replication.repository import Repository

from conftest import helpers, released

pump, host, join, wait_same = helpers.pump, helpers.host, helpers.join, helpers.wait_same
toy = helpers.toy


def moment(clients):
    """Now, once every client holds the same nodes: (unix ms, what the first one holds). The
    short sleeps keep the previous change's journal time <= T < the next change's."""
    held = wait_same(clients)
    time.sleep(0.005)
    t = int(time.time() * 1000)
    time.sleep(0.005)
    return t, held


def at(t):
    return f"@{t / 1000:.3f}"


def exported(d, tmp_path, t, name):
    out = tmp_path / f"{name}.db"
    r = d.ctl("export", "--at", at(t), str(out))
    assert "exported" in r.stdout, r.stdout
    repo = Repository()
    repo.loads(str(out))
    return {u: (n.owner, list(n.dependencies or []), n.data) for u, n in repo.object_store.items()}


def edit(p, uuid, i):
    porcelain.apply(p.repo, uuid, force=True)
    o = p.instance(uuid)
    o.location[i % 3] += 0.25 * (i + 1)
    o.props["pass_index"] = i
    o.tags.add(f"day{i}")
    p.commit_push(uuid)


def add_object(p, name):
    o = toy.Obj(name)
    o.location = [1.0, 2.0, 3.0]
    uuid = porcelain.add(p.repo, o)
    porcelain.commit(p.repo, uuid)
    porcelain.push(p.repo, "origin", uuid)
    return uuid


def test_export_at_every_moment_of_a_scripted_day(daemon, peers, tmp_path):
    d = daemon(extra_storage=['history = "24h"']).start()
    time.sleep(0.01)
    t0 = int(time.time() * 1000)
    moments = []
    a, scene, objs, blob = host(d, peers, n_objs=5)
    b = join(d, peers, "bob", others=[a])
    moments.append(moment([a, b]))
    for i in range(6):  # delta Commits from both clients
        edit(a if i % 2 == 0 else b, objs[i % 5].uuid, i)
        moments.append(moment([a, b]))
    new = add_object(b, "bob-new")  # an upload of a new node
    moments.append(moment([a, b]))
    porcelain.lock(a.repo, [objs[0].uuid], affect_dependencies=False)  # a lock
    # both views: the locker reads its own lock only when the server echoes it back
    pump([a, b], lambda: all(c.repo.graph.get(objs[0].uuid).owner == "host" for c in (a, b)),
         what="lock echoed")
    moments.append(moment([a, b]))
    # a Delete by bob of a node nobody owns: the history names bob, the sender (issue 20)
    assert b.repo.graph.get(objs[3].uuid).owner == "COMMON"
    before_delete = int(time.time() * 1000)
    porcelain.rm(b.repo, objs[3].uuid, remove_dependencies=False)
    pump([a, b], lambda: objs[3].uuid not in a.repo.graph, what="delete echoed")
    moments.append(moment([a, b]))
    a.close()
    b.close()

    d.stop()  # a clean restart: the lock is released by the restart itself
    d.start()
    c = join(d, peers, "carol")
    moments.append(moment([c]))
    edit(c, objs[1].uuid, 10)
    edit(c, new, 11)
    moments.append(moment([c]))
    c.close()

    d.kill()  # kill -9 in the middle of the day
    d.start()
    e = join(d, peers, "erin")
    moments.append(moment([e]))
    porcelain.rm(e.repo, objs[4].uuid, remove_dependencies=False)
    pump([e], lambda: objs[4].uuid not in e.repo.graph, what="erin's delete")
    edit(e, objs[2].uuid, 12)
    moments.append(moment([e]))

    assert len({repr(sorted(h.items())) for _, h in moments}) >= 12, "moments differ"
    for i, (t, held) in enumerate(moments):
        assert exported(d, tmp_path, t, f"m{i}") == held, f"moment {i}"
    # Before the first upload the session was empty (the store's first snapshot).
    assert exported(d, tmp_path, t0, "before-upload") == {}
    # The loop only polled the export thread: every reply came back and the session served on.
    assert "history job answered" in d.log()

    h = json.loads(d.ctl("--json", "history").stdout)["history"]
    kinds = {(a["who"], a["kind"]) for i in h["intervals"] for a in i["busiest"]}
    assert ("host", "committed") in kinds and ("bob", "committed") in kinds, kinds
    # From just before bob's delete on, the busiest kinds name the sender of each change: bob
    # deleted the COMMON node (attributed to its owner, it would read "common"), erin hers.
    since = json.loads(d.ctl("--json", "history", "--since", at(before_delete)).stdout)["history"]
    kinds = {(a["who"], a["kind"]) for i in since["intervals"] for a in i["busiest"]}
    assert ("bob", "deleted") in kinds, kinds
    assert not any(who == "common" for who, _ in kinds), kinds
    users = {u for i in h["intervals"] for u in i["users"]}
    assert {"host", "bob", "carol", "erin"} <= users, users
    assert h["oldest_unix_ms"] <= moments[0][0] <= moments[-1][0] <= h["newest_unix_ms"] + 1000


def test_restore_on_the_live_server_and_undo_it(daemon, peers, tmp_path):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers, n_objs=4)
    b = join(d, peers, "bob", others=[a])
    edit(a, objs[0].uuid, 1)
    t1, state1 = moment([a, b])
    edit(b, objs[1].uuid, 2)
    porcelain.rm(a.repo, objs[2].uuid, remove_dependencies=False)
    pump([a, b], lambda: objs[2].uuid not in b.repo.graph, what="delete echoed")
    t2, state2 = moment([a, b])
    # the accident: most of the scene deleted
    for o in (objs[0], objs[1], objs[3]):
        porcelain.rm(a.repo, o.uuid, remove_dependencies=False)
    pump([a, b], lambda: all(o.uuid not in b.repo.graph for o in (objs[0], objs[1], objs[3])),
         what="deletes echoed")
    t3, state3 = moment([a, b])
    assert len({repr(sorted(s.items())) for s in (state1, state2, state3)}) == 3

    r = d.ctl("restore", "--at", at(t1), check=False)
    assert r.returncode == 64 and "--yes" in r.stderr  # refused without confirmation
    # A moment the history does not hold (1970) is not_found, and nothing changes.
    r = d.ctl("--json", "restore", "--at", "@1", "--yes", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "not_found" and "before the oldest" in err["message"], err
    r = d.ctl("restore", "--at", at(t1), "--yes")
    assert "session restored" in r.stdout, r.stdout
    pump([a, b], lambda: a.exit_reason is not None and b.exit_reason is not None,
         what="both clients disconnected")
    assert "restored the session" in str(a.exit_reason), a.exit_reason
    c = join(d, peers, "carol")
    assert c.nodes() == released(state1)
    assert c.state == STATE_ACTIVE

    # Undo: a later moment, from before the restore, brings the undone changes back.
    r = d.ctl("restore", "--at", at(t2), "--yes")
    pump([c], lambda: c.exit_reason is not None, what="carol disconnected")
    e = join(d, peers, "erin")
    assert e.nodes() == released(state2)
    # And the restored head survives a crash (kill -9: no final snapshot, the journal alone).
    e.close()
    d.kill()
    d.start()
    f = join(d, peers, "frank")
    assert f.nodes() == released(state2)
    assert t3 and state3  # (the accident stays in the history: restorable too)
    g_out = exported(d, tmp_path, t3, "accident")
    assert g_out == state3
