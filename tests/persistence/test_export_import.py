"""mu-ctl export / import / reset / save / status against the running daemon, with the real
replication client library reading and writing the files (`Repository.loads` / `dumps`)."""

import glob
import json
import os
import time

from replication.constants import STATE_ACTIVE, STATE_LOBBY
from replication.objects import Node
from replication.repository import Repository

from conftest import helpers, released

pump, host, join = helpers.pump, helpers.host, helpers.join


def python_dumps(path_stem, n=12):
    """A session file written by the real Repository.dumps; returns (path, {uuid: data})."""
    repo = Repository()
    expected = {}
    for i in range(n):
        data = {"name": f"Imported.{i}", "location": [float(i), 2.0, -1.0], "props": {"visible": True},
                "tags": {f"t{i}"}, "payload": bytes(range(i * 10 % 256)), "type_id": "Obj"}
        deps = None if i == 0 else [f"imp-{i - 1}"]
        node = Node(owner="someone" if i % 2 else "COMMON", uuid=f"imp-{i}", data=data, dependencies=deps)
        repo.object_store[node.uuid] = node
        expected[node.uuid] = ("COMMON", deps or [], data)
    repo.dumps(str(path_stem))
    (path,) = glob.glob(str(path_stem.with_name(path_stem.stem + "_*" + path_stem.suffix)))
    return path, expected


def test_export_is_read_back_by_repository_loads(daemon, peers, tmp_path):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers)
    o = a.instance(objs[1].uuid)
    o.location[2] = 7.25
    o.tags.add("exported")
    a.commit_push(objs[1].uuid)  # a delta: the export must hold the patched data
    b = join(d, peers, "bob", others=[a])
    live = b.nodes()
    out = tmp_path / "export.db"
    r = d.ctl("export", str(out))
    assert "exported" in r.stdout
    repo = Repository()
    repo.loads(str(out))
    got = {u: (n.owner, list(n.dependencies or []), n.data) for u, n in repo.object_store.items()}
    assert got == live
    assert repo.object_store[objs[1].uuid].data["location"][2] == 7.25


def test_import_at_start_from_config_then_a_client_joins(daemon, peers, tmp_path):
    path, expected = python_dumps(tmp_path / "seed.db")
    d = daemon(extra_storage=[f'import = "{path}"']).start()
    d.wait_log("seeding the new session from")
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined the imported session")
    assert c.nodes() == expected
    # the import is persisted like everything else: restart, and it is still there
    c.close()
    d.stop()
    d.start()
    e = peers(d, "erin")
    pump([e], lambda: e.state == STATE_ACTIVE, what="erin joined after restart")
    assert e.nodes() == expected


def test_ctl_import_only_while_waiting_then_reset_keeps_a_backup(daemon, peers, tmp_path):
    path, expected = python_dumps(tmp_path / "seed.db", n=5)
    d = daemon().start()
    r = d.ctl("import", path)
    assert "imported 5 nodes" in r.stdout
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined")
    assert c.nodes() == expected
    # ACTIVE now: a second import is refused, the session untouched
    r = d.ctl("import", path, check=False)
    assert r.returncode != 0 and "WAITING" in (r.stdout + r.stderr)
    # status shows the persistence fields
    st = json.loads(d.ctl("--json", "status").stdout)["status"]
    assert st["state_dir"] == str(d.state_dir) and st["journal_bytes"] > 0 and st["last_save_unix"] > 0
    r = d.ctl("save")
    assert "snapshot" in r.stdout
    c.close()
    r = d.ctl("reset", "--yes")
    backups = list(d.state_dir.glob("before-reset-*.db"))
    assert len(backups) == 1, r.stdout
    repo = Repository()
    repo.loads(str(backups[0]))
    assert {u: (n.owner, list(n.dependencies or []), n.data) for u, n in repo.object_store.items()} == expected
    # after the reset a new host uploads, and a restart keeps the new session, not the old one
    h, scene, objs, blob = host(d, peers, name="newhost")
    before = h.nodes()
    h.close()
    d.stop()
    d.start()
    e = peers(d, "erin")
    pump([e], lambda: e.state == STATE_ACTIVE, what="erin joined")
    assert e.nodes() == released(before)


def test_a_lobby_client_is_told_why_an_import_disconnects_it(daemon, peers, tmp_path):
    # Issue 19: a user waiting in the lobby of a WAITING session was dropped without a word
    # when mu-ctl import replaced the session. Now it gets a Disconnect whose reason the
    # replication client hands to its on_exit callback (what the Blender addon shows).
    path, expected = python_dumps(tmp_path / "seed.db", n=3)
    d = daemon().start()
    w = peers(d, "waiter")
    pump([w], lambda: w.state == STATE_LOBBY, what="waiter in the lobby")
    assert "imported 3 nodes" in d.ctl("import", path).stdout
    pump([w], lambda: w.exit_reason is not None, what="waiter disconnected")
    assert "imported a session" in str(w.exit_reason), w.exit_reason
    d.wait_log("waiter disconnected from the server [the administrator imported a session")
    assert json.loads(d.ctl("--json", "status").stdout)["status"]["users"] == 0
    # It comes back and joins the imported scene.
    w2 = peers(d, "waiter")
    pump([w2], lambda: w2.state == STATE_ACTIVE, what="waiter joined the imported session")
    assert w2.nodes() == expected


def test_hostile_import_is_refused_and_changes_nothing(daemon, peers, tmp_path):
    import gzip
    import pickle
    evil = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."
    bad = [pickle.dumps(2, protocol=4), b"evil-node", b"COMMON", pickle.dumps(None, protocol=4), evil]
    path = tmp_path / "evil.db"
    with gzip.open(path, "wb") as f:
        pickle.dump({"nodes": [bad], "users": {}}, f, protocol=4)
    d = daemon().start()
    r = d.ctl("import", str(path), check=False)
    assert r.returncode != 0 and "evil-node" in (r.stdout + r.stderr)
    p = peers(d, "host")
    pump([p], lambda: p.state == STATE_LOBBY, what="still WAITING: LOBBY")


def test_ctl_import_is_on_disk_when_answered(daemon, peers, tmp_path):
    # The import is written as the next snapshot off the loop and installed by a rename: once
    # mu-ctl answers, a kill -9 restarts into it (store::tests covers changes made after it).
    path, expected = python_dumps(tmp_path / "seed.db", n=6)
    d = daemon().start()
    assert "imported 6 nodes" in d.ctl("import", path).stdout
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined")
    assert c.nodes() == expected
    c.close()
    d.kill()
    assert not list(d.state_dir.glob("import-*.tmp"))
    d.start()
    e = peers(d, "erin")
    pump([e], lambda: e.state == STATE_ACTIVE, what="erin joined after kill -9")
    assert e.nodes() == expected


def test_reset_is_refused_when_its_backup_cannot_be_written(daemon, peers, tmp_path):
    # The backup is written off the loop; the session is only dropped once it is on disk.
    path, expected = python_dumps(tmp_path / "seed.db", n=4)
    d = daemon().start()
    d.ctl("import", path)
    now = int(time.time())
    for s in range(now - 1, now + 30):  # a directory where the backup file would go
        (d.state_dir / f"before-reset-{s}.db").mkdir()
    r = d.ctl("reset", "--yes", check=False)
    assert r.returncode == 1 and "reset refused: cannot write the backup" in r.stderr, r.stderr
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="the session is still there")
    assert c.nodes() == expected
