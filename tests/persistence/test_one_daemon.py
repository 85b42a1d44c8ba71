"""One daemon per state directory (issue 15). A second mu-serverd started on the state directory
of a running one (the same config typed by hand while the service runs, or other ports and the
same state_dir) must refuse with one line naming the directory and the running daemon's PID,
and leave every file of the session byte-identical (no file created, renamed or re-moded).
Then an update every client received, a `kill -9` of the first daemon and a restart: the update
is there. Before the state lock existed, the second daemon rotated the live session's files and
the restart lost that update."""

import os
import subprocess

import pytest
from replication import porcelain
from replication.constants import STATE_ACTIVE

from conftest import Daemon, binary, helpers

pump, host, join, wait_same = helpers.pump, helpers.host, helpers.join, helpers.wait_same


def fingerprint(root):
    """Every entry under `root`: name -> (kind, mode, uid, size, mtime_ns, inode, bytes)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            data = open(p, "rb").read() if os.path.isfile(p) else None
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, st.st_ino, data)
    st = os.lstat(root)
    out["."] = (st.st_mode, st.st_uid, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("second", ["same-config", "other-ports"])
def test_a_second_daemon_on_a_live_state_dir_changes_nothing(daemon, peers, tmp_path, second):
    d = daemon().start()
    a, scene, objs, blob = host(d, peers, n_objs=4)
    b = join(d, peers, "bob", others=[a])
    wait_same([a, b])
    before = fingerprint(d.state_dir)
    assert "mu-serverd.lock" in before, sorted(before)

    if second == "same-config":
        argv = [str(binary("mu-serverd")), "--config", str(d.config())]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=tmp_path)
        rc, text = out.returncode, out.stdout + out.stderr
    else:
        other = Daemon(tmp_path / "other", state_dir=d.state_dir)
        other.tmp.mkdir()
        other.start(expect_ready=False)
        rc = other.wait_exit(20)
        text = other.log()
    assert rc == 1, text
    refusal = [line for line in text.splitlines() if "in use by another mu-serverd" in line]
    assert len(refusal) == 1, text
    assert str(d.state_dir) in refusal[0] and f"PID {d.proc.pid}" in refusal[0], refusal
    assert fingerprint(d.state_dir) == before
    assert d.proc.poll() is None, "the first daemon must keep running"

    # An update every client receives, then kill -9 and a restart: nothing is lost.
    pump([a, b], lambda: True)
    o = a.instance(objs[2].uuid)
    o.props["label"] = "after the second daemon"
    a.commit_push(o.uuid)
    received = wait_same([a, b])
    assert received[objs[2].uuid][2]["props"]["label"] == "after the second daemon"
    for p in (a, b):
        p.close()
    d.kill()
    d.start()
    d.wait_log("loaded session from")
    c = peers(d, "carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined the restored session")
    got = c.nodes()
    assert set(got) == set(received)
    for u, (_, deps, data) in received.items():
        assert got[u][1:] == (deps, data), u


def test_the_lock_is_released_when_the_daemon_exits(daemon):
    d = daemon().start()
    assert d.stop() == 0
    d.start()  # the same state dir, right after a clean stop
    d.kill()
    d.start()  # and right after kill -9: the kernel dropped the lock with the process
    assert d.stop() == 0
