"""Times the REAL replication client's join through `mu-bench wan-proxy` (issue 16).

The `wan` phase's joiner is mu-bench's own client (exactly the replication client's wire
behaviour, ~10 us per node); this script runs the replication 0.9.10 client itself (the
conformance suite's `Peer`: interface.Session, porcelain, Repository, ttl.py) with the suite's
toy objects (~1 KiB each). A host uploads `--nodes` objects directly, then for each `--delay-ms` a fresh
joiner connects through a proxy with that one-way delay and is timed from its connect to
STATE_ACTIVE (login included: one round trip more than the bench's REQUEST_INIT-to-DONE).

    MU_SERVERD_BIN=target/release/mu-serverd MU_BENCH_BIN=target/release/mu-bench \\
      .venv/bin/python mu-bench/py/real_wan_join.py --server mu --nodes 10000 --delay-ms 0 25 75

Prints one line per join: server, nodes, RTT, seconds, ms per node. Every wait is bounded.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "conformance"))

import conftest as c  # noqa: E402  (the suite's Server, Wan, Peer, pump)
from replication import porcelain  # noqa: E402
from replication.constants import STATE_ACTIVE, STATE_LOBBY  # noqa: E402

import toy  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", choices=["mu", "reference"], default="mu")
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--delay-ms", type=int, nargs="+", default=[0, 25, 75])
    ap.add_argument("--timeout", type=float, default=900.0, help="per step, seconds")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the servers' logs")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="real-wan-join.")
    srv = c.Server(a.server, tmp, timeout_ms=10000)
    made = []
    try:
        host = c.Peer(srv, "host", admin=True)
        made.append(host)
        c.pump([host], lambda: host.state == STATE_LOBBY, timeout=30, what="LOBBY")
        objs = [toy.Obj(f"o{i}") for i in range(a.nodes - 1)]
        for o in objs:
            o.props["label"] = "x" * 700     # about 1 KiB per node, as the bench's nodes
        porcelain.add(host.repo, toy.Scene("scene", objs))
        t = time.monotonic()
        host.session.init()
        c.pump([host], lambda: host.state == STATE_ACTIVE, timeout=a.timeout, what="upload")
        print(f"# upload of {a.nodes} nodes by the real client: {time.monotonic() - t:.2f} s",
              flush=True)
        for d in a.delay_ms:
            w = c.Wan(srv, d, tmp)
            try:
                t = time.monotonic()
                j = c.Peer(w, f"joiner{d}")
                made.append(j)
                c.pump([j, host], lambda: j.state == STATE_ACTIVE, timeout=a.timeout,
                       what=f"join at {2 * d} ms")
                secs = time.monotonic() - t
                got = len(j.repo.object_store)
                print(f"{a.server} nodes={got} rtt_ms={2 * d} join_s={secs:.3f} "
                      f"ms_per_node={1000 * secs / max(got, 1):.3f}", flush=True)
                j.close()
            finally:
                w.stop()
    finally:
        for p in made:
            p.close()
        srv.stop()
        if a.keep_tmp:
            print(f"# logs in {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
