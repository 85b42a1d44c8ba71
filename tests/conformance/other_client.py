"""A real client of another replication release than the test process's, run as a subprocess
with that release's interpreter (test_versions.py: a 0.9.10 client next to 0.9.9 ones).

    other_client.py PORT NAME host    log in as admin, upload a scene, print "ACTIVE", then hold
                                      the session until stdin closes
    other_client.py PORT NAME login   log in, print "ADMITTED <state>" or "REFUSED <reason>"

Every wait is bounded."""

import sys
import types

from replication.constants import STATE_ACTIVE, STATE_INITIAL, STATE_LOBBY

from conftest import ADMIN_PWD, Peer, host, pump

port, name, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
server = types.SimpleNamespace(port=port, admin_password=ADMIN_PWD, server_password=None,
                               timeout_ms=2000)
made = []


def make(srv, who, **kw):
    p = Peer(srv, who, **kw)
    made.append(p)
    return p


try:
    if mode == "host":
        host(server, make, name=name)
        print("ACTIVE", flush=True)
        sys.stdin.read()            # until the test closes our stdin (or dies)
    else:
        p = make(server, name)
        pump([p], lambda: p.state in (STATE_INITIAL, STATE_LOBBY, STATE_ACTIVE) and
             (p.state != STATE_INITIAL or p.exit_reason is not None), timeout=10, what="an answer")
        if p.state == STATE_INITIAL:
            print("REFUSED", p.exit_reason, flush=True)
        else:
            print("ADMITTED", p.state, flush=True)
finally:
    for p in made:
        p.close()
