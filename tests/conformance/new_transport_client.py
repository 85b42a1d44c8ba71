"""A replication 0.9.12+ client (single-port TCP transport, no ZeroMQ) doing what the addon
does against a server: ask for the server info, then try to join with a real Session. Run by
test_versions.py with the .venv-0103 interpreter; prints one line per step. Bounded in time."""

import sys
import time

from replication import __version__, porcelain
from replication.interface import Session
from replication.repository import Repository

import toy

port, seconds = int(sys.argv[1]), float(sys.argv[2])
try:
    info = porcelain.request_session_info(f"127.0.0.1:{port}", timeout=1000)
except Exception as e:  # what the addon shows the user when the server does not answer
    info = f"{type(e).__name__}: {e}"
print(f"replication {__version__} info: {info}", flush=True)

repo = Repository(rdp=toy.make_protocol(toy.World()), username="newcomer")
porcelain.remote_add(repo, "origin", "127.0.0.1", port)
session = Session()
try:
    session.connect(repository=repo, timeout=1000)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and session.state not in (0,):
        try:
            session.listen(timeout=0)
        except Exception as e:
            print(f"listen: {type(e).__name__}: {e}", flush=True)
            break
        time.sleep(0.01)
    print(f"state after {seconds}s: {session.state}", flush=True)
finally:
    ttl = getattr(session, "_ttl", None)
    if ttl is not None and ttl.poll() is None:
        ttl.kill()
        ttl.wait(3)
