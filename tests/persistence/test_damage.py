"""Damaged or unusable state, each with its log line: a torn journal tail, a corrupt snapshot
(one flipped byte), nothing readable (refuse to start; --reset-state starts over), a state
directory the daemon's user cannot read, a full disk (a 1 MiB tmpfs), and a `mu-ctl save` whose
journal cannot be created."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from replication.constants import STATE_ACTIVE, STATE_LOBBY

from conftest import helpers, released

pump, host, join = helpers.pump, helpers.host, helpers.join


def files(d, prefix):
    return sorted(p for p in d.state_dir.iterdir() if p.name.startswith(prefix))


def push_updates(a, objs, first, last):
    """Delta commits first..last (inclusive) on objs[0]; returns the node data after each."""
    o = a.instance(objs[0].uuid)
    for i in range(first, last + 1):
        o.props["pass_index"] = i
        a.commit_push(objs[0].uuid)


def last_change_end(journal):
    """Byte offset where the last change record of a journal ends. Since journal version 2 a
    change may be followed by meta records (Time, Users: postcard variants 7 and 8 of the
    entry's change, after its sequence varint), which are not changes."""
    buf = journal.read_bytes()
    pos, end = 0, 0
    first = True
    while pos + 8 <= len(buf):
        n = int.from_bytes(buf[pos:pos + 4], "little")
        payload = buf[pos + 8:pos + 8 + n]
        pos += 8 + n
        if first:  # the header
            first = False
            continue
        i = 0
        while payload[i] & 0x80:  # skip the sequence varint
            i += 1
        if payload[i + 1] not in (7, 8):
            end = pos
    return end


def joined(d, peers, name):
    c = peers(d, name)
    pump([c], lambda: c.state == STATE_ACTIVE, what=f"{name} joined")
    return c


def test_torn_journal_tail_is_truncated_with_a_log_line(daemon, peers):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers)
    push_updates(a, objs, 1, 10)
    b = join(d, peers, "bob", others=[a])  # bob's snapshot pull proves update 10 reached the server
    assert b.repo.graph.get(objs[0].uuid).data["props"]["pass_index"] == 10
    d.kill()
    journal = files(d, "journal-")[-1]
    with open(journal, "r+b") as f:
        f.truncate(last_change_end(journal) - 5)  # the record of update 10 loses its last 5 bytes
    d.start()
    log = d.wait_log("torn last record")
    assert "truncated" in log and journal.name in log, log
    assert "loaded session" in log
    c = joined(d, peers, "carol")
    assert c.repo.graph.get(objs[0].uuid).data["props"]["pass_index"] == 9


def test_corrupt_snapshot_falls_back_to_the_newest_good_backup(daemon, peers):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers)
    push_updates(a, objs, 1, 5)
    d.ctl("save")
    push_updates(a, objs, 6, 12)
    before = a.nodes()
    a.close()
    assert d.stop() == 0
    newest = files(d, "snapshot-")[-1]
    raw = bytearray(newest.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    newest.write_bytes(bytes(raw))
    d.start()
    log = d.wait_log("RECOVERED FROM BACKUP")
    assert "IS UNUSABLE" in log and newest.name in log
    assert newest.with_suffix(".corrupt").exists()
    c = joined(d, peers, "carol")
    # the backup plus the journals after it rebuild everything, not just the backup's moment
    assert c.nodes() == released(before)


def test_nothing_readable_refuses_to_start_and_reset_state_starts_over(daemon, peers):
    d = daemon().start()
    a, *_ = host(d, peers)
    a.close()
    d.stop()
    for snap in files(d, "snapshot-"):
        snap.write_bytes(b"\0" * 64)
    d.start(expect_ready=False)
    rc = d.wait_exit(20)
    log = d.log()
    assert rc != 0, log
    assert "refusing to start empty" in log and "--reset-state" in log, log
    assert helpers.server_info(d.port, timeout_ms=200) is None
    d.start("--reset-state")
    log = d.wait_log("old session state moved to")
    assert list(d.state_dir.glob("discarded-*/snapshot-*"))
    p = peers(d, "newhost")
    pump([p], lambda: p.state == STATE_LOBBY, what="LOBBY: a new empty session")


@pytest.mark.skipif(os.getuid() != 0, reason="needs root: runs the daemon as nobody (setpriv)")
def test_state_dir_the_daemon_cannot_read_refuses_to_start(daemon):
    # pytest's tmp dirs are private to root: the daemon (nobody) needs a world-readable one
    work = Path(tempfile.mkdtemp(prefix="mu-persist-nobody-"))
    try:
        os.chmod(work, 0o755)
        state = work / "locked-state"
        state.mkdir()
        (state / "snapshot-00000000000000000001.snap").write_bytes(b"x")
        os.chmod(state, 0o700)  # owned by root; the daemon runs as nobody
        d = daemon(workdir=work, state_dir=state, user=(65534, 65534))
        d.start(expect_ready=False)
        rc = d.wait_exit(20)
        log = d.log()
        assert rc != 0, log
        assert "is unreadable" in log and "Permission denied" in log, log
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_state_dir_that_is_a_file_refuses_to_start(daemon, tmp_path):
    state = tmp_path / "not-a-dir"
    state.write_text("oops")
    d = daemon(state_dir=state)
    d.start(expect_ready=False)
    rc = d.wait_exit(20)
    assert rc != 0 and "is unreadable" in d.log(), d.log()


def test_a_save_that_cannot_start_says_which_file_and_why(daemon):
    # Issue 19: the store's save results were strings, and a snapshot that could not start was
    # answered "the snapshot could not be started (see the log)". The reply now carries the
    # store's typed error: the journal file that could not be created and the reason, code
    # `failed` (an I/O error), and the next save works once the obstacle is gone.
    d = daemon().start()
    gen = max(int(p.name[len("journal-"):-len(".log")]) for p in files(d, "journal-"))
    blocker = d.state_dir / f"journal-{gen + 1:020}.log"
    blocker.mkdir()  # the next journal's name is taken (by a directory: even root cannot open it)
    r = d.ctl("--json", "save", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "failed", err
    assert str(blocker) in err["message"] and "exists" in err["message"], err
    blocker.rmdir()
    assert "snapshot" in d.ctl("save").stdout


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    assert r.returncode == 0, f"mount -t tmpfs failed (the suite runs as root): {r.stderr}"
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root: mounts a 1 MiB tmpfs")
def test_disk_full_degrades_loudly_keeps_serving_and_recovers(daemon, peers, tiny_tmpfs):
    d = daemon(state_dir=tiny_tmpfs / "state").start()
    a, scene, objs, blob = host(d, peers)
    filler = tiny_tmpfs / "filler"
    # fill the disk: what is left is smaller than the next blob update
    with open(filler, "wb", buffering=0) as f:
        try:
            for _ in range(1024):
                f.write(b"\0" * 4096)
        except OSError:
            pass
    inst = a.instance(blob.uuid)
    inst.payload = os.urandom(64 * 1024)
    a.commit_push(blob.uuid)
    d.wait_log("PERSISTENCE DEGRADED")
    # the relay is unaffected: a new client gets the update
    b = join(d, peers, "bob", others=[a])
    assert b.repo.graph.get(blob.uuid).data["payload"] == inst.payload
    # space comes back: the retry snapshot succeeds and says so
    filler.unlink()
    d.wait_log("persistence recovered", timeout=15)
    before = a.nodes()
    a.close()
    b.close()
    d.kill()
    d.start()
    c = joined(d, peers, "carol")
    assert c.nodes() == released(before)
