"""Nothing the control socket, the configuration or the state directory names can block or flood
the daemon (issue 14, item 6): FIFOs, devices, directories and symbolic links given to mu-ctl
import/export, passed as descriptors by a hand-written control client, named as password or
config files (at start and at reload), or planted in the state directory; the import size limit
counting inflated bytes; export/import acting with the caller's permissions; idle control
connections timing out and the per-uid connection limit. Runs as root (setpriv, chown)."""

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import binary, helpers
from test_export_import import python_dumps

MEMBER_UID = 12345
NOGROUP = 65534
IDLE_TIMEOUT_S = 10  # mu-serverd's control::IDLE_TIMEOUT


def answers(d):
    """A raw client's RQ_INFO is answered: the loop is serving."""
    return helpers.server_info(d.port, timeout_ms=2000) is not None


# --- a hand-written control client (what a group member could run instead of mu-ctl) -------------

def frame(body):
    return len(body).to_bytes(4, "big") + body


def pstr(s):
    b = s.encode()
    assert len(b) < 128
    return bytes([len(b)]) + b


def read_frame(s):
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data[4:4 + int.from_bytes(data[:4], "big")]


def ctl_raw(path, body, fd=None):
    """Hello, then one request (with `fd` passed by SCM_RIGHTS); returns (variant, message)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(str(path))
        s.sendall(frame(b"\x00\x01"))
        assert read_frame(s)[0] == 0, "Hello"
        if fd is None:
            s.sendall(frame(body))
        else:
            socket.send_fds(s, [frame(body)], [fd])
        reply = read_frame(s)
    finally:
        s.close()
    # Reply::Done is variant 3 (message), Reply::Error variant 4 (code, message); strings are a
    # LEB128 length and UTF-8.
    if reply[0] == 3:
        return "done", text_at(reply, 1)
    assert reply[0] == 4, reply
    return "error", text_at(reply, 2)


def text_at(body, i):
    n, shift = 0, 0
    while True:
        b = body[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return body[i:i + n].decode()


EXPORT_FILE, IMPORT_FILE, OLD_IMPORT = 10, 11, 8


def special_files(tmp):
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    link = tmp / "link-to-zero"
    link.symlink_to("/dev/zero")
    folder = tmp / "folder"
    folder.mkdir()
    return [(fifo, "FIFO"), (Path("/dev/zero"), "character device"), (link, "symbolic link"),
            (folder, "directory")]


def test_mu_ctl_refuses_special_files_and_the_server_keeps_serving(daemon, tmp_path):
    d = daemon().start()
    for cmd in ("import", "export"):
        (tmp_path / cmd).mkdir()
        for path, word in special_files(tmp_path / cmd):
            t = time.monotonic()
            r = d.ctl(cmd, str(path), check=False)
            # Refused by mu-ctl itself, before anything is sent (the daemon's own check is
            # test_the_daemon_checks_passed_descriptors_itself).
            assert r.returncode == 1 and r.stderr.startswith(f"mu-ctl: {path} is a"), r.stderr
            assert word in r.stderr, (cmd, path, r.stderr)
            assert time.monotonic() - t < 5
            assert answers(d), (cmd, path)
    assert Path("/dev/zero").is_char_device()  # nothing replaced it


def test_the_daemon_checks_passed_descriptors_itself(daemon, tmp_path):
    d = daemon().start()
    regular = tmp_path / "regular.db"
    regular.write_bytes(b"x")
    cases = []
    for path, word in special_files(tmp_path):
        if word == "symbolic link":
            continue  # a descriptor is never a link
        flags = os.O_RDONLY | os.O_NONBLOCK | (os.O_DIRECTORY if path.is_dir() else 0)
        cases.append((IMPORT_FILE, os.open(path, flags), word))
    cases.append((EXPORT_FILE, os.open("/dev/null", os.O_WRONLY), "character device"))
    cases.append((EXPORT_FILE, os.open(regular, os.O_RDONLY), "not open for writing"))
    cases.append((IMPORT_FILE, os.open(regular, os.O_WRONLY), "not open for reading"))
    for variant, fd, word in cases:
        t = time.monotonic()
        kind, msg = ctl_raw(d.socket, bytes([variant]) + pstr("x"), fd)
        os.close(fd)
        assert kind == "error" and word in msg, (word, msg)
        assert time.monotonic() - t < 5
        assert answers(d), word
    kind, msg = ctl_raw(d.socket, bytes([IMPORT_FILE]) + pstr("x"))
    assert kind == "error" and "needs the open file" in msg, msg
    kind, msg = ctl_raw(d.socket, bytes([OLD_IMPORT]) + pstr(str(regular)))
    assert kind == "error" and "no longer accepted" in msg, msg
    assert answers(d)


def test_import_limit_counts_inflated_bytes(daemon, tmp_path):
    d = daemon(extra_storage=["max_import_bytes = 1048576"]).start()
    bomb = tmp_path / "bomb.db"
    with gzip.open(bomb, "wb", compresslevel=9) as f:  # ~256 KiB inflating to 256 MiB
        for _ in range(256):
            f.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1 << 20
    r = d.ctl("import", str(bomb), check=False)
    assert r.returncode == 1 and "decompresses to more than 1048576 bytes" in r.stderr, r.stderr
    # Inflating stopped at the limit: the daemon's peak RSS never held the 256 MiB.
    peak_kib = int(next(line.split()[1] for line in open(f"/proc/{d.proc.pid}/status")
                        if line.startswith("VmHWM:")))
    assert peak_kib < 128 << 10, peak_kib
    big = tmp_path / "big.db"
    big.write_bytes(os.urandom(2 << 20))
    r = d.ctl("import", str(big), check=False)
    assert r.returncode == 1 and "too large" in r.stderr, r.stderr
    assert answers(d)
    path, _ = python_dumps(tmp_path / "seed.db", n=5)
    assert "imported 5 nodes" in d.ctl("import", path).stdout


def test_secret_and_config_files_of_special_kinds_are_refused_at_start_and_reload(daemon, tmp_path):
    bad = special_files(tmp_path)
    d = daemon()
    for path, word in bad:
        d.auth = [f'admin_password_file = "{path}"']
        d.start(expect_ready=False)
        rc = d.wait_exit(10)
        log = d.log()
        assert rc != 0 and str(path) in log and word.replace("symbolic link", "character device") in log, log
    # The config file itself.
    for path, word in bad[:2]:
        r = subprocess.run([str(binary("mu-serverd")), "--config", str(path)], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0 and word in r.stderr and str(path) in r.stderr, r.stderr
    good = tmp_path / "pw"
    good.write_text("s3cret\n")
    d.auth = [f'admin_password_file = "{good}"']
    d.start()
    for i, (path, word) in enumerate(bad):
        d.auth = [f'admin_password_file = "{path}"']
        d.config()
        if i == 0:
            os.kill(d.proc.pid, signal.SIGHUP)  # the FIFO by SIGHUP: the loop must not block
            deadline = time.monotonic() + 5
            while d.log().count("reload refused") < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
        else:
            r = d.ctl("reload", check=False)
            assert r.returncode == 1 and str(path) in r.stderr, r.stderr
        assert d.log().count("reload refused, keeping the running configuration") == i + 1, d.log()
        assert answers(d)
    log = d.log()
    assert f"password file {bad[0][0]}: is a FIFO (named pipe), not a regular file" in log, log


def test_state_file_that_is_a_link_or_a_fifo_refuses_start(daemon, tmp_path):
    d = daemon().start()
    d.stop()
    newest = sorted(d.state_dir.glob("snapshot-*.snap"))[-1]
    newest.unlink()
    newest.symlink_to("/dev/zero")
    d.start(expect_ready=False)
    rc = d.wait_exit(10)
    log = d.log()
    assert rc != 0 and f"{newest} is a symbolic link" in log and "refusing to read it" in log, log
    newest.unlink()
    d.start()  # the older snapshot and its journals are still there
    d.stop()
    journal = sorted(d.state_dir.glob("journal-*.log"))[-1]
    journal.unlink()
    os.mkfifo(journal)
    d.start(expect_ready=False)
    rc = d.wait_exit(10)
    assert rc != 0 and f"{journal} is a FIFO" in d.log(), d.log()


@pytest.fixture
def shared_dir():
    """A directory other uids can traverse (pytest's tmp dirs are private to root)."""
    work = Path(tempfile.mkdtemp(prefix="mu-files-"))
    os.chmod(work, 0o755)
    yield work
    shutil.rmtree(work, ignore_errors=True)


def as_member(uid, *argv, **kw):
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", f"--groups={NOGROUP}", *argv],
                          capture_output=True, text=True, timeout=60, **kw)


def test_group_member_export_and_import_use_their_own_permissions(daemon, shared_dir):
    d = daemon(workdir=shared_dir, extra_control=['group = "nogroup"']).start()
    ctl = [str(binary("mu-ctl")), "--socket", str(d.socket)]
    mine = shared_dir / "mine"
    mine.mkdir()
    os.chown(mine, MEMBER_UID, MEMBER_UID)
    os.chmod(mine, 0o700)
    r = as_member(MEMBER_UID, *ctl, "export", str(mine / "out.db"))
    assert r.returncode == 0 and "exported" in r.stdout, r.stderr
    assert (mine / "out.db").stat().st_uid == MEMBER_UID
    assert os.listdir(mine) == ["out.db"]
    # A directory only root may write: the daemon (root) could, the member cannot.
    rootdir = shared_dir / "root-only"
    rootdir.mkdir()
    r = as_member(MEMBER_UID, *ctl, "export", str(rootdir / "out.db"))
    assert r.returncode == 1 and "Permission denied" in r.stderr, r.stderr
    assert os.listdir(rootdir) == []
    # A file only root may read: refused to the member, imported for root.
    path, _ = python_dumps(shared_dir / "seed.db", n=3)
    os.chmod(path, 0o600)
    r = as_member(MEMBER_UID, *ctl, "import", path)
    assert r.returncode == 1 and "Permission denied" in r.stderr, r.stderr
    assert "imported 3 nodes" in d.ctl("import", path).stdout


HOLDER = r"""
import json, socket, sys, time
path, tries = sys.argv[1], int(sys.argv[2])
held, refused = [], []
for _ in range(tries):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    try:
        s.sendall(bytes([0, 0, 0, 2, 0, 1]))
    except OSError:
        pass  # refused: the daemon wrote its refusal and closed
    data = s.recv(4096)
    if data[4] == 0:
        held.append(s)
    else:
        refused.append(data[7:].decode(errors="replace"))
print(json.dumps({"held": len(held), "refused": refused}), flush=True)
t0 = time.monotonic()
closed, last = 0, 0.0
for s in held:
    try:
        if s.recv(4096) == b"":
            closed += 1
            last = time.monotonic() - t0
    except OSError:
        pass
print(json.dumps({"closed": closed, "after": last}), flush=True)
"""


def test_one_uid_cannot_take_every_slot_and_idle_connections_close(daemon, shared_dir):
    d = daemon(workdir=shared_dir, extra_control=['group = "nogroup"']).start()
    holders, first = [], []
    for k in range(4):
        p = subprocess.Popen(["setpriv", f"--reuid={MEMBER_UID + k}", f"--regid={MEMBER_UID + k}",
                              f"--groups={NOGROUP}", sys.executable, "-c", HOLDER, str(d.socket), "6"],
                             stdout=subprocess.PIPE, text=True)
        holders.append(p)
        first.append(json.loads(p.stdout.readline()))
    # 4 per uid, and 14 of the 16 slots for group members altogether.
    assert [f["held"] for f in first] == [4, 4, 4, 2], first
    assert all("from uid" in m for f in first[:3] for m in f["refused"]), first
    assert all("kept for root" in m for m in first[3]["refused"]), first
    t = time.monotonic()
    st = d.ctl("--json", "status")
    assert json.loads(st.stdout)["ok"] is True
    assert answers(d)
    for p, f in zip(holders, first):
        out = json.loads(p.stdout.readline())
        p.wait(5)
        assert out["closed"] == f["held"], out
        assert IDLE_TIMEOUT_S - 1 < out["after"] < IDLE_TIMEOUT_S + 5, out
    assert time.monotonic() - t < IDLE_TIMEOUT_S + 5
    assert "closing idle connection from uid 12345" in d.log()


def test_an_import_at_start_that_is_not_a_regular_file_stops_the_start(daemon, tmp_path):
    for path, word in special_files(tmp_path):
        d = daemon(state_dir=tmp_path / f"state-{path.name}", extra_storage=[f'import = "{path}"'])
        d.start(expect_ready=False)
        rc = d.wait_exit(10)
        word = word.replace("symbolic link", "character device")  # the admin's link is followed
        assert rc != 0 and f"[storage] import {path}" in d.log() and word in d.log(), d.log()


def test_descriptors_sent_for_nothing_close_that_connection(daemon, tmp_path):
    d = daemon().start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(d.socket))
    s.sendall(frame(b"\x00\x01"))
    assert read_frame(s)[0] == 0
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        for _ in range(3):  # Users (variant 1) needs no file: the descriptors pile up
            try:
                socket.send_fds(s, [frame(b"\x01")], [fd])
            except OSError:
                break
        replies = 0
        while read_frame(s) is not None:
            replies += 1
        assert replies < 3
    finally:
        os.close(fd)
        s.close()
    d.wait_log("sent file descriptors nothing asked for")
    assert answers(d)
    d.ctl("status")  # and mu-ctl is served
